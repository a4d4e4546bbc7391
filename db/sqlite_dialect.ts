// Adapts node:sqlite's DatabaseSync to the interface Kysely's SqliteDialect expects.
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { type Dialect, SqliteDialect } from "kysely";

interface KyselyStatement {
  readonly reader: boolean;
  all(parameters: readonly unknown[]): unknown[];
  run(parameters: readonly unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  iterate(parameters: readonly unknown[]): IterableIterator<unknown>;
}

function params(values: readonly unknown[]): SQLInputValue[] {
  // Kysely hands booleans through as-is; SQLite stores them as integers.
  return values.map((v) => typeof v === "boolean" ? (v ? 1 : 0) : v as SQLInputValue);
}

function wrap(stmt: StatementSync): KyselyStatement {
  return {
    reader: stmt.columns().length > 0,
    // node:sqlite returns null-prototype rows; callers expect ordinary objects.
    all: (p) => stmt.all(...params(p)).map((row) => ({ ...row })),
    run: (p) => {
      const r = stmt.run(...params(p));
      return { changes: r.changes, lastInsertRowid: r.lastInsertRowid };
    },
    iterate: (p) => stmt.iterate(...params(p)) as IterableIterator<unknown>,
  };
}

/** A Kysely dialect over an already opened node:sqlite database. */
export function nodeSqliteDialect(db: DatabaseSync): Dialect {
  return new SqliteDialect({
    database: {
      prepare: (sql: string) => wrap(db.prepare(sql)),
      close: () => db.close(),
    },
  });
}
