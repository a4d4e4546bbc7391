import assert from "node:assert/strict";
import { byKind, parseTaskStat, sampleThreads, TICKS } from "./threads.ts";

Deno.test("parseTaskStat reads the name and user + system ticks, names with spaces and parentheses too", () => {
  // A real line's layout (fields 14 and 15 are utime and stime).
  const line = (name: string, utime: number, stime: number) =>
    `4242 (${name}) S 1 4242 4242 0 -1 4194368 1234 0 0 0 ${utime} ${stime} 0 0 20 0 9 0 123456 ` +
    `1000000 2000 18446744073709551615 1 1 0 0 0 0 0 4096 17472 0 0 0 17 1 0 0 0 0 0`;
  assert.deepEqual(parseTaskStat(line("deno", 321, 45)), { name: "deno", ticks: 366 });
  assert.deepEqual(parseTaskStat(line("V8 DefaultWorke", 7, 0)), { name: "V8 DefaultWorke", ticks: 7 });
  assert.deepEqual(parseTaskStat(line("a) (b) 12 13", 1, 2)), { name: "a) (b) 12 13", ticks: 3 });
  assert.throws(() => parseTaskStat("4242 deno S 1"), /not a task stat line/);
  assert.throws(() => parseTaskStat("4242 (deno) S 1 2 3"), /no CPU times/);
});

Deno.test("byKind sums the process's first thread, its Deno workers, V8's helpers and the rest apart", () => {
  const threads = new Map([
    [100, { name: "deno", ticks: 420 }],
    [101, { name: "V8 DefaultWorke", ticks: 70 }],
    [102, { name: "V8 DefaultWorke", ticks: 80 }],
    [103, { name: "tokio-runtime-w", ticks: 1 }],
    [104, { name: "worker-1", ticks: 310 }],
    [105, { name: "worker-2", ticks: 305 }],
    [106, { name: "worker-x", ticks: 9 }],
  ]);
  const s = (ticks: number) => Math.round(ticks / TICKS * 100) / 100;
  assert.deepEqual(byKind(100, threads), {
    main_cpu_s: s(420),
    workers_cpu_s: s(615),
    v8_helpers_cpu_s: s(150),
    other_cpu_s: s(10),
  });
});

Deno.test("sampleThreads reads this process's own threads, and says false for a process that is gone", () => {
  const seen = new Map<number, { name: string; ticks: number }>();
  assert.equal(sampleThreads(Deno.pid, seen), true);
  assert.ok(seen.has(Deno.pid), "the first thread's id is the process id");
  assert.ok(seen.size >= 2, `a Deno process has helper threads: ${[...seen.values()].map((t) => t.name)}`);
  // Above the kernel's largest pid (2^22): never a process.
  assert.equal(sampleThreads(2 ** 22 + 7, new Map()), false);
});
