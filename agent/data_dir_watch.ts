// Notices the state database going away under the daemon (its data directory deleted), and writes the state back.
import { dirname } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { fileStamp } from "../db/open.ts";

/** The file a path names now: device and inode, or null when there is none. */
function identity(path: string): string | null {
  try {
    const st = Deno.statSync(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}

export interface FileWatch {
  /** Resolves when `path` no longer names the file it named at the start. */
  changed: Promise<void>;
  isChanged(): boolean;
  stop(): void;
}

/**
 * Looks every `intervalMs` whether `path` still names the database the daemon has open. An open file that
 * was deleted lives on for its process only: everything written to it from then on is lost when it exits.
 */
export function watchDatabaseFile(path: string, intervalMs = 2000): FileWatch {
  const start = identity(path);
  let changed = false;
  let resolve!: () => void;
  const promise = new Promise<void>((r) => resolve = r);
  const isChanged = () => {
    if (!changed && identity(path) !== start) {
      changed = true;
      resolve();
    }
    return changed;
  };
  const timer = setInterval(isChanged, intervalMs);
  return { changed: promise, isChanged, stop: () => clearInterval(timer) };
}

/**
 * Writes the open database `raw` (all it holds: items, history, the outbox) to `path` again, or beside it when
 * another file took that name meanwhile. Returns what happened, for the log; throws when it cannot be written.
 */
export function writeStateBack(raw: DatabaseSync, path: string, now = new Date()): string {
  Deno.mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const taken = identity(path) !== null;
  const target = taken ? `${path}.orphan-${fileStamp(now)}` : path;
  raw.prepare("VACUUM INTO ?").run(target);
  return taken
    ? `${path} was replaced while the daemon ran; the daemon's state was saved to ${target}`
    : `the data directory ${
      dirname(path)
    } was deleted while the daemon ran; its state was written back to ${path}`;
}
