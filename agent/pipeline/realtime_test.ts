import assert from "node:assert/strict";
import { RETRY_FIRST_MS, startRealtime } from "./realtime.ts";
import type { PartialRun } from "./scheduler.ts";
import type { Collector, Scope } from "../collectors/types.ts";
import type { Origin } from "../host/watch/types.ts";
import { settingsSchema } from "../config/dcr.ts";
import { memoryLogger } from "../log.ts";
import { fakeCollector } from "../../test/fake_collector.ts";
import { fakeClock } from "../../test/fake_clock.ts";
import { fakeHost } from "../../test/fake_host.ts";
import { fakeWatch } from "../../test/fake_watcher.ts";

const vim: Origin = {
  pid: 4242,
  exe: "/usr/bin/vim.basic",
  name: "vim",
  cmdline: "vim /srv/a.conf",
  uid: 1000,
  user: "alice",
  ppid: 1,
  parent: "bash",
};
const sed: Origin = { pid: 77, exe: "/usr/bin/sed", name: "sed", uid: 0, user: "root" };

/** A files-like collector keyed by path watching /srv (3 levels), a software-like one watching a database. */
const tree: Collector = fakeCollector("tree", {
  key: (i) => String(i.Path),
  targets: () => [{ path: "/srv", depth: 3, items: "path" }],
});
const pkgs: Collector = fakeCollector("pkgs", {
  watch: { paths: { linux: [{ path: "/var/lib/dpkg/status", keys: ["dpkg:"] }] } },
});
const units: Collector = fakeCollector("units", {
  watch: {
    paths: { linux: [{ path: "/etc/systemd/system", depth: 2 }] },
    pollSeconds: { linux: 60 },
    pollIf: { linux: "/run/systemd/system" },
  },
});

function world(opts: { collectors?: Collector[]; root?: string; runMs?: number; failRuns?: number } = {}) {
  const clock = fakeClock();
  const watch = fakeWatch();
  const host = {
    ...fakeHost({ os: "linux", files: { "/run/systemd/system": { dir: true } } }),
    watch,
    root: opts.root ?? "/",
    path: (p: string) => (opts.root ?? "") + p,
  };
  const runs: (PartialRun & { name: string })[] = [];
  const log = memoryLogger();
  const rt = startRealtime({
    collectors: opts.collectors ?? [tree, pkgs, units],
    host,
    log,
    settings: settingsSchema("linux").parse({}),
    clock,
    quietMs: 100,
    maxWaitMs: 400,
    scheduler: {
      status: () =>
        (opts.collectors ?? [tree, pkgs, units]).map((c) => ({
          name: c.name,
          state: "enabled" as const,
          frequency: 60,
          running: false,
        })),
      async runPartial(name, partial) {
        runs.push({ name, ...partial });
        if (opts.runMs) await clock.sleep(opts.runMs);
        // The first `failRuns` runs fail as runCollector says it (a summary, nothing stored).
        if (runs.length <= (opts.failRuns ?? 0)) return { status: "failed", counts: undefined };
        return { counts: { added: 1, removed: 0, modified: 0 } };
      },
    },
  });
  const ev = (
    path: string,
    o: Partial<{ dirent: boolean; moved: boolean; dir: boolean | null; origin: Origin }> = {},
  ) => ({
    path,
    dirent: false,
    moved: false,
    dir: false,
    ...o,
  });
  return { clock, watch, rt, runs, log, ev };
}

const keysOf = (
  s: Scope | "all",
) => (s === "all" ? "all" : { keys: [...s.keys].sort(), prefixes: [...s.prefixes].sort() });

Deno.test("realtime asks the watcher for what the specs and settings say, each path once, at its deepest", async () => {
  const w = world();
  assert.deepEqual(w.watch.requests, [[
    { path: "/srv", depth: 3 },
    { path: "/var/lib/dpkg/status", depth: 0 },
    { path: "/etc/systemd/system", depth: 2 },
  ]]);
  const s = w.rt.status();
  assert.deepEqual(s.collectors.map((c) => [c.name, c.modes]), [
    ["tree", ["fanotify"]],
    ["pkgs", ["fanotify"]],
    ["units", ["fanotify", "polling"]],
  ]);
  await w.rt.stop();
  assert.ok(w.watch.closed);
});

Deno.test("realtime: a burst of events is one partial run of what they touched, each change with who made it", async () => {
  const w = world();
  w.watch.emit([w.ev("/srv/a.conf", { origin: vim })]);
  await w.clock.advance(50);
  w.watch.emit([
    w.ev("/srv/a.conf", { origin: vim }),
    w.ev("/srv/new", { dirent: true, dir: true, origin: sed }),
    w.ev("/srv/moved", { dirent: true, moved: true, dir: true, origin: sed }),
    w.ev("/srv/gone.conf", { dirent: true, dir: false, origin: sed }),
    w.ev("/elsewhere/x", { origin: vim }),
  ]);
  assert.equal(w.runs.length, 0, "not before the burst is quiet");
  await w.clock.advance(100);
  assert.equal(w.runs.length, 1);
  const [r] = w.runs;
  assert.equal(r.name, "tree");
  assert.deepEqual(keysOf(r.scope), {
    keys: ["/srv", "/srv/a.conf", "/srv/gone.conf", "/srv/moved", "/srv/new"],
    prefixes: ["/srv/moved/", "/srv/new/"],
  });
  assert.equal(r.reason, "realtime");
  assert.deepEqual(r.origin!("/srv/a.conf"), {
    DetectedBy: "fanotify",
    ProcessId: "4242",
    ProcessName: "vim",
    ProcessPath: "/usr/bin/vim.basic",
    ProcessCommandLine: "vim /srv/a.conf",
    UserId: "1000",
    UserName: "alice",
    ParentProcessId: "1",
    ParentProcessName: "bash",
  });
  // The directory whose entries changed: its changer; a tree moved in: its mover; a tree made: nobody named.
  assert.equal(r.origin!("/srv")?.ProcessName, "sed");
  assert.equal(r.origin!("/srv/moved/deep/f")?.ProcessName, "sed");
  assert.deepEqual(r.origin!("/srv/new/f"), { DetectedBy: "fanotify" });
  await w.rt.stop();
});

Deno.test("realtime: a failed run's batch is run again with what came since, after pauses that double", async () => {
  const w = world({ collectors: [tree], failRuns: 3 });
  w.watch.emit([w.ev("/srv/a.conf", { origin: vim })]);
  await w.clock.advance(100);
  assert.equal(w.runs.length, 1, "the first run (it fails)");
  w.watch.emit([w.ev("/srv/b.conf", { origin: sed })]);
  await w.clock.advance(RETRY_FIRST_MS - 1);
  assert.equal(w.runs.length, 1, "not before the pause");
  await w.clock.advance(1);
  assert.equal(w.runs.length, 2);
  assert.deepEqual(keysOf(w.runs[1].scope), { keys: ["/srv/a.conf", "/srv/b.conf"], prefixes: [] });
  assert.equal(w.runs[1].origin!("/srv/a.conf")?.ProcessName, "vim", "who made it is kept");
  assert.equal(w.runs[1].origin!("/srv/b.conf")?.ProcessName, "sed");
  // Failed again: twice the pause, then four times.
  await w.clock.advance(2 * RETRY_FIRST_MS - 1);
  assert.equal(w.runs.length, 2);
  await w.clock.advance(1);
  assert.equal(w.runs.length, 3);
  await w.clock.advance(4 * RETRY_FIRST_MS);
  assert.equal(w.runs.length, 4, "the fourth run succeeds");
  assert.deepEqual(keysOf(w.runs[3].scope), { keys: ["/srv/a.conf", "/srv/b.conf"], prefixes: [] });
  await w.clock.advance(60_000);
  assert.equal(w.runs.length, 4, "nothing is run again after it succeeded");
  // The pause is gone with the failures: the next change runs within its batching time.
  w.watch.emit([w.ev("/srv/c.conf", { origin: vim })]);
  await w.clock.advance(100);
  assert.equal(w.runs.length, 5);
  assert.deepEqual(keysOf(w.runs[4].scope), { keys: ["/srv/c.conf"], prefixes: [] });
  await w.rt.stop();
});

Deno.test("realtime: two processes changing one item name the last and say there were more", async () => {
  const w = world();
  w.watch.emit([w.ev("/srv/a.conf", { origin: vim }), w.ev("/srv/a.conf", { origin: sed })]);
  w.watch.emit([w.ev("/var/lib/dpkg/status", { dirent: true, origin: sed })]);
  await w.clock.advance(500);
  const byName = Object.fromEntries(w.runs.map((r) => [r.name, r]));
  const o = byName.tree.origin!("/srv/a.conf")!;
  assert.equal(o.ProcessName, "sed");
  assert.match(o.ProcessNote, /more than one process/);
  assert.deepEqual(keysOf(byName.pkgs.scope), { keys: [], prefixes: ["dpkg:"] });
  assert.equal(byName.pkgs.origin!("dpkg:nginx:amd64")?.ProcessName, "sed");
  await w.rt.stop();
});

Deno.test("realtime: a storm while runs are slow is a few partial runs, never one per event", async () => {
  const w = world({ collectors: [tree], runMs: 300 });
  for (let i = 0; i < 10_000; i++) {
    w.watch.emit([w.ev(`/srv/f${i}`, { dirent: true, origin: vim })]);
    if (i % 100 === 0) await w.clock.advance(6); // 100 events each 6 ms: a storm of 600 ms
  }
  await w.clock.advance(5000);
  const total = w.runs.reduce((n, r) => n + (r.scope === "all" ? 0 : r.scope.keys.length), 0);
  assert.ok(w.runs.length <= 4, `${w.runs.length} runs`);
  assert.equal(total, 10_000 + w.runs.length, "every file once, and /srv in each run");
  await w.rt.stop();
});

Deno.test("realtime: lost events rescan everything watched at once, and say so", async () => {
  const w = world({ collectors: [tree, pkgs] });
  w.watch.notice({ kind: "overflow" });
  await w.clock.advance(500);
  const byName = Object.fromEntries(w.runs.map((r) => [r.name, r]));
  assert.deepEqual(keysOf(byName.tree.scope), { keys: ["/srv"], prefixes: ["/srv/"] });
  assert.deepEqual(keysOf(byName.pkgs.scope), { keys: [], prefixes: ["dpkg:"] });
  assert.equal(byName.tree.reason, "fallback");
  assert.equal(byName.tree.origin!("/srv/x")?.DetectedBy, "rescan");
  const s = w.rt.status().collectors[0];
  assert.equal(s.fallbacks, 1);
  assert.match(s.lastFallback!.why, /overflow/);
  assert.ok(w.log.lines.some((l) => l.includes("overflowed")));
  // A watch lost under the tree: only that part.
  w.watch.notice({ kind: "lost", path: "/srv/data", why: "unmounted" });
  await w.clock.advance(500);
  assert.deepEqual(keysOf(w.runs.at(-1)!.scope), { keys: ["/srv/data"], prefixes: ["/srv/data/"] });
  await w.rt.stop();
});

Deno.test("realtime under --root: events are named by the machine's paths, the root taken off", async () => {
  const w = world({ collectors: [tree], root: "/mnt/image" });
  assert.deepEqual(w.watch.requests[0], [{ path: "/mnt/image/srv", depth: 3 }]);
  w.watch.emit([w.ev("/mnt/image/srv/a.conf"), w.ev("/srv/b.conf")]);
  await w.clock.advance(500);
  assert.deepEqual(keysOf(w.runs[0].scope), { keys: ["/srv/a.conf"], prefixes: [] });
  await w.rt.stop();
});

Deno.test("realtime: state no file shows is polled as a whole partial run, where that state is live", async () => {
  const w = world({ collectors: [units] });
  await w.clock.advance(60_200);
  await w.clock.advance(60_000);
  assert.deepEqual(w.runs.map((r) => [r.scope, r.reason, r.origin!("x")]), [
    ["all", "poll", { DetectedBy: "poll" }],
    ["all", "poll", { DetectedBy: "poll" }],
  ]);
  await w.rt.stop();
  // No systemd running: nothing to poll.
  const clock = fakeClock();
  const runs: PartialRun[] = [];
  const rt = startRealtime({
    collectors: [units],
    host: { ...fakeHost({ os: "linux" }), watch: fakeWatch() },
    log: memoryLogger(),
    settings: settingsSchema("linux").parse({}),
    clock,
    scheduler: {
      status: () => [{ name: "units", state: "enabled", frequency: 60, running: false }],
      runPartial: (_n, p) => (runs.push(p), Promise.resolve(undefined)),
    },
  });
  await clock.advance(300_000);
  assert.deepEqual(runs, []);
  assert.deepEqual(rt.status().collectors[0].modes, ["fanotify"]);
  await rt.stop();
});

Deno.test("realtime counts what a trusted scheduled run found that it had not seen as missed", async () => {
  const w = world({ collectors: [tree] });
  // The first scheduled run after the watches stood cannot judge them: the watches came after the last run.
  w.rt.wholeRunStarting("tree");
  w.rt.wholeRunDone("tree", [{ key: "/srv/old" }]);
  assert.equal(w.rt.status().collectors[0].missed, 0);
  await w.clock.advance(1000);
  // Now one can. An event that came during it explains its key; a key realtime does not follow is not missed.
  w.rt.wholeRunStarting("tree");
  w.watch.emit([w.ev("/srv/seen.conf")]);
  w.rt.wholeRunDone("tree", [{ key: "/srv/seen.conf" }, { key: "/srv/unseen.conf" }, { key: "/opt/x" }]);
  assert.equal(w.rt.status().collectors[0].missed, 1);
  assert.ok(w.log.lines.some((l) => l.includes("realtime missed 1 change")));
  // A run during which events were lost judges nothing.
  w.rt.wholeRunStarting("tree");
  w.watch.notice({ kind: "overflow" });
  w.rt.wholeRunDone("tree", [{ key: "/srv/also-unseen" }]);
  assert.equal(w.rt.status().collectors[0].missed, 1);
  await w.rt.stop();
});

Deno.test("realtime follows the registry's keys on Windows: a change re-reads the whole collector", async () => {
  const clock = fakeClock();
  const watch = fakeWatch();
  const services = fakeCollector("svc", {
    platforms: ["windows"],
    watch: { registry: [{ key: "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services", subtree: true }] },
  });
  const runs: PartialRun[] = [];
  const rt = startRealtime({
    collectors: [services],
    host: { ...fakeHost({ os: "windows" }), watch },
    log: memoryLogger(),
    settings: settingsSchema("windows").parse({}),
    clock,
    scheduler: {
      status: () => [{ name: "svc", state: "enabled", frequency: 60, running: false }],
      runPartial: (_n, p) => (runs.push(p), Promise.resolve(undefined)),
    },
  });
  assert.deepEqual(watch.keys, [[{
    key: "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services",
    subtree: true,
  }]]);
  watch.changed(["HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services"]);
  await clock.advance(1000);
  assert.deepEqual(runs.map((r) => [r.scope, r.origin!("x")]), [["all", { DetectedBy: "regnotify" }]]);
  assert.deepEqual(rt.status().collectors[0].modes, ["regnotify"]);
  await rt.stop();
});

for (const [runMs, runs] of [[300, 2], [50, 24]] as const) {
  Deno.test(`realtime: in a storm a batch waits ${runMs >= 200 ? "twenty" : "ten"} times the last run (${runMs} ms)`, async () => {
    const w = world({ collectors: [tree], runMs });
    // Twelve seconds of events, one every 50 ms, to a few files: never quiet long enough to run early.
    for (let t = 0; t < 12_000; t += 50) {
      w.watch.emit([w.ev(`/srv/f${(t / 50) % 7}`, { origin: vim })]);
      await w.clock.advance(50);
    }
    // The first batch runs at maxWaitMs; each later one 20 × 300 ms (or 10 × 50 ms) after its first event.
    assert.equal(w.runs.length, runs, `${w.runs.length} runs`);
    await w.clock.advance(10_000);
    assert.equal(w.runs.length, runs + 1, "what came after the last run ran once the storm was over");
    await w.rt.stop();
  });
}
