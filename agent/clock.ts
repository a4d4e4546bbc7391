// Time as the scheduler asks it: now, elapsed time, and timers. The real one is the process's; tests pass a fake
// that they move.
export interface Clock {
  /** The wall clock (epoch ms): what times are shown and stored as. It jumps when the machine's clock is set. */
  now(): number;
  /**
   * Elapsed time (ms from an arbitrary start) that never jumps: what intervals and deadlines are measured in, so
   * that a clock set back an hour delays nothing by an hour.
   */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(timer: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as number | undefined),
};
