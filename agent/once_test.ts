import assert from "node:assert/strict";
import type { DatabaseSync } from "node:sqlite";
import { type Db, openDb } from "../db/open.ts";
import { builtInConfig } from "./config/load.ts";
import { liveHost } from "./host/mod.ts";
import { memoryLogger } from "./log.ts";
import { beginRuns, onceJson, onceText, PRINTED_CHANGES, runOnce } from "./once.ts";
import { setState } from "../db/state.ts";
import { fakeCollector } from "../test/fake_collector.ts";
import { ChangeSpill } from "../db/change_spill.ts";

/** A collector of packages `names` at `version.now`, and a pass of runOnce() of it on `db`. */
function packages(names: string[], db: Db, raw: DatabaseSync) {
  const version = { now: "1" };
  const c = fakeCollector("local_users", {
    collect: () => Promise.resolve({ items: names.map((Name) => ({ Name, Version: version.now })) }),
  });
  const pass = (opts: { keepChanges?: number; spill?: ChangeSpill } = {}) =>
    runOnce({
      db,
      raw,
      collectors: [c],
      config: builtInConfig("linux"),
      host: liveHost({ hostname: "h", os: "linux" }),
      log: memoryLogger(),
      signal: new AbortController().signal,
      ...opts,
    });
  return { c, version, pass };
}

Deno.test("runOnce() runs a collector of ctagent's own settings by default, and skips it when they say off", async () => {
  const { db, raw, close } = await openDb(":memory:");
  const host = liveHost({ hostname: "h", os: "linux" });
  const config = builtInConfig("linux");
  const seen = fakeCollector("local_users", {
    collect: () => Promise.resolve({ items: [{ Name: "root" }, { Name: "daemon" }] }),
  });
  const off = fakeCollector("local_tasks", {
    schedule: { dcr: null, setting: "tasks", defaultSeconds: 300 },
  });
  const res = await runOnce({
    db,
    raw,
    collectors: [seen, off],
    config,
    host,
    log: memoryLogger(),
    signal: new AbortController().signal,
    collectorSettings: { tasks: { enabled: false } },
  });
  assert.deepEqual(res.summaries.map((s) => [s.collector, s.status, s.counts.items]), [[
    "local_users",
    "baseline",
    2,
  ]]);
  assert.deepEqual(res.skipped, [{ collector: "local_tasks", reason: "disabled by ctagent's settings" }]);
  assert.match(
    onceText(res, { collectors: [seen, off], config, host }),
    /local_tasks skipped {2}disabled by ctagent's/,
  );
  await close();
});

Deno.test("beginRuns() begins what each collector's last run said; runOnce() hands it over and stops it after the turn", async () => {
  const { db, raw, close } = await openDb(":memory:");
  const host = liveHost({ hostname: "h", os: "linux" });
  const events: string[] = [];
  const begin = (ahead: string) => {
    if (ahead === "throws") throw new Error("cannot begin");
    if (ahead === "nothing") return undefined;
    events.push(`begin ${ahead}`);
    return { stop: () => events.push(`stop ${ahead}`) };
  };
  const collector = (name: string, more: object = {}) =>
    fakeCollector(name, {
      begin,
      collect: (_s, ctx) => {
        events.push(`${name} collects, given ${ctx.begun ? "what was begun" : "nothing"}`);
        return Promise.resolve({ items: [] });
      },
      ...more,
    });
  const users = collector("local_users");
  const tasks = collector("local_tasks", { schedule: { dcr: null, setting: "tasks", defaultSeconds: 300 } });
  const plain = collector("listening_ports", { begin: undefined });
  const broken = collector("kernel_modules");
  const lazy = collector("scheduled_tasks");
  for (
    const [name, ahead] of Object.entries({
      local_users: "u",
      local_tasks: "t",
      listening_ports: "p",
      kernel_modules: "throws",
      scheduled_tasks: "nothing",
      gone: "g",
    })
  ) await setState(db, `ahead.${name}`, ahead);
  const log = memoryLogger();
  const collectors = [users, tasks, plain, broken, lazy];
  const begun = await beginRuns(db, collectors, host, log);
  assert.deepEqual([...begun.keys()], ["local_tasks", "local_users"]);
  assert.deepEqual(events, ["begin t", "begin u"]);
  assert.ok(
    log.lines.some((l) => /cannot begin the run ahead.*kernel_modules/.test(l)),
    log.lines.join("\n"),
  );
  events.length = 0;
  await runOnce({
    db,
    raw,
    collectors,
    config: builtInConfig("linux"),
    host,
    log,
    signal: new AbortController().signal,
    collectorSettings: { tasks: { enabled: false } },
    begun,
  });
  assert.deepEqual(events, [
    "local_users collects, given what was begun",
    "stop u",
    "stop t", // skipped: disabled
    "listening_ports collects, given nothing",
    "kernel_modules collects, given nothing",
    "scheduled_tasks collects, given nothing",
  ]);
  await close();
});

Deno.test("runOnce() tells the heap when each run begins and ends, a failed one too", async () => {
  const { db, raw, close } = await openDb(":memory:");
  const events: string[] = [];
  const collector = (name: string, fail: boolean) =>
    fakeCollector(name, {
      collect: () => {
        events.push(`collect ${name}`);
        return fail ? Promise.reject(new Error("unreadable")) : Promise.resolve({ items: [{ Name: "a" }] });
      },
    });
  const res = await runOnce({
    db,
    raw,
    collectors: [collector("local_users", true), collector("mods", false)],
    config: builtInConfig("linux"),
    host: liveHost({ hostname: "h", os: "linux" }),
    log: memoryLogger(),
    signal: new AbortController().signal,
    heap: { running: () => (events.push("begins"), () => events.push("ends")) },
  });
  assert.deepEqual(res.summaries.map((s) => s.status), ["failed", "baseline"]);
  assert.deepEqual(events, ["begins", "collect local_users", "ends", "begins", "collect mods", "ends"]);
  await close();
});

Deno.test("onceText() lines up its columns under the longest collector name", async () => {
  const { db, raw, close } = await openDb(":memory:");
  const host = liveHost({ hostname: "h", os: "linux" });
  const config = builtInConfig("linux");
  const long = fakeCollector("listening_ports_long", {
    collect: () => Promise.resolve({ items: [{ Name: "a" }] }),
  });
  const short = fakeCollector("mods", { collect: () => Promise.resolve({ items: [{ Name: "b" }] }) });
  const collectors = [long, short];
  const res = await runOnce({
    db,
    raw,
    collectors,
    config,
    host,
    log: memoryLogger(),
    signal: new AbortController().signal,
  });
  const lines = onceText(res, { collectors, config, host }).split("\n").filter((l) => l.includes("baseline"));
  assert.equal(lines.length, 2);
  assert.deepEqual(lines.map((l) => l.indexOf("baseline")), [2 + 21, 2 + 21], lines.join("\n"));
  await close();
});

Deno.test("runOnce() with keepChanges keeps the first change records by key, and onceText counts the rest", async () => {
  const { db, raw, close } = await openDb(":memory:");
  const host = liveHost({ hostname: "h", os: "linux" });
  const config = builtInConfig("linux");
  const names = Array.from({ length: 450 }, (_, i) => `pkg-${String(449 - i).padStart(3, "0")}`);
  const { c, version, pass } = packages(names, db, raw);
  try {
    await pass(); // baseline
    version.now = "2";
    const kept = await pass({ keepChanges: PRINTED_CHANGES });
    const s = kept.summaries[0];
    assert.equal(s.counts.modified, 450);
    // The first by key, whichever order the collector gave them in.
    assert.deepEqual(s.changes.map((r) => r.Name), [...names].sort().slice(0, PRINTED_CHANGES));
    const text = onceText(kept, { collectors: [c], config, host });
    assert.equal(text.split("\n").filter((l) => l.startsWith("  Modified")).length, PRINTED_CHANGES);
    assert.match(text, /… and 250 more \(use --json for all\)/);
    // By default every record (what --json prints); the text is the same.
    version.now = "3";
    const all = await pass();
    assert.deepEqual(all.summaries[0].changes.map((r) => r.Name), [...names].sort());
    assert.match(onceText(all, { collectors: [c], config, host }), /… and 250 more \(use --json for all\)/);
  } finally {
    await close();
  }
});

Deno.test("onceJson() is one JSON document, its inventory read a page at a time: no piece holds it all", async () => {
  const { db, raw, close } = await openDb(":memory:");
  const host = liveHost({ hostname: "h", os: "linux" });
  const config = builtInConfig("linux");
  const hostile = [
    'a "quoted" name',
    "back\\slash",
    "new\nline",
    "tab\there",
    "emoji 🎉",
    "sep\u2028line",
    "}],{",
  ];
  const names = [
    ...hostile,
    ...Array.from({ length: 1_234 }, (_, i) => `pkg-${String(1_233 - i).padStart(4, "0")}`),
  ];
  let version = "1";
  const many = fakeCollector("local_users", {
    collect: () => Promise.resolve({ items: names.map((Name) => ({ Name, Version: version })) }),
  });
  const none = fakeCollector("local_tasks", { collect: () => Promise.resolve({ items: [] }) });
  const collectors = [many, none];
  const pass = () =>
    runOnce({ db, raw, collectors, config, host, log: memoryLogger(), signal: new AbortController().signal });
  try {
    await pass(); // baseline
    version = "2";
    const res = await pass();
    const pieces = await Array.fromAsync(onceJson(res, { db, collectors, config, host }));
    const text = pieces.join("");
    const doc = JSON.parse(text);
    assert.deepEqual(Object.keys(doc), [
      "version",
      "computer",
      "os",
      "config",
      "exitCode",
      "runs",
      "skipped",
      "changes",
      "inventory",
      "errors",
    ]);
    assert.equal(doc.exitCode, res.exitCode);
    assert.deepEqual(doc.runs.map((r: { collector: string }) => r.collector), ["local_users", "local_tasks"]);
    // Every change record as the run kept it, every item in key order with its version, and an empty inventory.
    assert.deepEqual(doc.changes, JSON.parse(JSON.stringify(res.summaries.flatMap((s) => s.changes))));
    assert.equal(doc.changes.length, names.length);
    const inv = doc.inventory.local_users as Record<string, string>[];
    assert.deepEqual(inv.map((r) => r.Name), [...names].sort());
    assert.ok(inv.every((r) => r.Version === "2"));
    assert.deepEqual(doc.inventory.local_tasks, []);
    assert.deepEqual(doc.errors, []);
    // The 1,241 items came in three pages; no piece is as big as a third of the document.
    const longest = Math.max(...pieces.map((p) => p.length));
    assert.ok(longest < text.length / 3, `a piece of ${longest} of ${text.length} characters`);
  } finally {
    await close();
  }
});

Deno.test("runOnce() with a spill and keepChanges 0 holds no change record; onceJson() prints them from it, the same", async () => {
  const host = liveHost({ hostname: "h", os: "linux" });
  const config = builtInConfig("linux");
  const dir = await Deno.makeTempDir();
  // Keys whose JavaScript order and code point order part (U+E000 against a surrogate pair), and hostile ones.
  const names = [
    "\ue000 private",
    "\u{1f600} face",
    'a "quoted" name',
    "new\nline",
    ...Array.from({ length: 730 }, (_, i) => `pkg-${String(729 - i).padStart(4, "0")}`),
  ];
  /** The document of a changed pass, with the records kept in memory or in a spill. */
  const changedPass = async (spill?: ChangeSpill) => {
    const { db, raw, close } = await openDb(":memory:");
    const { c, version, pass } = packages(names, db, raw);
    try {
      await pass(); // baseline
      version.now = "2";
      const res = await pass(spill && { keepChanges: 0, spill });
      const doc = JSON.parse(
        (await Array.fromAsync(onceJson(res, { db, collectors: [c], config, host }))).join(""),
      );
      return { res, doc };
    } finally {
      await close();
    }
  };
  const spill = ChangeSpill.create(dir);
  try {
    const kept = await changedPass();
    const spilled = await changedPass(spill);
    assert.equal(spilled.res.summaries[0].counts.modified, names.length);
    assert.deepEqual(spilled.res.summaries[0].changes, []);
    const plain = (rs: Record<string, unknown>[]) =>
      rs.map(({ RecordId: _r, TimeGenerated: _t, ...rest }) => rest);
    assert.equal(spilled.doc.changes.length, names.length);
    assert.deepEqual(plain(spilled.doc.changes), plain(kept.doc.changes));
    // In code point order, as SQLite orders keys: U+E000 before U+1F600 (JavaScript's `<` says after).
    assert.deepEqual(
      spilled.doc.changes.slice(-2).map((r: { Name: string }) => r.Name),
      ["\ue000 private", "\u{1f600} face"],
    );
  } finally {
    spill.remove();
    await Deno.remove(dir, { recursive: true });
  }
});
