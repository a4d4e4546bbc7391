// The change records `--once --json` prints, kept on disk until printed: a scratch SQLite file in the data
// directory, one row per record, read back in key order a page at a time. Held in memory, 17,800 changes took
// 55-70 MB more than the text output (which keeps 200); a million would not have fit in V8's heap. A daemon
// answering `--once --json` writes one for each asker (agent/run_requests.ts), who reads and removes it.
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { closeSync, copyFileSync, linkSync, openSync, readdirSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** Names of spill files (in the data directory beside the state database, each with a random UUID between). */
const PREFIX = "once-changes-";
const SUFFIX = ".db";

export class ChangeSpill {
  readonly path: string;
  readonly #db: DatabaseSync;
  #insert?: StatementSync;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
  }

  /** A new spill file in `dir` (0600: records hold captured contents of files others may not read). */
  static create(dir: string): ChangeSpill {
    const path = join(dir, `${PREFIX}${crypto.randomUUID()}${SUFFIX}`);
    try {
      closeSync(openSync(path, "wx", 0o600));
      const db = new DatabaseSync(path);
      // Scratch: no syncs (a crash loses the file, which the run's printing alone needed); a journal in memory,
      // so that a run's records can be taken back (each run's are one transaction, flush its end).
      db.exec("PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF");
      // The index is kept as rows come (no sort at the end: SQLite's sorter would spill to /var/tmp).
      db.exec(
        "CREATE TABLE c (run TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL); CREATE INDEX c_key ON c (run, key)",
      );
      return new ChangeSpill(path, db);
    } catch (e) {
      rmSync(path, { force: true });
      throw new Error(`cannot keep the change records for --json in ${path}: ${(e as Error).message}`);
    }
  }

  /** A spill another process wrote (the daemon, for a `--once` that asked it), to read. */
  static open(path: string): ChangeSpill {
    try {
      return new ChangeSpill(path, new DatabaseSync(path, { readOnly: true }));
    } catch (e) {
      throw new Error(`cannot read the change records in ${path}: ${(e as Error).message}`);
    }
  }

  /**
   * Keeps `record` (JSON) as one of run `run`'s, under `key`. A failure takes back every record added since the
   * last flush (a run's: the run fails and stores nothing, so they are reported again).
   */
  add(run: string, key: string, record: unknown): void {
    try {
      if (!this.#db.isTransaction) this.#db.exec("BEGIN");
      this.#insert ??= this.#db.prepare("INSERT INTO c (run, key, body) VALUES (?, ?, ?)");
      this.#insert.run(run, key, JSON.stringify(record));
    } catch (e) {
      throw this.#failed(e);
    }
  }

  /** What was added is kept (and can be read by another process). A failure takes it back, as add's. */
  flush(): void {
    if (!this.#db.isTransaction) return;
    try {
      this.#db.exec("COMMIT");
    } catch (e) {
      throw this.#failed(e);
    }
  }

  #failed(e: unknown): Error {
    try {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
    } catch { /* SQLite took it back itself */ }
    return new Error(`cannot keep the change records for --json in ${this.path}: ${(e as Error).message}`);
  }

  /**
   * Run `run`'s records as JSON texts, `size` at a time, in key order (SQLite's: code point order, as keyOrder
   * and the items table; records of one key in the order they came). Small pages: a page lives while its records
   * are printed, long enough for V8 to move it to its old space, which only a full collection empties (pages of
   * 500 had 17,800 changes peak 25 MB higher).
   */
  *pages(run: string, size = 100): Generator<string[]> {
    this.flush();
    const first = this.#db.prepare(
      "SELECT rowid AS id, key, body FROM c WHERE run = ? ORDER BY key, rowid LIMIT ?",
    );
    const next = this.#db.prepare(
      "SELECT rowid AS id, key, body FROM c WHERE run = ? AND (key, rowid) > (?, ?) ORDER BY key, rowid LIMIT ?",
    );
    let rows = first.all(run, size) as { id: number; key: string; body: string }[];
    while (rows.length) {
      yield rows.map((r) => r.body);
      if (rows.length < size) return;
      const last = rows[rows.length - 1];
      rows = next.all(run, last.key, last.id, size) as typeof rows;
    }
  }

  /** Writes what was added (another process reads the file) and closes it. */
  close(): void {
    if (!this.#db.isOpen) return;
    this.flush();
    this.#db.close();
  }

  /** Closes and deletes the file (one already gone is no error); what was added is dropped. */
  remove(): void {
    if (this.#db.isOpen) this.#db.close(); // an open transaction ends with the connection
    rmSync(this.path, { force: true });
  }
}

/** Whether `name` (a file name) is a spill file's. */
export function isSpillName(name: string): boolean {
  return name.startsWith(PREFIX) && name.endsWith(SUFFIX);
}

/** The file name of a spill (what the daemon's answer holds; the asker finds it in its own data directory). */
export function spillName(spill: ChangeSpill): string {
  return basename(spill.path);
}

/**
 * The name of another file with the closed spill's records (a hard link, or a copy where links cannot be made),
 * for a second reader that removes its own when done.
 */
export function spillLink(spill: ChangeSpill): string {
  const name = `${PREFIX}${crypto.randomUUID()}${SUFFIX}`;
  const to = join(dirname(spill.path), name);
  try {
    linkSync(spill.path, to);
  } catch {
    try {
      copyFileSync(spill.path, to);
    } catch (e) {
      rmSync(to, { force: true });
      throw new Error(`cannot keep the change records for --json in ${to}: ${(e as Error).message}`);
    }
  }
  return name;
}

/**
 * Removes the spill files in `dir` older than `olderThanMs` that `keep` does not name: left by a `--once` that
 * was killed, or written by the daemon for an asker that read it or never came. A file that cannot be removed
 * yet (open on Windows) is tried again next time. Returns the names removed.
 */
export function removeSpills(dir: string, keep: ReadonlySet<string>, olderThanMs: number, now = Date.now()) {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!isSpillName(name) || keep.has(name)) continue;
    try {
      const path = join(dir, name);
      if (now - statSync(path).mtimeMs < olderThanMs) continue;
      rmSync(path, { force: true });
      removed.push(name);
    } catch { /* gone meanwhile, or still open: next time */ }
  }
  return removed;
}
