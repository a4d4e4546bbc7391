// What went wrong with the state database, in words an operator can act on.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A problem with the state database that callers report (exit 19) rather than crash on. */
export class DatabaseError extends Error {
  override name = "DatabaseError";
}

export type StorageKind = "full" | "readonly" | "damaged" | "io" | "locked" | "cantopen";

export interface StorageProblem {
  kind: StorageKind;
  /** SQLite's (or the OS's) own words. */
  message: string;
  /** What the operator can do about it. */
  advice: string;
}

/** SQLite's conditions as node:sqlite words them (it gives no error code), most specific first. */
const CONDITIONS: { kind: StorageKind; match: RegExp; advice: string }[] = [
  {
    kind: "full",
    match: /database or disk is full|no space left on device|ENOSPC/i,
    advice:
      "free space on the file system that holds it; the next run finds again what this one could not store",
  },
  {
    kind: "readonly",
    match: /readonly database|read-only file system|EROFS|permission denied|EACCES/i,
    advice: "make the data directory writable for this user (or run as its owner), or use another --data-dir",
  },
  {
    kind: "damaged",
    match: /malformed|file is not a database|no such (table|column)|SQLITE_CORRUPT|SQLITE_NOTADB/i,
    advice: "the database is damaged: move it aside with --reset-state (the next run is a new baseline)",
  },
  {
    kind: "io",
    match: /disk I\/O error|SQLITE_IOERR|EIO/i,
    advice: "check the disk (the kernel log says more)",
  },
  {
    kind: "locked",
    match: /database (table )?is locked|SQLITE_BUSY/i,
    advice: "another process held it longer than the busy timeout; try again",
  },
  {
    kind: "cantopen",
    match: /unable to open database file|SQLITE_CANTOPEN|ENOENT|no such file or directory/i,
    advice: "check that the data directory exists and that this user may create files in it",
  },
];

/**
 * The storage problem behind `e`, or undefined when `e` is not one (a bug, an abort). With `dir` (where the
 * database is), an I/O error is looked into: SQLite says "disk I/O error" where the OS said "no space left"
 * (growing its -shm file), and the operator must hear that the disk is full.
 */
export function storageProblem(e: unknown, dir?: string): StorageProblem | undefined {
  const message = e instanceof Error ? e.message : String(e);
  const c = CONDITIONS.find((c) => c.match.test(message));
  if (c?.kind === "io" && dir) {
    const full = noSpaceIn(dir);
    if (full) return { kind: "full", message: `${message} (${full})`, advice: CONDITIONS[0].advice };
  }
  return c && { kind: c.kind, message, advice: c.advice };
}

/** "no space left on device" when a small file cannot be written in `dir` for want of space. */
function noSpaceIn(dir: string): string | undefined {
  const probe = join(dir, `.ctagent-space-probe-${Deno.pid}`);
  try {
    writeFileSync(probe, new Uint8Array(256 * 1024));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOSPC") return "no space left on device";
  } finally {
    try {
      rmSync(probe, { force: true });
    } catch { /* nothing to remove */ }
  }
  return undefined;
}
