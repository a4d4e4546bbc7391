// Gives the garbage of a big run back at once, so a daemon's memory stays near what it holds (issues 12 and 18).
//
// V8 collects old garbage only once its heap reaches a limit it raises after each collection. A run that makes
// thousands of records leaves megabytes behind, and in a storm (a realtime run every few seconds) or after a
// scan the heap, and with it RSS, grew by 10-15 MB before V8 collected it. A full collection also resets the
// limit to what is live. It is done only when the heap grew by `threshold` since the last one, so the small runs
// of single writes never pay for it.
// `gc` exists when V8 runs with --expose-gc (build/v8_flags.ts, which `deno task start` and the executable use);
// without it (a plain `deno run`) this does nothing.

/** What a collection needs: V8's collector and the heap's size now. */
export interface HeapControl {
  gc?: () => void;
  heapUsed: () => number;
}

/** A little over what a 1,000-file realtime run leaves: smaller runs wait for the next big one, or V8. */
export const RUN_GARBAGE_BYTES = 8 * 1024 * 1024;

const v8: HeapControl = {
  gc: (globalThis as { gc?: () => void }).gc,
  heapUsed: () => Deno.memoryUsage().heapUsed,
};

/** After a run: collects when the heap grew by `threshold` since the last collection; says whether it did. */
export function heapCollector(control: HeapControl = v8, threshold = RUN_GARBAGE_BYTES): () => boolean {
  let after = control.heapUsed();
  return () => {
    if (!control.gc) return false;
    if (control.heapUsed() - after < threshold) return false;
    control.gc();
    after = control.heapUsed();
    return true;
  };
}
