// Gives the garbage of a big run back at once, so a daemon's memory stays near what it holds (issues 12 and 18).
//
// V8 collects old garbage only once its heap reaches a limit it raises after each collection. A run that makes
// thousands of records leaves megabytes behind, and in a storm (a realtime run every few seconds) or after a
// scan the heap, and with it RSS, grew by 10-15 MB before V8 collected it. A full collection also resets the
// limit to what is live. It is done only when the heap grew by `threshold` since the last one, so the small runs
// of single writes never pay for it.
// `gc` exists when V8 runs with --expose-gc (build/v8_flags.ts, which `deno task start` and the executable use);
// without it (a plain `deno run`) no collection is made.
// What the process holds outside V8's heap and no longer uses goes back to the OS too (host/memory.ts): the C
// heap's free pages, which SQLite, Deno and module loading freed and malloc keeps, and the executable's pages a
// run touched. That trim is made after a collection, and otherwise at most every `TRIM_EVERY_MS`: runs closer
// together (the daemon's first runs, a realtime storm) share one, made `TRIM_EVERY_MS` after the last. An idle
// daemon on the default DCR, `--no-realtime`, with the C heap's trim: 133.8 MB RSS without, 109.4 MB with; with
// realtime on, 108 MB and 104-105 MB; the executable's pages given back too, 45 s after start: 95-97 MB before,
// 64-70 MB after (the bundle). Just before it, what else keeps memory for reuse may let it go (`beforeTrim`: the
// daemon's database connection, its page cache). A trim costs a few ms (/proc/self/smaps is ~180 kB to read), ~7 ms
// more for 64 MB of C heap. While runs last it is made too (`running()`), for `--once` as for the daemon: a long
// run otherwise keeps what start-up touched.
import { releaseUnusedMemory } from "./host/memory.ts";

/** What a collection needs: V8's collector and the heap's size now. */
export interface HeapControl {
  gc?: () => void;
  heapUsed: () => number;
  /** Gives the memory the process holds and does not use back to the OS. */
  trim?: () => void;
}

/** A little over what a 1,000-file realtime run leaves: smaller runs wait for the next big one, or V8. */
export const RUN_GARBAGE_BYTES = 8 * 1024 * 1024;
/** Runs closer together than this (a realtime storm) share one trim: their memory is about to be used again. */
export const TRIM_EVERY_MS = 10_000;
/**
 * How long after a run began its second trim is made: by then the run started its threads (hash workers, the
 * walk's read-ahead), each of which went through module loading again (the executable's start-up code, mapped
 * back). The hash pool also lets those pages go as soon as each of its workers is ready (host/files/hash.ts).
 */
export const RUN_SETTLED_MS = 1_000;

const v8: HeapControl = {
  gc: (globalThis as { gc?: () => void }).gc,
  heapUsed: () => Deno.memoryUsage().heapUsed,
  trim: releaseUnusedMemory,
};

export interface HeapCollectorOptions {
  control?: HeapControl;
  /** Heap growth since the last collection that makes the next one. */
  threshold?: number;
  now?: () => number;
  trimEveryMs?: number;
  /** Calls `fn` in `ms` (a timer that keeps no process alive); the answer cancels it. */
  later?: (fn: () => void, ms: number) => () => void;
  /** What else lets go of memory it keeps for reuse, just before each trim (the database's page cache). */
  beforeTrim?: () => void;
}

function unrefTimer(fn: () => void, ms: number): () => void {
  const id = setTimeout(fn, ms);
  Deno.unrefTimer(id);
  return () => clearTimeout(id);
}

export interface HeapCollector {
  /**
   * After a run: collects when the heap grew by the threshold since the last collection, and says whether it
   * did; trims after a collection, or when the last trim is `trimEveryMs` old, or else once it is.
   */
  afterRun(): boolean;
  /**
   * A run begins; the answer says it ended (call it before afterRun). While runs last, what the process holds and
   * does not use goes back too: when the first one begins and `RUN_SETTLED_MS` later, then every `trimEveryMs`
   * (when the last trim is younger than `trimEveryMs`, from `trimEveryMs` after it: runs close together, as in a
   * realtime storm, share the trims as before). Otherwise a long run (the baseline of a big tree) holds, for as
   * long as it lasts, the executable's pages that start-up touched and it never uses again: ~20 MB of its peak
   * (issue 18: a first scan of /usr, 148-151 MB peak RSS without, 124-131 MB with).
   * The database connection's cache is not given back then: the run uses it.
   */
  running(): () => void;
  /** Cancels a trim still to come; later runs trim only when they may at once. */
  stop(): void;
}

export function heapCollector(opts: HeapCollectorOptions = {}): HeapCollector {
  const {
    control = v8,
    threshold = RUN_GARBAGE_BYTES,
    now = Date.now,
    trimEveryMs = TRIM_EVERY_MS,
    later = unrefTimer,
    beforeTrim,
  } = opts;
  let after = control.heapUsed();
  let trimmed = -Infinity;
  let pending: (() => void) | undefined;
  let stopped = false;
  /** Runs begun and not ended; the timer of the next trim while there are any. */
  let busy = 0;
  let during: (() => void) | undefined;
  const cancel = () => {
    pending?.();
    pending = undefined;
  };
  /** The process's trim alone (during a run: the database's cache is in use). */
  const trimProcess = () => {
    control.trim?.();
    trimmed = now();
  };
  const trim = () => {
    cancel();
    beforeTrim?.();
    trimProcess();
  };
  const trimDuring = (next: number) => {
    during = later(() => {
      trimProcess();
      trimDuring(trimEveryMs);
    }, next);
  };
  return {
    running() {
      if (busy++ === 0 && !stopped) {
        const since = now() - trimmed;
        if (since >= trimEveryMs) {
          trimProcess();
          trimDuring(RUN_SETTLED_MS);
        } else trimDuring(trimEveryMs - since);
      }
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        if (--busy > 0) return;
        during?.();
        during = undefined;
      };
    },
    afterRun() {
      const collect = !!control.gc && control.heapUsed() - after >= threshold;
      if (collect) {
        control.gc!();
        after = control.heapUsed();
      }
      if (collect || now() - trimmed >= trimEveryMs) trim();
      else if (!stopped) pending ??= later(trim, trimmed + trimEveryMs - now());
      return collect;
    },
    stop() {
      stopped = true;
      cancel();
      during?.();
      during = undefined;
    },
  };
}
