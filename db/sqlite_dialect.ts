// Adapts node:sqlite's DatabaseSync to the interface Kysely's SqliteDialect expects.
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { type Dialect, SqliteDialect } from "kysely";
import { immediateDriver } from "./transaction.ts";
import { forgetStatements, statement } from "./statements.ts";

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

function wrap(db: DatabaseSync, sql: string, stmt: StatementSync): KyselyStatement {
  return {
    reader: stmt.columns().length > 0,
    // node:sqlite returns null-prototype rows; callers expect ordinary objects.
    all: (p) => stmt.all(...params(p)).map((row) => ({ ...row })),
    run: (p) => {
      const r = stmt.run(...params(p));
      return { changes: r.changes, lastInsertRowid: r.lastInsertRowid };
    },
    // An iteration may still be open when the same SQL runs again: it gets a statement of its own.
    iterate: (p) => db.prepare(sql).iterate(...params(p)) as IterableIterator<unknown>,
  };
}

/**
 * A Kysely dialect over an already opened node:sqlite database. Its statements are the connection's own cached
 * ones (`statement()`): Kysely prepares a statement for every query, and node:sqlite frees one only when V8
 * collects its small wrapper, so a daemon's runs, each asking the same queries, would otherwise pile up compiled
 * statements. (A query whose text depends on a count, such as a multi-row insert, is a statement per count: the
 * run's writers use one-row statements instead, db/changes.ts.) Only the Kysely-shaped wrapper is kept here, for as long as its statement lives.
 */
export function nodeSqliteDialect(db: DatabaseSync): Dialect {
  const wrappers = new WeakMap<StatementSync, KyselyStatement>();
  const dialect = new SqliteDialect({
    database: {
      prepare(sql: string) {
        const stmt = statement(db, sql);
        let wrapped = wrappers.get(stmt);
        if (!wrapped) wrappers.set(stmt, wrapped = wrap(db, sql, stmt));
        return wrapped;
      },
      close: () => {
        forgetStatements(db);
        db.close();
      },
    },
  });
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => immediateDriver(dialect.createDriver(), db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (k) => dialect.createIntrospector(k),
  };
}
