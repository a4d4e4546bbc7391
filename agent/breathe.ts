// Long synchronous work (a big package database, a big transaction) gives the event loop a turn every few ms.
import { setImmediate } from "node:timers";

/** How long work may hold the event loop between turns. */
export const BREATH_MS = 20;

/**
 * At least this often a turn waits on a timer. An immediate (setImmediate) runs the event loop's ready tasks
 * but never lets Deno's runtime wait on the OS, and only then does it take in signals and socket events: with
 * immediates alone a signal reached its listener after 9 to 35 turns (2.7 s on a loaded machine, past the
 * 2 s a stop may take). A timer makes the runtime wait, but costs 1 to 4 ms (nested timers are clamped)
 * where an immediate costs microseconds: so one now and then. A stop signal is heard within this (plus a
 * step and a turn).
 */
export const TIMER_TURN_MS = 100;

/**
 * A function that lets the event loop run once (signal handlers, timers, I/O, workers' messages), which
 * `await` on promises alone never does: an immediate, or a timer when the last was TIMER_TURN_MS ago.
 */
export function eventLoopTurns(): () => Promise<void> {
  let lastTimer = performance.now();
  return () =>
    new Promise((r) => {
      if (performance.now() - lastTimer < TIMER_TURN_MS) return setImmediate(r);
      lastTimer = performance.now();
      setTimeout(r, 0);
    });
}

/**
 * A function to await between steps of long work: it throws `signal`'s reason once aborted, and every `everyMs`
 * gives the event loop a turn (eventLoopTurns). Cheap enough to call per item.
 */
export function breather(signal?: AbortSignal, everyMs = BREATH_MS): () => Promise<void> {
  let last = performance.now();
  const turn = eventLoopTurns();
  return async () => {
    signal?.throwIfAborted();
    if (performance.now() - last < everyMs) return;
    await turn();
    last = performance.now();
    signal?.throwIfAborted();
  };
}
