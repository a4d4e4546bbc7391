// Long synchronous work (a big package database, a big transaction) gives the event loop a turn every few ms.
import { setImmediate } from "node:timers";

/** How long work may hold the event loop between turns. */
export const BREATH_MS = 20;

/**
 * One turn in this many waits on a timer. An immediate (setImmediate) runs the event loop's ready tasks but
 * never lets Deno's runtime wait on the OS, and only then does it take in signals and socket events: with
 * immediates alone a signal reached its listener after 9 to 35 turns (2.7 s on a loaded machine, past the
 * 2 s a stop may take). A timer makes the runtime wait, but costs 1 to 4 ms (nested timers are clamped) where
 * an immediate costs microseconds: so one turn in a few. A stop signal is heard within
 * TIMER_TURN_EVERY × BREATH_MS (plus a step).
 */
export const TIMER_TURN_EVERY = 5;

/**
 * A function to await between steps of long work: it throws `signal`'s reason once aborted, and every `everyMs`
 * lets the event loop run (signal handlers, timers, I/O), which `await` on promises alone never does. Cheap
 * enough to call per item.
 */
export function breather(signal?: AbortSignal, everyMs = BREATH_MS): () => Promise<void> {
  let last = performance.now();
  let turns = 0;
  return async () => {
    signal?.throwIfAborted();
    if (performance.now() - last < everyMs) return;
    await new Promise((r) => ++turns % TIMER_TURN_EVERY ? setImmediate(r) : setTimeout(r, 0));
    last = performance.now();
    signal?.throwIfAborted();
  };
}
