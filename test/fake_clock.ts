// A fake clock for tests: time moves only when the test says (advance), timers run at their virtual time.
import type { Clock } from "../agent/clock.ts";

/** One real macrotask turn: every promise chain started so far settles (there is no real I/O to wait for). */
const settle = () => new Promise<void>((r) => setTimeout(r, 0));

export function fakeClock(start = 1_000_000): Clock & {
  /** Resolves when the fake time has moved `ms` on. */
  sleep(ms: number): Promise<void>;
  /** Moves time `ms` on, running each timer due meanwhile at its own time, the code it starts settled. */
  advance(ms: number): Promise<void>;
  /** Sets the wall clock `ms` on (or back): now() jumps, elapsed time (monotonic(), timers) does not. */
  jump(ms: number): void;
} {
  let now = start;
  let wall = 0;
  let next = 1;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const clock = {
    now: () => now + wall,
    monotonic: () => now,
    jump(ms: number) {
      wall += ms;
    },
    setTimeout(fn: () => void, ms: number): unknown {
      const id = next++;
      timers.set(id, { at: now + Math.max(0, ms), fn });
      return id;
    },
    clearTimeout(timer: unknown) {
      timers.delete(timer as number);
    },
    sleep: (ms: number) => new Promise<void>((r) => clock.setTimeout(r, ms)),
    async advance(ms: number) {
      const until = now + ms;
      await settle();
      for (;;) {
        let due: [number, { at: number; fn: () => void }] | undefined;
        for (const t of timers) if (t[1].at <= until && (!due || t[1].at < due[1].at)) due = t;
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
        await settle();
      }
      now = until;
      await settle();
    },
  };
  return clock;
}
