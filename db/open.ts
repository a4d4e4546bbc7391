// Opens (and migrates) the state database: node:sqlite through Kysely, WAL journal.
import { DatabaseSync } from "node:sqlite";
import { chmodSync, closeSync, mkdirSync, openSync, renameSync } from "node:fs";
import { dirname } from "node:path";
import { Kysely } from "kysely";
import { type Migration, type MigrationProvider, Migrator } from "kysely/migration";
import { nodeSqliteDialect } from "./sqlite_dialect.ts";
import { migrations, SCHEMA_OBJECTS } from "./migrations/mod.ts";
import type { Database } from "./schema.ts";
import { DatabaseError, storageProblem } from "./errors.ts";

export type Db = Kysely<Database>;

export { DatabaseError };

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
  /**
   * Apply pending migrations (default true). False for a process that does not own the state (a `--once`
   * next to the daemon): a database that needs them is then an error, not migrated under the owner's feet.
   */
  migrate?: boolean;
  /** Only read (a read-only data directory): nothing is created, migrated or written. */
  readOnly?: boolean;
  /** The ctagent version opening it: recorded when it migrates, named when a newer one wrote the database. */
  version?: string;
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

/** SQLite's SQLITE_BUSY / SQLITE_LOCKED, as node:sqlite words them (it gives no error code). */
const isBusy = (e: unknown): boolean => /database (table )?is locked|SQLITE_BUSY/i.test(String(e));

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
async function migrate(
  db: Db,
  raw: DatabaseSync,
  path: string,
  version: string,
  deadline: number,
): Promise<void> {
  for (;;) {
    try {
      raw.exec("BEGIN IMMEDIATE");
    } catch (e) {
      if (isBusy(e) && performance.now() < deadline) continue;
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
        raw.exec(`PRAGMA user_version = ${versionNumber(version)}`);
      }
      raw.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
      raw.exec("COMMIT");
      return;
    } catch (e) {
      if (raw.isTransaction) raw.exec("ROLLBACK");
      throw e;
    }
  }
}

/**
 * Switches the database to WAL. While another process holds the write lock of a database still in rollback
 * mode (another openDb switching the same new file), SQLite answers the switch "database is locked" at once,
 * without the busy timeout (waiting could deadlock, in its view); the other's switch or migration ends, so
 * the switch is tried again, with a short pause, until `deadline`.
 */
async function useWal(raw: DatabaseSync, deadline: number): Promise<void> {
  for (;;) {
    try {
      raw.exec("PRAGMA journal_mode = WAL");
      return;
    } catch (e) {
      if (!isBusy(e) || performance.now() >= deadline) throw e;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** PRAGMA application_id of a ctagent database: "ctag". */
const APPLICATION_ID = 0x63746167;
/**
 * PRAGMA user_version holds the ctagent version that last migrated the database, major·10⁶ + minor·10³ +
 * patch (0: unknown): what an older ctagent names when it finds migrations it does not know. In the file's
 * header, not in a table, so it is there whatever a newer schema looks like.
 */
function versionNumber(version: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})/.exec(version);
  return m ? Number(m[1]) * 1_000_000 + Number(m[2]) * 1_000 + Number(m[3]) : 0;
}

function versionText(n: number): string | undefined {
  return n > 0 ? `${Math.floor(n / 1_000_000)}.${Math.floor(n / 1_000) % 1_000}.${n % 1_000}` : undefined;
}

/** The names of the tables (and views) of the open database. */
function tablesOf(raw: DatabaseSync): string[] {
  return raw.prepare(
    "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name",
  ).all().map((r) => (r as { name: string }).name);
}

/** What reaching for the database aside means, said once for every refusal. */
const RESET = "move it aside with --reset-state (the next run is then a new baseline)";

/**
 * Whether the database at `path` is ctagent's, before anything is written to it: ours by its application_id,
 * a new (empty) one, or one an older ctagent made (no application_id yet, but our migrations table). Throws
 * for anything else (a foreign SQLite database, a file that is no database, one a newer ctagent wrote), so
 * that nothing of it is touched, not even its journal mode.
 */
function identify(raw: DatabaseSync, path: string, version: string): { marked: boolean } {
  let appId: number, tables: string[];
  try {
    appId = Number((raw.prepare("PRAGMA application_id").get() as { application_id: number }).application_id);
    tables = tablesOf(raw);
  } catch (e) {
    if (!/not a database/i.test(String(e))) throw e;
    throw new DatabaseError(
      `${path} is not a SQLite database (${(e as Error).message}): use another --data-dir, or ${RESET}`,
    );
  }
  const ours = appId === APPLICATION_ID ||
    (appId === 0 && (tables.length === 0 || tables.includes("kysely_migration") && tables.includes("items")));
  if (!ours) {
    throw new DatabaseError(
      `${path} is not a ctagent database (tables: ${
        tables.join(", ") || "none"
      }; application_id ${appId}): ` +
        `use another --data-dir, or ${RESET}`,
    );
  }
  if (tables.includes("kysely_migration")) {
    const done = raw.prepare("SELECT name FROM kysely_migration ORDER BY name").all()
      .map((r) => (r as { name: string }).name);
    const unknown = done.filter((m) => !(m in migrations));
    if (unknown.length) {
      const header = raw.prepare("PRAGMA user_version").get() as { user_version: number };
      const v = versionText(Number(header.user_version));
      const writer = v ? `ctagent ${v}` : "a newer ctagent";
      throw new DatabaseError(
        `${path} was written by ${writer} (migration ${
          unknown.join(", ")
        }), newer than this one (${version}): ` +
          `run that version or a newer one, or ${RESET}`,
      );
    }
  }
  return { marked: appId === APPLICATION_ID };
}

/** The tables, indexes and triggers of a database, as SCHEMA_OBJECTS names them ("type name"). */
export function schemaObjects(raw: DatabaseSync): string[] {
  return (raw.prepare(
    "SELECT type || ' ' || name AS o FROM sqlite_master WHERE type IN ('table', 'index', 'trigger') " +
      "AND name NOT LIKE 'sqlite_%'",
  ).all() as { o: string }[]).map((r) => r.o);
}

/** Throws, naming them, when schema objects of ours are missing (a table dropped by hand, say). */
function checkSchema(raw: DatabaseSync, path: string): void {
  const have = new Set(schemaObjects(raw));
  const missing = SCHEMA_OBJECTS.filter((o) => !have.has(o));
  if (missing.length) {
    throw new DatabaseError(
      `${path} is damaged: ${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} missing: ${RESET}`,
    );
  }
}

/**
 * Opens a database this process cannot write (a read-only data directory): as it is, or, when SQLite cannot
 * open it read-only in WAL mode because its -wal and -shm files are absent and cannot be made, as immutable
 * (nothing is in a -wal that does not exist).
 */
function openReadOnly(path: string): DatabaseSync {
  try {
    const raw = new DatabaseSync(path, { readOnly: true });
    raw.prepare("SELECT 1 FROM sqlite_master LIMIT 1").get();
    return raw;
  } catch (e) {
    if (/disk I\/O error/i.test(String(e))) return fullDiskReader(path, e);
    if (!/unable to open/i.test(String(e))) throw e;
    return new DatabaseSync(`file:${encodeURI(path)}?immutable=1`, { readOnly: true });
  }
}

/**
 * A full disk leaves no room for the -shm file every WAL reader maps. With no -wal, or an empty one, nothing can
 * be outside the database file, and it is read as immutable (`ctagent status` on a full disk); otherwise `first`
 * is thrown (a reader without the -shm could miss what the -wal holds).
 */
function fullDiskReader(path: string, first: unknown): DatabaseSync {
  let walBytes = 0;
  try {
    walBytes = Deno.statSync(`${path}-wal`).size;
  } catch {
    // No -wal: everything is in the database file.
  }
  if (walBytes > 0) throw first;
  return new DatabaseSync(`file:${encodeURI(path)}?immutable=1`, { readOnly: true });
}

/** Why the database at `path` cannot be opened, with what to do when the cause is the storage's. */
function openError(path: string, e: unknown): DatabaseError {
  const problem = path === ":memory:" ? undefined : storageProblem(e, dirname(path));
  return new DatabaseError(
    `Cannot open database ${path}: ${
      problem ? `${problem.message}: ${problem.advice}` : (e as Error).message
    }`,
    { cause: e },
  );
}

/** The connection under each Db opened here (openDb, openReader). */
const connections = new WeakMap<Db, DatabaseSync>();

/**
 * Opens the database at `path` (":memory:" for tests) and applies pending migrations. Refuses, with a
 * DatabaseError that names the path and what to do, a database that is not ctagent's, one a newer ctagent
 * wrote, and one whose tables are missing.
 */
export async function openDb(path: string, opts: OpenOptions = {}): Promise<OpenedDb> {
  const busyTimeoutMs = opts.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
  const version = opts.version ?? "unknown";
  let raw: DatabaseSync;
  try {
    if (opts.readOnly) raw = openReadOnly(path);
    else {
      if (path !== ":memory:") keepPrivate(path);
      raw = new DatabaseSync(path);
    }
  } catch (e) {
    throw openError(path, e);
  }
  const db = new Kysely<Database>({ dialect: nodeSqliteDialect(raw) });
  try {
    // The busy timeout first: every later statement, switching to WAL included, waits its turn for a lock.
    raw.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
    const { marked } = identify(raw, path, version);
    if (opts.readOnly && tablesOf(raw).length === 0) {
      // Nothing was ever stored (a first run that could not write): that reads as an empty state.
      await db.destroy();
      return await openDb(":memory:", { version });
    }
    if (!opts.readOnly) {
      await useWal(raw, performance.now() + 2 * busyTimeoutMs);
      raw.exec("PRAGMA synchronous = NORMAL");
    }
    raw.exec("PRAGMA foreign_keys = ON");
    const todo = pending(raw);
    if (todo.length && (opts.migrate === false || opts.readOnly)) {
      throw new DatabaseError(
        `Cannot use database ${path}: it needs migration ${todo.join(", ")}, and this process may not ` +
          `migrate it${opts.readOnly ? " (it cannot write there)" : ""}`,
      );
    }
    if (todo.length || (!marked && !opts.readOnly)) {
      // Elapsed time (performance.now), not the wall clock: a clock set back would stretch the wait.
      await migrate(db, raw, path, version, performance.now() + 2 * busyTimeoutMs);
    }
    checkSchema(raw, path);
  } catch (e) {
    await db.destroy();
    if (e instanceof DatabaseError) throw e;
    throw openError(path, e);
  }
  connections.set(db, raw);
  return { db, raw, path, close: () => db.destroy() };
}

/**
 * The node:sqlite connection under `db` (opened by openDb or openReader), for reads that Kysely would slow down:
 * every item of a collector, in rows as arrays (db/items.ts itemFieldPages, itemTextPages).
 */
export function connectionOf(db: Db): DatabaseSync {
  const raw = connections.get(db);
  if (!raw) throw new Error("connectionOf: a Db not opened by openDb or openReader");
  return raw;
}

/**
 * Gives back the pages the connection keeps cached (`PRAGMA shrink_memory`: the unused ones; a transaction in
 * flight keeps those it changed): after the daemon's first runs on the default DCR, 1.4 MB of the C heap
 * (in use: 8.5 -> 7.1 MB, measured with glibc's malloc_stats). The next run reads them again, from the OS's cache.
 * Nothing to do for a closed connection.
 */
export function releaseCache(raw: DatabaseSync): void {
  if (raw.isOpen) raw.exec("PRAGMA shrink_memory");
}

/** `20261204T120000Z`: a time for a file name. */
export function fileStamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

/**
 * Moves the database at `path` aside (`--reset-state`): renamed with its -wal and -shm beside it, so the copy
 * stays whole and can be opened or sent for analysis. Returns the new name, or undefined when there was none.
 */
export function moveDatabaseAside(path: string, now = new Date()): string | undefined {
  const aside = `${path}.reset-${fileStamp(now)}`;
  try {
    renameSync(path, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  for (const suffix of ["-wal", "-shm"]) {
    try {
      renameSync(path + suffix, aside + suffix);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }
  return aside;
}

/**
 * A second connection to an opened database, for readers that must not wait behind the writer (the page while
 * a baseline's transaction is open): WAL lets it read the last committed state meanwhile. It never migrates
 * and cannot write (query_only).
 */
export function openReader(path: string): OpenedDb {
  let raw: DatabaseSync;
  try {
    raw = new DatabaseSync(path);
    raw.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    raw.exec("PRAGMA query_only = ON");
  } catch (e) {
    throw new DatabaseError(`Cannot open database ${path} for reading: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const db = new Kysely<Database>({ dialect: nodeSqliteDialect(raw) });
  connections.set(db, raw);
  return { db, raw, path, close: () => db.destroy() };
}
