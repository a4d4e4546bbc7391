// Write transactions: BEGIN IMMEDIATE, and a rollback that never hides the error that caused it.
import type { DatabaseSync } from "node:sqlite";
import { CompiledQuery, type DatabaseConnection, type Driver, type Kysely } from "kysely";
import type { Database } from "./schema.ts";

/*
 * Why IMMEDIATE: a deferred transaction that reads first and writes later cannot wait for another process's
 * write lock in WAL mode (SQLite answers SQLITE_BUSY at once, whatever the busy timeout); one that takes the
 * write lock as it begins waits its turn. Why the rollback checks: on SQLITE_FULL, SQLITE_IOERR and the like
 * SQLite has already rolled the transaction back, and a ROLLBACK then fails with "cannot rollback - no
 * transaction is active", an error that would replace the real one.
 */

/**
 * Runs `fn` in a write transaction on `raw`: committed when it returns, rolled back when it throws. One that
 * writes only temporary tables (`tempOnly`) needs no lock on the database and takes none.
 */
export function rawTransaction<T>(raw: DatabaseSync, fn: () => T, opts: { tempOnly?: boolean } = {}): T {
  raw.exec(opts.tempOnly ? "BEGIN" : "BEGIN IMMEDIATE");
  try {
    const result = fn();
    raw.exec("COMMIT");
    return result;
  } catch (e) {
    if (raw.isTransaction) raw.exec("ROLLBACK");
    throw e;
  }
}

/** Kysely's SQLite driver with IMMEDIATE transactions and a rollback only while one is open. */
export function immediateDriver(driver: Driver, raw: DatabaseSync): Driver {
  return {
    init: () => driver.init(),
    acquireConnection: () => driver.acquireConnection(),
    beginTransaction: async (c: DatabaseConnection) => {
      await c.executeQuery(CompiledQuery.raw("BEGIN IMMEDIATE"));
    },
    commitTransaction: (c) => driver.commitTransaction(c),
    rollbackTransaction: async (c) => {
      if (raw.isTransaction) await driver.rollbackTransaction(c);
    },
    savepoint: driver.savepoint && ((c, n, q) => driver.savepoint!(c, n, q)),
    rollbackToSavepoint: driver.rollbackToSavepoint && ((c, n, q) => driver.rollbackToSavepoint!(c, n, q)),
    releaseSavepoint: driver.releaseSavepoint && ((c, n, q) => driver.releaseSavepoint!(c, n, q)),
    releaseConnection: (c) => driver.releaseConnection(c),
    destroy: () => driver.destroy(),
  };
}

/**
 * Runs `fn` (synchronous work on the raw connection) while holding Kysely's connection: no other query (a run's
 * transaction in progress) can be open on the shared connection meanwhile, so `fn` never reads a transaction
 * half-written nor joins one.
 */
export function exclusive<T>(db: Kysely<Database>, fn: () => T): Promise<T> {
  return db.connection().execute(() => Promise.resolve().then(fn));
}
