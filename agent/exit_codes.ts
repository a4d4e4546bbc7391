// Exit codes a script can branch on: change bits (as AIDE and Tripwire) below 16, errors from 16 up.
export const EXIT = {
  /** --once: nothing changed. */
  OK: 0,
  ADDED: 1,
  REMOVED: 2,
  MODIFIED: 4,
  /** Bad command line: unknown flag, missing argument. */
  USAGE: 16,
  /** The DCR given with --dcr (or to `dcr check`) is invalid. */
  INVALID_DCR: 17,
  /** One or more collectors failed (the others' results are stored and printed). */
  COLLECTOR_FAILED: 18,
  /** The state database cannot be opened or written. */
  DATABASE: 19,
  /** Anything else that went wrong. */
  INTERNAL: 20,
  /** `verify`: the history's hash chain (or an export of it) is broken; the first broken link is named. */
  CHAIN_BROKEN: 21,
  /**
   * `--once` was stopped by SIGTERM, SIGINT (Ctrl-C) or Ctrl-Break: the run in flight is recorded as aborted and
   * nothing of it is stored; collectors not yet run were skipped. (The daemon stopped so exits 0: that is how a
   * service ends.)
   */
  ABORTED: 22,
} as const;

/** The bitmask of a set of change counts. */
export function changeBits(c: { added: number; removed: number; modified: number }): number {
  return (c.added ? EXIT.ADDED : 0) | (c.removed ? EXIT.REMOVED : 0) | (c.modified ? EXIT.MODIFIED : 0);
}
