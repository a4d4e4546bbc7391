// Long synchronous work (a big package database, a big transaction) gives the event loop a turn every few ms.
import { setImmediate } from "node:timers";

/** How long work may hold the event loop between turns: a stop signal is heard within this (plus a step). */
export const BREATH_MS = 20;

/**
 * A function to await between steps of long work: it throws `signal`'s reason once aborted, and every BREATH_MS
 * lets the event loop run (signal handlers, timers, I/O), which `await` on promises alone never does. Cheap
 * enough to call per item.
 */
export function breather(signal?: AbortSignal, everyMs = BREATH_MS): () => Promise<void> {
  let last = performance.now();
  return async () => {
    signal?.throwIfAborted();
    if (performance.now() - last < everyMs) return;
    // setImmediate, not setTimeout(0): nested timers are clamped to milliseconds.
    await new Promise((r) => setImmediate(r));
    last = performance.now();
    signal?.throwIfAborted();
  };
}
