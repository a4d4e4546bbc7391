// One process at a time owns a data directory's state (collects, writes runs, delivers the outbox): an OS file lock.
import { join } from "node:path";

/** Who holds the state lock, written beside it for the processes that find it taken. */
export interface Holder {
  pid: number;
  mode: "daemon" | "once";
  /** Epoch ms the lock was taken. */
  since: number;
  version: string;
  /** What it collects: `--root` (null: this machine), `--dcr` (null: AMA, last good or built-in), the OS. */
  root: string | null;
  dcr: string | null;
  os: string;
  /** It runs the collectors when a `--once` asks (see agent/run_requests.ts). */
  takesRequests: boolean;
}

export interface StateLock {
  dir: string;
  holder: Holder;
  release(): void;
}

export const LOCK_FILE = "ctagent.lock";
/** The holder's description: a file of its own, because Windows lets nobody else read a locked file. */
export const HOLDER_FILE = "ctagent.lock.json";

/**
 * Takes the lock of `dir` if it is free; otherwise says who holds it (undefined when that cannot be read).
 * The lock is the kernel's (flock / LockFileEx): a process that dies, even by kill -9, no longer holds it.
 */
export function tryLock(dir: string, holder: Holder): { lock: StateLock } | { busy: Holder | undefined } {
  Deno.mkdirSync(dir, { recursive: true });
  const file = Deno.openSync(join(dir, LOCK_FILE), { read: true, write: true, create: true });
  if (!file.tryLockSync(true)) {
    file.close();
    return { busy: readHolder(dir) };
  }
  // Best effort: a full disk must not stop the owner; the others then only know the lock is taken.
  try {
    const tmp = join(dir, `${HOLDER_FILE}.${holder.pid}.tmp`);
    Deno.writeTextFileSync(tmp, JSON.stringify(holder));
    Deno.renameSync(tmp, join(dir, HOLDER_FILE));
  } catch { /* see above */ }
  let held = true;
  return {
    lock: {
      dir,
      holder,
      release() {
        if (!held) return;
        held = false;
        try {
          Deno.removeSync(join(dir, HOLDER_FILE));
        } catch { /* already gone (the directory was deleted) */ }
        file.close(); // closing releases the lock
      },
    },
  };
}

/** The holder's description, or undefined when it is missing or unreadable. */
export function readHolder(dir: string): Holder | undefined {
  try {
    const h = JSON.parse(Deno.readTextFileSync(join(dir, HOLDER_FILE)));
    return typeof h?.pid === "number" && (h.mode === "daemon" || h.mode === "once") ? h : undefined;
  } catch {
    return undefined;
  }
}

/** "ctagent --once (pid 123, since 10:02:03)" */
export function describeHolder(h: Holder | undefined): string {
  if (!h) return "another ctagent process";
  const since = new Date(h.since).toISOString().slice(11, 19);
  return `${
    h.mode === "daemon" ? "the ctagent daemon" : "ctagent --once"
  } (pid ${h.pid}, since ${since} UTC)`;
}

/**
 * Takes the lock of `dir`, waiting while another process holds it. `onBusy` is told who holds it (each time
 * that is new to it) and says whether to go on waiting; undefined when it said no.
 */
export async function lockWhenFree(
  dir: string,
  holder: Holder,
  opts: { onBusy(h: Holder | undefined): boolean; signal?: AbortSignal; pollMs?: number },
): Promise<StateLock | undefined> {
  for (;;) {
    const r = tryLock(dir, holder);
    if ("lock" in r) return r.lock;
    if (!opts.onBusy(r.busy)) return undefined;
    opts.signal?.throwIfAborted();
    await new Promise((resolve) => setTimeout(resolve, opts.pollMs ?? 250));
  }
}
