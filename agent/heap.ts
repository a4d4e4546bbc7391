// Gives the garbage of a big run back at once, so a daemon's memory stays near what it holds (issues 12 and 18).
//
// V8 collects old garbage only once its heap reaches a limit it raises after each collection. A run that makes
// thousands of records leaves megabytes behind, and in a storm (a realtime run every few seconds) or after a
// scan the heap, and with it RSS, grew by 10-15 MB before V8 collected it. A full collection also resets the
// limit to what is live. It is done only when the heap grew by `threshold` since the last one, so the small runs
// of single writes never pay for it.
// `gc` exists when V8 runs with --expose-gc (build/v8_flags.ts, which `deno task start` and the executable use);
// without it (a plain `deno run`) no collection is made.
// The C heap's free pages go back to the OS too (host/memory.ts), after a collection and otherwise at most every
// `TRIM_EVERY_MS` after a run: what SQLite, Deno and module loading freed outside V8's heap stays resident in
// malloc's arenas until then. An idle daemon on the default DCR, `--no-realtime`: 133.8 MB RSS without, 109.4 MB
// with; with realtime on, 108 MB and 104-105 MB. A trim costs 0.02 ms when there is nothing to give back, ~7 ms
// for 64 MB.
import { trimNativeHeap } from "./host/memory.ts";

/** What a collection needs: V8's collector and the heap's size now. */
export interface HeapControl {
  gc?: () => void;
  heapUsed: () => number;
  /** Gives the C heap's free memory back to the OS. */
  trim?: () => void;
}

/** A little over what a 1,000-file realtime run leaves: smaller runs wait for the next big one, or V8. */
export const RUN_GARBAGE_BYTES = 8 * 1024 * 1024;
/** Runs closer together than this (a realtime storm) share one trim: their memory is about to be used again. */
export const TRIM_EVERY_MS = 10_000;

const v8: HeapControl = {
  gc: (globalThis as { gc?: () => void }).gc,
  heapUsed: () => Deno.memoryUsage().heapUsed,
  trim: trimNativeHeap,
};

/**
 * After a run: collects when the heap grew by `threshold` since the last collection, and says whether it did;
 * trims after a collection, or when the last trim is `trimEveryMs` old.
 */
export function heapCollector(
  control: HeapControl = v8,
  threshold = RUN_GARBAGE_BYTES,
  now: () => number = Date.now,
  trimEveryMs = TRIM_EVERY_MS,
): () => boolean {
  let after = control.heapUsed();
  let trimmed = -Infinity;
  const trim = () => {
    control.trim?.();
    trimmed = now();
  };
  return () => {
    const collect = !!control.gc && control.heapUsed() - after >= threshold;
    if (collect) {
      control.gc!();
      after = control.heapUsed();
    }
    if (collect || now() - trimmed >= trimEveryMs) trim();
    return collect;
  };
}
