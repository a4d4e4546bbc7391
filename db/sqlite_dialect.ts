// Adapts node:sqlite's DatabaseSync to the interface Kysely's SqliteDialect expects.
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { type Dialect, SqliteDialect } from "kysely";
import { immediateDriver } from "./transaction.ts";

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

/** Most prepared statements kept for reuse. */
const CACHE_SIZE = 128;

/**
 * A Kysely dialect over an already opened node:sqlite database. Prepared statements are reused by SQL text:
 * Kysely prepares a statement for every query, and node:sqlite frees one only when V8 collects its small
 * wrapper, so the 500-row inserts of a big run otherwise pile up hundreds of MB of compiled statements.
 */
export function nodeSqliteDialect(db: DatabaseSync): Dialect {
  const cache = new Map<string, KyselyStatement>();
  const dialect = new SqliteDialect({
    database: {
      prepare(sql: string) {
        let stmt = cache.get(sql);
        if (stmt) {
          cache.delete(sql); // most recently used goes last
        } else {
          stmt = wrap(db, sql, db.prepare(sql));
          if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
        }
        cache.set(sql, stmt);
        return stmt;
      },
      close: () => {
        cache.clear();
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

/** A statement that returns rows as arrays (much faster for big reads; not yet in node:sqlite's types). */
export function arrays(stmt: StatementSync): StatementSync {
  (stmt as StatementSync & { setReturnArrays(on: boolean): void }).setReturnArrays(true);
  return stmt;
}
