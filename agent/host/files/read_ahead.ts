// The walk's side of its read-ahead thread (listing_worker.ts): starts it, and hands the walk the listing of a
// directory when the thread made it, else nothing (the walk lists it itself). A listing is taken only when it is
// of the very directory the walk means (same device and inode): the thread's walk and this one each go by their
// own directory fds, so what one saw of a directory is what the other would have seen a moment earlier.
//
// The walk waits for a listing the thread has not put yet, as long as the thread keeps up; once it did not within
// WAIT_MS (a busy machine, a slow disk), the two share the work: a directory the thread has not read yet the walk
// lists itself, and tells the thread where it is, so the thread goes past it instead of reading it too. (Sharing
// from the start was slower on two cores, where the two threads' system calls compete for the same cores.) Whatever
// goes wrong on the thread's side (it cannot start, falls behind, fails) leaves the walk as it was without it.
//
// A subtree the last run kept (collectors/files/subtrees.ts) the walk goes past when it is the same: the thread put
// its END with the digest of what it read (subtree(), skipSubtree()), or left it to the walk (DELEGATED), which,
// with nothing else to do while the thread reads on, reads it here the same way (digestHere()): an unchanged tree
// is read by both threads at once, and nothing of it is compared file by file.
import * as libc from "./libc_posix.ts";
import type { DirEntry } from "./libc_posix.ts";
import { keyOrder } from "../../key_order.ts";
import {
  CONTROL_WORDS,
  keptDigest,
  type Listing,
  ListingReader,
  Position,
  POSITION_BYTES,
  RING_BYTES,
  ringMayHold,
  RUNNING,
  STARTED,
  STATE,
  STOP,
  USED,
} from "./listing_ring.ts";
import { digestOf, type ReadAheadInit } from "./tree_reader.ts";
import { dirPrefix } from "./walk_limits.ts";

/**
 * How long the walk waits for the thread's first listing (its start: ~10 ms in the compiled program; a thread slower
 * to start catches up with the walk, going past what it did), and for a later one.
 */
export const FIRST_WAIT_MS = 100;
export const WAIT_MS = 50;
/** How long stop() waits for the thread to close its fds and end. */
const STOP_WAIT_MS = 2000;

/** What a walk's read-ahead came to (tests, benches). */
export interface ReadAheadStats {
  /** Listings the walk took, and ones it passed (of directories it did not enter, or not the ones it meant). */
  taken: number;
  passed: number;
  /** Directories the walk listed itself while the thread ran, the thread not there yet. */
  here: number;
  /** Waits for the thread that ran out (then the walk waits no more, and the two share the work). */
  timedOut: number;
  /**
   * Subtrees the walk went past unread (skipSubtree), ones too big for the ring to tell ahead (subtree), and ones
   * the thread left to the walk.
   */
  skipped: number;
  tooBig: number;
  delegated: number;
}

export interface ReadAheadOptions {
  /** The thread's module (tests). */
  workerUrl?: string;
  /** The ring's size (default RING_BYTES; tests make it small, so that records go round it). */
  ringBytes?: number;
  /** How long to wait for the thread's start (default FIRST_WAIT_MS; tests: `deno test` type-checks it first). */
  firstWaitMs?: number;
  /** Whether the walk waits for every listing the thread has not made yet, however long (tests). */
  waitAlways?: boolean;
  /** The tree the thread reads instead of the walk's own (tests: listings of other directories are not taken). */
  real?: string;
  /** Filled as the walk goes. */
  stats?: ReadAheadStats;
  /** The subtrees the last run kept (paths, items under each): the thread leaves some to the walk (DELEGATED). */
  kept?: [string, number][];
  /** Whether the thread leaves every kept subtree to the walk, waiting or not (tests). */
  delegateAlways?: boolean;
}

/** subtree()'s answer for a subtree the thread left to the walk: the walk reads it (digestHere). */
export const DELEGATED: unique symbol = Symbol("delegated");

export const newReadAheadStats = (): ReadAheadStats => ({
  taken: 0,
  passed: 0,
  here: 0,
  timedOut: 0,
  skipped: 0,
  tooBig: 0,
  delegated: 0,
});

/** Where a thread begins reading ahead: its walk's first directory, and the deepest the walk enters. */
export type ReadAheadStart = Omit<ReadAheadInit, "control" | "ring" | "position">;

/** Whether `v` (parsed from text kept between runs) is a ReadAheadStart. */
export function isReadAheadStart(v: unknown): v is ReadAheadStart {
  const s = v as ReadAheadStart;
  return typeof s === "object" && s !== null && typeof s.path === "string" && typeof s.real === "string" &&
    typeof s.follow === "boolean" && Number.isInteger(s.depth) && Number.isInteger(s.maxDepth);
}

const sameStart = (a: ReadAheadStart, b: ReadAheadStart) =>
  a.path === b.path && a.real === b.real && a.follow === b.follow && a.depth === b.depth &&
  a.maxDepth === b.maxDepth;

/**
 * The ring of a thread begun before its walk: what it reads meanwhile waits there. A `--once` rescan of /usr
 * (119k files) with the thread begun ~60 ms before its walk, alternated 8 times in a slow hour: 1.53-1.92 s
 * (median 1.63) with 4 MB, 1.61-1.91 s (median 1.72) with 1 MB, against 1.68-1.80 s (median 1.74) with the
 * walk's own thread.
 */
export const BEGUN_RING_BYTES = 4 << 20;

/**
 * A thread begun before its walk (a `--once` rescan begins the one its last run read ahead as soon as it holds
 * the data directory): taken by the walk that starts where it does, else stopped.
 */
export class BegunReadAhead {
  #ahead: ReadAhead | undefined;
  #taken = false;
  constructor(readonly start: ReadAheadStart, opts: ReadAheadOptions = {}) {
    this.#ahead = new ReadAhead(start, { ringBytes: BEGUN_RING_BYTES, ...opts });
  }

  /** The thread, for the walk that begins at `start` (once); undefined for any other, or once taken or stopped. */
  take(start: ReadAheadStart): ReadAhead | undefined {
    if (!sameStart(start, this.start) || !this.#ahead) return undefined;
    const ahead = this.#ahead;
    this.#ahead = undefined;
    this.#taken = true;
    return ahead;
  }

  /** Whether a walk took the thread. */
  get taken(): boolean {
    return this.#taken;
  }

  /** Stops the thread unless a walk took it (the walk stops it). */
  stop(): void {
    this.#ahead?.stop();
    this.#ahead = undefined;
  }
}

/** Begins reading ahead from `start` before its walk. */
export const beginReadAhead = (start: ReadAheadStart, opts?: ReadAheadOptions): BegunReadAhead =>
  new BegunReadAhead(start, opts);

export class ReadAhead {
  readonly #control: Int32Array;
  readonly #reader: ListingReader;
  readonly #position: Position;
  readonly #worker: Worker;
  #head: Listing | undefined;
  /** Not waited for the thread's first listing yet. */
  #starting = true;
  /** The thread kept up so far: the walk waits for it (else they share the work). */
  #keepsUp = true;
  /** Set off when the thread failed or was stopped. */
  #on = true;
  readonly #stats: ReadAheadStats;
  readonly #maxDepth: number;
  readonly #firstWaitMs: number;
  readonly #waitAlways: boolean;
  readonly #ringBytes: number;

  constructor(init: ReadAheadStart, opts: ReadAheadOptions = {}) {
    this.#stats = opts.stats ?? newReadAheadStats();
    this.#firstWaitMs = opts.firstWaitMs ?? FIRST_WAIT_MS;
    this.#waitAlways = opts.waitAlways ?? false;
    const control = new SharedArrayBuffer(CONTROL_WORDS * 4);
    this.#ringBytes = opts.ringBytes ?? RING_BYTES;
    const ring = new SharedArrayBuffer(this.#ringBytes);
    const position = new SharedArrayBuffer(POSITION_BYTES);
    this.#control = new Int32Array(control);
    this.#reader = new ListingReader(this.#control, new Uint8Array(ring));
    this.#position = new Position(position);
    this.#worker = new Worker(opts.workerUrl ?? new URL("./listing_worker.ts", import.meta.url).href, {
      type: "module",
    });
    // An error ends the thread; the walk goes on alone.
    this.#worker.onerror = (e) => {
      e.preventDefault();
      this.#on = false;
    };
    this.#maxDepth = init.maxDepth;
    this.#worker.postMessage(
      {
        ...init,
        real: opts.real ?? init.real,
        control,
        ring,
        position,
        kept: opts.kept,
        delegateAlways: opts.delegateAlways,
      } satisfies ReadAheadInit,
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
    // Compared where their contents sort: the thread puts listings in the order the walk enters directories.
    const key = dirPrefix(path, "/");
    for (;;) {
      const h = this.#head ?? (this.#head = this.#first());
      if (!h) {
        // The thread is not there yet: the walk lists it, and the thread goes past it.
        if (this.#running()) {
          this.#position.write(path);
          this.#stats.here++;
        }
        return undefined;
      }
      if (h.end) {
        this.#passEnd(h);
        continue;
      }
      const order = keyOrder(dirPrefix(h.path, "/"), key);
      // A directory after this one: the thread has not this one (it could not read it, or it changed).
      if (order > 0) return undefined;
      this.#head = undefined;
      let mine = false;
      // A directory left to the walk has no listing here (mine stays false).
      if (order === 0 && !h.delegated) {
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

  /** Whether the ring may hold a subtree of `items` entries whole (else subtree() cannot see its END in time). */
  mayHold(items: number): boolean {
    return ringMayHold(this.#ringBytes, items);
  }

  /**
   * The digest of the subtree of the directory at `path` (`st`: the stat of its entry) if the thread read all of
   * it (`links`: a symlink in it is no matter), its listing next in line for the walk; else undefined (the thread
   * could not read all of it, or the ring cannot hold it all). Waits while the thread puts it, as for a listing.
   */
  subtree(path: string, st: libc.Stat, links: boolean): string | typeof DELEGATED | undefined {
    let h = this.#head ?? (this.#head = this.#first());
    // The ends of subtrees the walk went through.
    while (h?.end) {
      this.#passEnd(h);
      h = this.#head = this.#first();
    }
    if (h?.delegated && h.path === path) {
      this.#stats.delegated++;
      this.#head = undefined;
      this.#reader.done();
      return DELEGATED;
    }
    if (!h || h.broken || h.delegated || h.path !== path || h.dev !== st.dev || h.ino !== st.ino) {
      return undefined;
    }
    return this.#endOf(path, st, links);
  }

  /**
   * The digest of the subtree of the directory `fd` (at `path`, `depth`) that the thread left to the walk, read
   * here as the thread would have (`links`: as subtree()); each directory's identity ("dev:ino") goes to `entered`.
   */
  digestHere(fd: number, path: string, depth: number, links: boolean, entered: string[]): string | undefined {
    const d = digestOf(fd, path, depth, this.#maxDepth, (self) => {
      const s = libc.parseStatx(self);
      entered.push(`${s.dev}:${s.ino}`);
    });
    return keptDigest(d, links);
  }

  /**
   * The digest of the subtree of the directory at `path` (`st`: the stat of its entry), which the walk went
   * through with the thread's listings, if the thread read all of it (as subtree()); else undefined.
   */
  walked(path: string, st: libc.Stat, links: boolean): string | undefined {
    return this.#endOf(path, st, links);
  }

  /** The digest in the END record of `path`, as soon as the thread put it; undefined once it went on without. */
  #endOf(path: string, st: libc.Stat, links: boolean): string | undefined {
    const reader = this.#reader, prefix = dirPrefix(path, "/");
    for (;;) {
      // Read before looking: a record put meanwhile ends the wait at once.
      const used = Atomics.load(this.#control, USED);
      reader.scanEnds();
      const end = reader.ends.get(path);
      if (end) {
        return end.dev === st.dev && end.ino === st.ino && (links || !end.links) ? end.digest : undefined;
      }
      // The thread went on past the subtree (some of it unread), or stopped.
      const at = reader.lastPath();
      if (at !== undefined && !at.startsWith(prefix) && keyOrder(dirPrefix(at, "/"), prefix) > 0) {
        return undefined;
      }
      if (!this.#running()) return undefined;
      if (reader.full()) {
        this.#stats.tooBig++;
        return undefined;
      }
      if (Atomics.wait(this.#control, USED, used, WAIT_MS) === "timed-out") return undefined;
    }
  }

  /** Passes the END record `h` (the head): the end of a subtree the walk went through; nothing to take. */
  #passEnd(h: Listing): void {
    this.#head = undefined;
    this.#reader.ends.delete(h.path);
    this.#reader.done();
  }

  /**
   * Goes past the subtree of the directory at `path` (its digest from subtree(): the walk does not read it), up to
   * its END; `entered` is told each directory's identity ("dev:ino") in it.
   */
  skipSubtree(path: string, entered: (id: string) => void): void {
    for (;;) {
      const h = this.#head ?? this.#reader.next();
      this.#head = undefined;
      // subtree() saw its END in the ring: every record up to it is there.
      if (!h) throw new Error(`read_ahead: the end of ${path} is not in the ring`);
      if (h.end) this.#reader.ends.delete(h.path);
      else if (!h.delegated) entered(`${h.dev}:${h.ino}`);
      this.#reader.done();
      if (h.end && h.path === path) {
        this.#stats.skipped++;
        return;
      }
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
      // The rest of the directory is being put: waited for.
      l = this.#next(WAIT_MS);
      // The thread stopped inside the directory: what it listed of it is not all of it.
      if (!l) return undefined;
    }
  }

  /** A directory's first record: waited for while the thread keeps up, else taken if there. */
  #first(): Listing | undefined {
    if (!this.#keepsUp) return this.#reader.next();
    const ms = this.#starting || this.#waitAlways ? this.#firstWaitMs : WAIT_MS;
    this.#starting = false;
    const l = this.#next(ms);
    if (!l && this.#running() && !this.#waitAlways) {
      this.#keepsUp = false;
      this.#stats.timedOut++;
    }
    return l;
  }

  /** The next record, waiting up to `ms` for it while the thread runs. */
  #next(ms: number): Listing | undefined {
    for (;;) {
      const l = this.#reader.next();
      if (l || !this.#running()) return l ?? this.#reader.next();
      if (Atomics.wait(this.#control, USED, 0, ms) === "timed-out") return this.#reader.next();
    }
  }

  /** Whether the thread is reading ahead (not done, failed, or stopped). */
  #running(): boolean {
    return this.#on && Atomics.load(this.#control, STATE) === RUNNING;
  }

  #stopping(): void {
    this.#on = false;
    Atomics.store(this.#control, STOP, 1);
    Atomics.notify(this.#control, USED);
  }

  /** Stops the thread (it closes its fds first) and ends it. */
  stop(): void {
    this.#stopping();
    // One that began may hold directory fds: it closes them as it stops (one that did not will not begin).
    if (Atomics.load(this.#control, STARTED)) Atomics.wait(this.#control, STATE, RUNNING, STOP_WAIT_MS);
    this.#worker.terminate();
  }
}
