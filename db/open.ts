// Opens (and migrates) the state database: node:sqlite through Kysely, WAL journal.
import { DatabaseSync } from "node:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { Kysely } from "kysely";
import { type Migration, type MigrationProvider, Migrator } from "kysely/migration";
import { nodeSqliteDialect } from "./sqlite_dialect.ts";
import { migrations } from "./migrations/mod.ts";
import type { Database } from "./schema.ts";

export type Db = Kysely<Database>;

export class DatabaseError extends Error {
  override name = "DatabaseError";
}

export interface OpenedDb {
  db: Db;
  /** The underlying connection, for the few places that need synchronous access. */
  raw: DatabaseSync;
  path: string;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** How long a statement waits for another process's lock before it fails (default BUSY_TIMEOUT_MS). */
  busyTimeoutMs?: number;
}

/**
 * How long a statement waits for another process's lock. Readers never wait for a writer in WAL mode; what
 * waits is a write (a migration, a `--once` next to the daemon) behind another process's transaction, and the
 * longest one, a 200k-file baseline, commits in ~11 s.
 */
export const BUSY_TIMEOUT_MS = 30_000;

const provider: MigrationProvider = {
  getMigrations: (): Promise<Record<string, Migration>> => Promise.resolve(migrations),
};

/** SQLite's SQLITE_BUSY / SQLITE_LOCKED, as node:sqlite words them (it gives no error code). */
export const isBusy = (e: unknown): boolean => /database (table )?is locked|SQLITE_BUSY/i.test(String(e));

/** Migrations this program has that the database has not run (all of them for a new database). */
function pending(raw: DatabaseSync): string[] {
  const known = raw.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kysely_migration'")
    .get();
  if (!known) return Object.keys(migrations);
  const done = new Set(
    raw.prepare("SELECT name FROM kysely_migration").all().map((r) => (r as { name: string }).name),
  );
  return Object.keys(migrations).filter((m) => !done.has(m));
}

/**
 * Runs the pending migrations as one write transaction. BEGIN IMMEDIATE takes the write lock first (waiting
 * the busy timeout for it), so two processes opening a new database never both create its tables; the one
 * that waited finds nothing left to do. A lock that outlasts the timeout is tried again until `deadline`.
 */
async function migrate(db: Db, raw: DatabaseSync, path: string, deadline: number): Promise<void> {
  for (;;) {
    try {
      raw.exec("BEGIN IMMEDIATE");
    } catch (e) {
      if (isBusy(e) && Date.now() < deadline) continue;
      throw e;
    }
    try {
      if (pending(raw).length) {
        // Kysely runs SQLite migrations on the connection without a transaction of its own: they join ours.
        const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
        if (error) {
          const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "?";
          throw new DatabaseError(`Cannot migrate database ${path} (migration ${failed}): ${String(error)}`, {
            cause: error,
          });
        }
      }
      raw.exec("COMMIT");
      return;
    } catch (e) {
      if (raw.isTransaction) raw.exec("ROLLBACK");
      throw e;
    }
  }
}

/** Opens the database at `path` (":memory:" for tests), applies pending migrations. */
export async function openDb(path: string, opts: OpenOptions = {}): Promise<OpenedDb> {
  const busyTimeoutMs = opts.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
  let raw: DatabaseSync;
  try {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    raw = new DatabaseSync(path);
  } catch (e) {
    throw new DatabaseError(`Cannot open database ${path}: ${(e as Error).message}`, { cause: e });
  }
  const db = new Kysely<Database>({ dialect: nodeSqliteDialect(raw) });
  try {
    // The busy timeout first: every later statement, switching to WAL included, waits its turn for a lock.
    raw.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
    raw.exec("PRAGMA journal_mode = WAL");
    raw.exec("PRAGMA synchronous = NORMAL");
    raw.exec("PRAGMA foreign_keys = ON");
    if (pending(raw).length) await migrate(db, raw, path, Date.now() + 2 * busyTimeoutMs);
  } catch (e) {
    await db.destroy();
    if (e instanceof DatabaseError) throw e;
    throw new DatabaseError(`Cannot open database ${path}: ${(e as Error).message}`, { cause: e });
  }
  return { db, raw, path, close: () => db.destroy() };
}
