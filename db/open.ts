// Opens (and migrates) the state database: node:sqlite through Kysely, WAL journal.
import { DatabaseSync } from "node:sqlite";
import { chmodSync, closeSync, mkdirSync, openSync } from "node:fs";
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

const provider: MigrationProvider = {
  getMigrations: (): Promise<Record<string, Migration>> => Promise.resolve(migrations),
};

/**
 * The database holds captured contents of files others may not read: it is made 0600 in a 0700 directory
 * (SQLite gives its -wal and -shm files the database file's mode), and an existing one is made 0600 again.
 */
function keepPrivate(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (Deno.build.os === "windows") return;
  try {
    closeSync(openSync(path, "a", 0o600));
  } catch { /* a read-only file system: opening says what is wrong */ }
  for (const f of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      chmodSync(f, 0o600);
    } catch { /* absent, or read-only */ }
  }
}

/** Opens the database at `path` (":memory:" for tests), applies pending migrations. */
export async function openDb(path: string): Promise<OpenedDb> {
  let raw: DatabaseSync;
  try {
    if (path !== ":memory:") keepPrivate(path);
    raw = new DatabaseSync(path);
    raw.exec("PRAGMA journal_mode = WAL");
    raw.exec("PRAGMA synchronous = NORMAL");
    raw.exec("PRAGMA busy_timeout = 5000");
    raw.exec("PRAGMA foreign_keys = ON");
  } catch (e) {
    throw new DatabaseError(`Cannot open database ${path}: ${(e as Error).message}`, { cause: e });
  }
  const db = new Kysely<Database>({ dialect: nodeSqliteDialect(raw) });
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) {
    await db.destroy();
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "?";
    throw new DatabaseError(`Cannot migrate database ${path} (migration ${failed}): ${String(error)}`, {
      cause: error,
    });
  }
  return { db, raw, path, close: () => db.destroy() };
}
