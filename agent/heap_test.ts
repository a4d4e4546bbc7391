import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { heapCollector } from "./heap.ts";
import { V8_FLAGS_ARG } from "../build/v8_flags.ts";

Deno.test("heapCollector() collects only when the heap grew by the threshold since its last collection", () => {
  let used = 100, collections = 0;
  const collect = heapCollector({ gc: () => (collections++, used = 105), heapUsed: () => used }, 50);
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

Deno.test("heapCollector() gives the C heap's free memory back after each collection, and otherwise once a while", () => {
  const calls: string[] = [];
  let used = 0, clock = 1_000_000;
  const collect = heapCollector(
    {
      gc: () => (calls.push("gc"), used = 0),
      heapUsed: () => used,
      trim: () => calls.push("trim"),
    },
    10,
    () => clock,
    10_000,
  );
  used = 5;
  collect();
  assert.deepEqual(calls, ["trim"], "the first run trims (start-up's memory), without a collection");
  clock += 9_999;
  collect();
  assert.deepEqual(calls, ["trim"], "runs closer than trimEveryMs share the trim");
  used = 10;
  collect();
  assert.deepEqual(calls, ["trim", "gc", "trim"], "a collection trims at once");
  clock += 9_999;
  used = 0;
  collect();
  assert.deepEqual(calls, ["trim", "gc", "trim"]);
  clock += 1;
  collect();
  assert.deepEqual(calls, ["trim", "gc", "trim", "trim"], "trimEveryMs after the last trim");
});

Deno.test("heapCollector() collects nothing where V8 has no exposed collector, but still trims", () => {
  let used = 0, trims = 0;
  const collect = heapCollector({ heapUsed: () => used, trim: () => trims++ }, 1);
  used = 1e9;
  assert.equal(collect(), false);
  assert.equal(trims, 1);
});

Deno.test("with ctagent's V8 flags a run's garbage is collected: the heap falls back to what is live", () => {
  // A real process with the flags the daemon runs with, a run's worth of garbage, then the collector.
  const script = `
    import { heapCollector } from ${JSON.stringify(new URL("./heap.ts", import.meta.url).href)};
    const collect = heapCollector(undefined, 4 * 1024 * 1024);
    let junk = [];
    for (let i = 0; i < 200_000; i++) junk.push({ key: "/etc/f" + i, json: JSON.stringify({ i, s: "x".repeat(40) }) });
    junk = [];
    const before = Deno.memoryUsage().heapUsed;
    const did = collect();
    console.log(JSON.stringify({ gc: typeof globalThis.gc, did, before, after: Deno.memoryUsage().heapUsed }));
  `;
  const r = spawnSync(Deno.execPath(), ["eval", V8_FLAGS_ARG, script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.gc, "function", "V8_FLAGS expose the collector");
  assert.equal(out.did, true);
  assert.ok(out.before - out.after > 20 * 1024 * 1024, `collected ${out.before - out.after} bytes`);
});
