import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { heapCollector, RUN_SETTLED_MS } from "./heap.ts";
import { V8_FLAGS_ARG } from "../build/v8_flags.ts";

Deno.test("heapCollector() collects only when the heap grew by the threshold since its last collection", () => {
  let used = 100, collections = 0;
  const heap = heapCollector({
    control: { gc: () => (collections++, used = 105), heapUsed: () => used },
    threshold: 50,
    later: () => () => {},
  });
  const collect = heap.afterRun;
  used = 149;
  assert.equal(collect(), false, "grew by 49 of 50");
  used = 150;
  assert.equal(collect(), true);
  assert.equal(collections, 1);
  // Measured again after the collection: growth counts from what was left (105).
  used = 154;
  assert.equal(collect(), false);
  used = 155;
  assert.equal(collect(), true);
  assert.equal(collections, 2);
});

/** A clock and timers the test moves by hand. */
function fakeTime(start = 1_000_000) {
  const timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  const t = {
    clock: start,
    now: () => t.clock,
    later: (fn: () => void, ms: number) => {
      const timer = { at: t.clock + ms, fn, cancelled: false };
      timers.push(timer);
      return () => void (timer.cancelled = true);
    },
    /** Timers set and not cancelled. */
    pending: () => timers.filter((x) => !x.cancelled),
    /** Moves the clock, running the timers due on the way. */
    advance(ms: number) {
      t.clock += ms;
      for (const x of timers.splice(0)) {
        if (x.cancelled) continue;
        if (x.at <= t.clock) x.fn();
        else timers.push(x);
      }
    },
  };
  return t;
}

Deno.test("heapCollector() gives memory back after each collection, and otherwise once a while", () => {
  const calls: string[] = [];
  let used = 0;
  const time = fakeTime();
  const heap = heapCollector({
    control: {
      gc: () => (calls.push("gc"), used = 0),
      heapUsed: () => used,
      trim: () => calls.push("trim"),
    },
    threshold: 10,
    now: time.now,
    trimEveryMs: 10_000,
    later: () => () => {}, // the trim a skipped run leaves for later: the next test
    beforeTrim: () => calls.push("cache"),
  });
  const collect = heap.afterRun;
  used = 5;
  collect();
  assert.deepEqual(calls, ["cache", "trim"], "the first run trims (start-up's memory), without a collection");
  time.clock += 9_999;
  collect();
  assert.deepEqual(calls, ["cache", "trim"], "runs closer than trimEveryMs share the trim");
  used = 10;
  collect();
  assert.deepEqual(calls, ["cache", "trim", "gc", "cache", "trim"], "a collection trims at once");
  time.clock += 9_999;
  used = 0;
  collect();
  assert.deepEqual(calls, ["cache", "trim", "gc", "cache", "trim"]);
  time.clock += 1;
  collect();
  assert.deepEqual(
    calls,
    ["cache", "trim", "gc", "cache", "trim", "cache", "trim"],
    "trimEveryMs after the last trim",
  );
});

Deno.test("heapCollector(): runs that share a trim get it trimEveryMs after the last, once; stop() cancels it", () => {
  let trims = 0, caches = 0;
  const time = fakeTime();
  const heap = heapCollector({
    control: { heapUsed: () => 0, trim: () => trims++ },
    beforeTrim: () => caches++,
    now: time.now,
    trimEveryMs: 10_000,
    later: time.later,
  });
  heap.afterRun();
  assert.equal(trims, 1);
  // The daemon's first runs end within a second of each other: what the later ones leave waits for the trim.
  time.advance(300);
  heap.afterRun();
  time.advance(300);
  heap.afterRun();
  assert.equal(trims, 1, "not at once");
  assert.equal(time.pending().length, 1, "one trim to come for both");
  time.advance(9_399);
  assert.equal(trims, 1);
  time.advance(1);
  assert.equal(trims, 2, "trimEveryMs after the last trim, with no run to make it");
  assert.equal(caches, 2, "the database's cache goes with the trim left for later too");
  assert.equal(time.pending().length, 0);
  // A run that may trim at once takes the one to come with it.
  time.advance(20_000);
  heap.afterRun();
  time.advance(1_000);
  heap.afterRun();
  assert.equal(time.pending().length, 1);
  time.advance(9_000);
  assert.equal(trims, 4);
  time.advance(500);
  heap.afterRun();
  heap.stop();
  assert.equal(time.pending().length, 0, "stop() cancels the trim to come");
  time.advance(60_000);
  heap.afterRun();
  assert.equal(trims, 5, "after stop() a run still trims when it may at once");
  time.advance(1_000);
  heap.afterRun();
  assert.equal(time.pending().length, 0, "but leaves nothing for later");
});

Deno.test("heapCollector().running(): trims while runs last, at their start, settled, then every trimEveryMs", () => {
  const calls: string[] = [];
  const time = fakeTime();
  const heap = heapCollector({
    control: { heapUsed: () => 0, trim: () => calls.push(`trim@${time.clock - 1_000_000}`) },
    beforeTrim: () => calls.push("cache"),
    now: time.now,
    trimEveryMs: 10_000,
    later: time.later,
  });
  // A long run (a baseline): what start-up left goes at once, what its workers' start left a second later.
  const ended = heap.running();
  assert.deepEqual(calls, ["trim@0"], "at once, and without the database's cache: the run uses it");
  time.advance(RUN_SETTLED_MS);
  assert.deepEqual(calls, ["trim@0", `trim@${RUN_SETTLED_MS}`]);
  time.advance(10_000);
  time.advance(10_000);
  assert.deepEqual(calls.slice(2), [`trim@${RUN_SETTLED_MS + 10_000}`, `trim@${RUN_SETTLED_MS + 20_000}`]);
  // A second run alongside: the trims go on until both ended (each end counted once).
  const other = heap.running();
  ended();
  ended();
  time.advance(10_000);
  assert.equal(calls.length, 5, "the other run still lasts");
  other();
  assert.equal(time.pending().length, 0, "no trim to come once no run lasts");
  time.advance(60_000);
  assert.equal(calls.length, 5);

  // Runs close to the last trim (a realtime storm) wait for trimEveryMs after it, as afterRun() does.
  calls.length = 0;
  heap.afterRun();
  assert.deepEqual(calls, ["cache", `trim@${time.clock - 1_000_000}`]);
  const at = time.clock;
  time.advance(3_000);
  const short = heap.running();
  assert.equal(calls.length, 2, "not at once");
  time.advance(500);
  short();
  const long = heap.running();
  time.advance(6_499);
  assert.equal(calls.length, 2);
  time.advance(1);
  assert.deepEqual(calls.slice(2), [`trim@${at + 10_000 - 1_000_000}`], "trimEveryMs after the last trim");
  heap.stop();
  assert.equal(time.pending().length, 0, "stop() cancels the trims of runs that last");
  long();
  heap.running()();
  assert.equal(time.pending().length, 0, "after stop() runs set no timer");
});

Deno.test("heapCollector() collects nothing where V8 has no exposed collector, but still trims", () => {
  let used = 0, trims = 0;
  const heap = heapCollector({ control: { heapUsed: () => used, trim: () => trims++ }, threshold: 1 });
  used = 1e9;
  assert.equal(heap.afterRun(), false);
  assert.equal(trims, 1);
});

Deno.test("with ctagent's V8 flags a run's garbage is collected: the heap falls back to what is live", () => {
  // A real process with the flags the daemon runs with, a run's worth of garbage, then the collector.
  const script = `
    import { heapCollector } from ${JSON.stringify(new URL("./heap.ts", import.meta.url).href)};
    const heap = heapCollector({ threshold: 4 * 1024 * 1024 });
    let junk = [];
    for (let i = 0; i < 200_000; i++) junk.push({ key: "/etc/f" + i, json: JSON.stringify({ i, s: "x".repeat(40) }) });
    junk = [];
    const before = Deno.memoryUsage().heapUsed;
    const did = heap.afterRun();
    heap.stop();
    console.log(JSON.stringify({ gc: typeof globalThis.gc, did, before, after: Deno.memoryUsage().heapUsed }));
  `;
  const r = spawnSync(Deno.execPath(), ["eval", V8_FLAGS_ARG, script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.gc, "function", "V8_FLAGS expose the collector");
  assert.equal(out.did, true);
  assert.ok(out.before - out.after > 20 * 1024 * 1024, `collected ${out.before - out.after} bytes`);
});
