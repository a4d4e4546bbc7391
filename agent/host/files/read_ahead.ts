// The walk's side of its read-ahead thread (listing_worker.ts): starts it, and hands the walk the listing of the
// directory it has just opened when the thread made it, else nothing (the walk lists it itself). A listing is taken
// only when it is of the very directory the walk holds open (same device and inode): the thread's walk and this
// one each go by their own directory fds, so what one saw of a directory is what the other would have seen a moment
// earlier. Whatever goes wrong on the thread's side (it cannot start, falls behind, fails) leaves the walk as it
// was without it.
import * as libc from "./libc_posix.ts";
import type { DirEntry } from "./libc_posix.ts";
import { keyOrder } from "../../key_order.ts";
import {
  CONTROL_WORDS,
  type Listing,
  ListingReader,
  RING_BYTES,
  RUNNING,
  STARTED,
  STATE,
  STOP,
  USED,
} from "./listing_ring.ts";
import type { ReadAheadInit } from "./listing_worker.ts";

/**
 * How long the walk waits for the thread's first listing (its start: ~10 ms in the compiled program, longer on a
 * busy machine), and for a later one, before going on alone.
 */
export const FIRST_WAIT_MS = 2000;
export const WAIT_MS = 50;
/** How long stop() waits for the thread to close its fds and end. */
const STOP_WAIT_MS = 2000;

/** What a walk's read-ahead came to (tests, benches). */
export interface ReadAheadStats {
  /** Listings the walk took, and ones it passed (of directories it did not enter, or not the ones it meant). */
  taken: number;
  passed: number;
  /** Whether the walk stopped waiting for the thread (it had not started, or fell behind). */
  gaveUp: boolean;
}

export interface ReadAheadOptions {
  /** The thread's module (tests). */
  workerUrl?: string;
  /** The ring's size (default RING_BYTES; tests make it small, so that records go round it). */
  ringBytes?: number;
  /** How long to wait for the thread's start (default FIRST_WAIT_MS; tests: `deno test` type-checks it first). */
  firstWaitMs?: number;
  /** The tree the thread reads instead of the walk's own (tests: listings of other directories are not taken). */
  real?: string;
  /** Filled as the walk goes. */
  stats?: ReadAheadStats;
}

export class ReadAhead {
  readonly #control: Int32Array;
  readonly #reader: ListingReader;
  readonly #worker: Worker;
  #head: Listing | undefined;
  #waited = false;
  /** Still worth waiting for: set off when the thread fell behind, failed or was stopped. */
  #on = true;
  readonly #stats: ReadAheadStats;
  readonly #firstWaitMs: number;

  constructor(init: Omit<ReadAheadInit, "control" | "ring">, opts: ReadAheadOptions = {}) {
    this.#stats = opts.stats ?? { taken: 0, passed: 0, gaveUp: false };
    this.#firstWaitMs = opts.firstWaitMs ?? FIRST_WAIT_MS;
    const control = new SharedArrayBuffer(CONTROL_WORDS * 4);
    const ring = new SharedArrayBuffer(opts.ringBytes ?? RING_BYTES);
    this.#control = new Int32Array(control);
    this.#reader = new ListingReader(this.#control, new Uint8Array(ring));
    this.#worker = new Worker(opts.workerUrl ?? new URL("./listing_worker.ts", import.meta.url).href, {
      type: "module",
    });
    // An error ends the thread; the walk goes on alone (its next wait times out at worst).
    this.#worker.onerror = (e) => {
      e.preventDefault();
      this.#on = false;
    };
    this.#worker.postMessage(
      { ...init, real: opts.real ?? init.real, control, ring } satisfies ReadAheadInit,
    );
  }

  /** The listing of the directory at `path` (open as `fd`) if the thread made it, else undefined. */
  take(path: string, fd: number): DirEntry[] | undefined {
    return this.#find(path, () => libc.fstat(fd));
  }

  /**
   * The listing of the directory at `path` if the thread made it and it is of the directory `st` (the stat of
   * its entry, from its parent's listing), else undefined.
   */
  listing(path: string, st: libc.Stat): DirEntry[] | undefined {
    return this.#find(path, () => st);
  }

  #find(path: string, identity: () => libc.Stat): DirEntry[] | undefined {
    for (;;) {
      const h = this.#head ?? (this.#head = this.#next());
      if (!h) return undefined;
      const order = keyOrder(h.path, path);
      // A directory after this one: the thread has not this one (it could not read it, or it changed).
      if (order > 0) return undefined;
      this.#head = undefined;
      let mine = false;
      if (order === 0) {
        try {
          const self = identity();
          mine = self.dev === h.dev && self.ino === h.ino;
        } catch {
          // Its identity unknown: the walk lists it itself.
        }
      }
      // One the walk did not enter (a limit, a pattern), or not the directory it means: passed.
      const entries = this.#whole(h, mine);
      if (entries) this.#stats.taken++;
      else this.#stats.passed++;
      if (order === 0) return entries;
    }
  }

  /** The entries of `first` and of the records that go on with it (`keep`: else only passed). */
  #whole(first: Listing, keep: boolean): DirEntry[] | undefined {
    const out: DirEntry[] = [];
    for (let l: Listing | undefined = first;;) {
      if (l.broken) keep = false;
      if (keep) this.#reader.entries(l, out);
      this.#reader.done();
      if (!l.more) return keep ? out : undefined;
      l = this.#next();
      // The thread stopped inside the directory: what it listed of it is not all of it.
      if (!l) return undefined;
    }
  }

  /** The next record, waiting for it while the thread runs and keeps up. */
  #next(): Listing | undefined {
    for (;;) {
      const l = this.#reader.next();
      if (l || !this.#on) return l;
      if (Atomics.load(this.#control, STATE) !== RUNNING) {
        // Done: what it put before saying so is there to read.
        this.#on = false;
        return this.#reader.next();
      }
      const waited = Atomics.wait(this.#control, USED, 0, this.#waited ? WAIT_MS : this.#firstWaitMs);
      this.#waited = true;
      if (waited === "timed-out") {
        // Not started yet, or fallen behind the walk: the walk goes on alone.
        this.#on = false;
        this.#stats.gaveUp = true;
        Atomics.store(this.#control, STOP, 1);
        Atomics.notify(this.#control, USED);
        return this.#reader.next();
      }
    }
  }

  /** Stops the thread (it closes its fds first) and ends it. */
  stop(): void {
    this.#on = false;
    Atomics.store(this.#control, STOP, 1);
    Atomics.notify(this.#control, USED);
    // One that began may hold directory fds: it closes them as it stops (one that did not will not begin).
    if (Atomics.load(this.#control, STARTED)) Atomics.wait(this.#control, STATE, RUNNING, STOP_WAIT_MS);
    this.#worker.terminate();
  }
}
