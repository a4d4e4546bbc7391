import assert from "node:assert/strict";
import type { Collector, DcrFrequency, DcrSwitch } from "../collectors/types.ts";
import { type Settings, settingsSchema } from "../config/dcr.ts";
import { memoryLogger } from "../log.ts";
import { createScheduler } from "./scheduler.ts";
import { fakeClock } from "../../test/fake_clock.ts";

/** The DCR switch and frequency each test collector follows. */
const DCR: Record<string, [DcrSwitch, DcrFrequency]> = {
  software: ["enableSoftware", "softwareSettings.softwareCollectionFrequency"],
  files: ["enableFiles", "fileSettings.fileCollectionFrequency"],
  registry: ["enableRegistry", "registrySettings.registryCollectionFrequency"],
};

/** Collectors whose frequency (seconds) and enablement come from the DCR settings `settings()` makes. */
function collector(name: string, platforms: ("linux" | "windows")[] = ["linux"]): Collector {
  const [dcr, frequency] = DCR[name];
  return {
    name,
    label: name,
    nouns: [name, name],
    platforms,
    schedule: { dcr, frequency },
    dataType: { linux: name, windows: name },
    toAma: true,
    key: () => "",
    nameField: "Name",
    volatile: [],
    columns: [{ field: "Name", label: "Name" }],
    mirror: null,
    content: false,
    page: { icon: "T", shortcut: "t", color: ["#000", "#fff"], empty: "" },
    collect: () => Promise.resolve({ items: [] }),
  };
}
/** DCR settings with each named collector on or off at a frequency (fractions of a second allowed here). */
const settings = (v: Record<string, { on: boolean; freq: number }>): Settings => {
  const s = settingsSchema("linux").parse({});
  for (const [name, { on, freq }] of Object.entries(v)) {
    const [dcr, frequency] = DCR[name];
    const [section, key] = frequency.split(".");
    Object.assign(s, { [dcr]: on });
    Object.assign((s as Record<string, unknown>)[section] as object, { [key]: freq });
  }
  for (const name of Object.keys(DCR)) if (!(name in v)) Object.assign(s, { [DCR[name][0]]: false });
  return s;
};

Deno.test("scheduler runs each enabled collector at start, then at its frequency, never overlapping", async () => {
  const starts: Record<string, number[]> = { software: [], files: [] };
  let inFlight = 0, maxInFlight = 0;
  const clock = fakeClock();
  const sched = createScheduler({
    clock,
    collectors: [collector("software"), collector("files"), collector("registry", ["windows"])],
    os: "linux",
    settings: settings({ software: { on: true, freq: 0.05 }, files: { on: false, freq: 0.05 } }),
    log: memoryLogger(),
    jitter: 0,
    random: () => 0,
    run: async (c) => {
      starts[c.name].push(clock.now());
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await clock.sleep(80); // longer than the frequency: the next run must wait for this one
      inFlight--;
    },
  });
  await clock.advance(450);
  const status = Object.fromEntries(sched.status().map((s) => [s.name, s.state]));
  assert.deepEqual(status, { software: "enabled", files: "disabled", registry: "unsupported" });
  // stop() waits for the run in flight, which ends when its time has come.
  const stopped = sched.stop();
  await clock.advance(80);
  await stopped;
  assert.ok(starts.software.length >= 3, `software ran ${starts.software.length} times`);
  assert.equal(starts.files.length, 0);
  assert.equal(maxInFlight, 1);
});

Deno.test("scheduler applies a new DCR live: switches collectors on and off and changes frequency", async () => {
  const runs: string[] = [];
  const clock = fakeClock();
  const sched = createScheduler({
    clock,
    collectors: [collector("software"), collector("files")],
    os: "linux",
    settings: settings({ software: { on: true, freq: 3600 }, files: { on: false, freq: 3600 } }),
    log: memoryLogger(),
    jitter: 0,
    random: () => 0,
    run: (c) => {
      runs.push(c.name);
      return Promise.resolve();
    },
  });
  await clock.advance(50);
  assert.deepEqual(runs, ["software"]);
  sched.apply(settings({ software: { on: false, freq: 3600 }, files: { on: true, freq: 0.03 } }));
  await clock.advance(300);
  await sched.stop();
  assert.equal(runs.filter((r) => r === "software").length, 1);
  assert.ok(runs.filter((r) => r === "files").length >= 3, runs.join());
});

Deno.test("scheduler.scanNow() runs on demand and stop() aborts the run in flight", async () => {
  let aborted = false;
  let count = 0;
  const clock = fakeClock();
  const sched = createScheduler({
    clock,
    collectors: [collector("software")],
    os: "linux",
    settings: settings({ software: { on: true, freq: 3600 } }),
    log: memoryLogger(),
    random: () => 0,
    run: async (_c, _s, signal) => {
      count++;
      if (count === 3) {
        await new Promise((r) => signal.addEventListener("abort", r));
        aborted = signal.aborted;
      }
    },
  });
  await clock.advance(30);
  await sched.scanNow("software");
  assert.equal(count, 2);
  await assert.rejects(() => sched.scanNow("files"), /Cannot scan files: no such collector/);
  void sched.scanNow();
  await clock.advance(10);
  await sched.stop();
  assert.equal(aborted, true);
});

Deno.test("a paused scheduler runs nothing until start(), then runs every enabled collector", async () => {
  const runs: string[] = [];
  const clock = fakeClock();
  const sched = createScheduler({
    clock,
    collectors: [collector("software"), collector("files")],
    os: "linux",
    settings: settings({ software: { on: true, freq: 3600 }, files: { on: true, freq: 3600 } }),
    log: memoryLogger(),
    random: () => 0,
    paused: true,
    run: (c) => {
      runs.push(c.name);
      return Promise.resolve();
    },
  });
  await clock.advance(150);
  assert.deepEqual(runs, []);
  assert.deepEqual(sched.status().map((s) => s.state), ["enabled", "enabled"]);
  sched.start();
  await clock.advance(150);
  await sched.stop();
  assert.deepEqual(runs.sort(), ["files", "software"]);
});

Deno.test("scanNow() resolves with what the runs it started returned, not with the run it joined", async () => {
  let n = 0;
  const clock = fakeClock();
  const sched = createScheduler({
    clock,
    collectors: [collector("software"), collector("files")],
    os: "linux",
    settings: settings({ software: { on: true, freq: 3600 }, files: { on: true, freq: 3600 } }),
    log: memoryLogger(),
    paused: true,
    run: async (c) => {
      const mine = ++n;
      await clock.sleep(30);
      return `${c.name} ${mine}`;
    },
  });
  const first = sched.scanNow("software");
  const scans = sched.scanNow();
  await clock.advance(100);
  const both = await scans;
  assert.deepEqual(await first, ["software 1"]);
  assert.deepEqual(both, ["software 3", "files 2"]);
  await sched.stop();
});

Deno.test("a clock set back an hour during a run does not delay the next run by that hour (nor forward skip it)", async () => {
  for (const jump of [-3_600_000, 3_600_000]) {
    const starts: number[] = [];
    const clock = fakeClock();
    const sched = createScheduler({
      clock,
      collectors: [collector("software")],
      os: "linux",
      settings: settings({ software: { on: true, freq: 10 } }),
      log: memoryLogger(),
      jitter: 0,
      random: () => 0,
      run: async () => {
        starts.push(clock.monotonic());
        await clock.sleep(2_000);
        // The wall clock is set while the run works (ntpdate, an operator's date -s): elapsed time goes on.
        if (starts.length === 1) clock.jump(jump);
      },
    });
    await clock.advance(35_000);
    await sched.stop();
    // Every 10 s by the time that passes: at 0, 10, 20 and 30 s.
    assert.deepEqual(starts.map((t) => t - starts[0]), [0, 10_000, 20_000, 30_000], `jump ${jump}`);
  }
});

Deno.test("scheduler: partial runs queue behind the run in flight and a scheduled run behind them, never alongside", async () => {
  const clock = fakeClock();
  const log: string[] = [];
  let inFlight = 0;
  const sched = createScheduler({
    clock,
    collectors: [collector("files")],
    os: "linux",
    settings: settings({ files: { on: true, freq: 3600 } }),
    log: memoryLogger(),
    jitter: 0,
    random: () => 0,
    run: async (_c, _s, _signal, partial) => {
      assert.equal(inFlight++, 0, "never two runs of a collector at once");
      log.push(`start ${partial?.reason ?? "scheduled"}`);
      await clock.sleep(100);
      log.push(`end ${partial?.reason ?? "scheduled"}`);
      inFlight--;
      return partial?.reason ?? "scheduled";
    },
  });
  await clock.advance(10); // the first scheduled run starts
  const a = sched.runPartial("files", { scope: "all", reason: "a" });
  const b = sched.runPartial("files", { scope: "all", reason: "b" });
  const now = sched.scanNow("files");
  await clock.advance(1000);
  assert.deepEqual(await Promise.all([a, b, now]), ["a", "b", ["scheduled"]]);
  assert.deepEqual(log, [
    "start scheduled",
    "end scheduled",
    "start a",
    "end a",
    "start b",
    "end b",
    "start scheduled",
    "end scheduled",
  ]);
  assert.equal(await sched.runPartial("software", { scope: "all", reason: "c" }), undefined, "not enabled");
  await sched.stop();
});
