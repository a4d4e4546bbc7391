import assert from "node:assert/strict";
import { breather, TIMER_TURN_MS } from "./breathe.ts";

/** Holds the event loop for `ms`, as a step of long synchronous work does. */
function work(ms: number) {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* a step of work */ }
}

/** A step of work between turns: a timer turn comes every few. */
const STEP_MS = TIMER_TURN_MS / 4;

Deno.test({
  name: "breather(): a signal raised during long work reaches its listener within a few turns",
  // Deno listens to SIGINT and SIGBREAK only on Windows.
  ignore: Deno.build.os === "windows",
  fn: async () => {
    let heard = false;
    const listener = () => heard = true;
    Deno.addSignalListener("SIGUSR2", listener);
    try {
      const breathe = breather(undefined, 0);
      // The runtime idle a moment first, as a daemon is long before it is stopped (heard at once otherwise).
      await new Promise((r) => setTimeout(r, 10));
      Deno.kill(Deno.pid, "SIGUSR2");
      let turns = 0;
      while (!heard && turns < 500) {
        work(STEP_MS);
        await breathe();
        turns++;
      }
      // A turn that never lets the runtime poll the OS (immediates alone) heard it after 17 to 21 turns here,
      // seconds on a loaded machine: a stop signal must not wait on that.
      assert.ok(heard, "the signal never reached its listener");
      assert.ok(turns <= TIMER_TURN_MS / STEP_MS + 1, `heard after ${turns} turns`);
    } finally {
      Deno.removeSignalListener("SIGUSR2", listener);
    }
  },
});

Deno.test("breather(): turns only every `everyMs`, and throws once its signal is aborted", async () => {
  const ac = new AbortController();
  const breathe = breather(ac.signal, 60_000);
  const t = performance.now();
  for (let i = 0; i < 1000; i++) await breathe();
  assert.ok(performance.now() - t < 1000, "a breather within its interval does not wait");
  ac.abort(new Error("stop"));
  await assert.rejects(breathe, /stop/);
});
