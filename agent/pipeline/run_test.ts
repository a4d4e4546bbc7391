import assert from "node:assert/strict";
import type { DatabaseSync } from "node:sqlite";
import type { Collected, Collector, Item } from "../collectors/types.ts";
import { chooseEntry, parseDcrDocument } from "../config/document.ts";
import { liveHost } from "../host/mod.ts";
import { memoryLogger } from "../log.ts";
import { openDb } from "../../db/open.ts";
import { getState } from "../../db/state.ts";
import { runCollector } from "./run.ts";
import { inventoryRecord } from "./records.ts";
import { routedRecord } from "../ama/sender.ts";
import { fakeCollector } from "../../test/fake_collector.ts";

/** A collector's stored items (their JSON as `json`), by key. */
const loadItems = (raw: DatabaseSync, collector: string) =>
  new Map(
    (raw.prepare("SELECT key, data AS json FROM items WHERE collector = ?").all(collector) as {
      key: string;
      json: string;
    }[]).map((i) => [i.key, i]),
  );

const settings = chooseEntry(parseDcrDocument({ enableInventory: true }, "linux"), "linux").entry!.settings!;
const host = liveHost({ hostname: "testhost" });
/** Settings that make an inventory snapshot due every 10 s. */
const every10s = chooseEntry(
  parseDcrDocument(
    { enableInventory: true, inventorySettings: { inventoryCollectionFrequency: 10 } },
    "linux",
  ),
  "linux",
).entry!.settings!;

/** A collector whose next result the test sets. */
function fake(): Collector & { next: Collected | Error } {
  const c: Collector & { next: Collected | Error } = {
    next: { items: [] },
    ...fakeCollector("software", {
      platforms: ["linux"],
      dataType: { linux: "Software" },
      key: (i: Item) => String(i.SoftwareName),
      currentField: "CurrentVersion",
      collect: () => c.next instanceof Error ? Promise.reject(c.next) : Promise.resolve(c.next),
    }),
  };
  return c;
}
const pkg = (name: string, version: string): Item => ({
  SoftwareName: name,
  CurrentVersion: version,
  SoftwareType: "Package",
});

async function setup() {
  const opened = await openDb(":memory:");
  const c = fake();
  let t = 1_000_000;
  const run = (extra: Partial<Parameters<typeof runCollector>[0]> = {}) =>
    runCollector({
      db: opened.db,
      raw: opened.raw,
      collector: c,
      settings,
      host,
      log: memoryLogger(),
      signal: new AbortController().signal,
      now: () => (t += 1000),
      ...extra,
    });
  /** The outbox's records, whole (both parts). */
  const outbox = async () =>
    (await opened.db.selectFrom("outbox").selectAll().orderBy("id").execute()).map((r) => ({
      stream: r.stream,
      ...JSON.parse(routedRecord(r, "full")!),
    }));
  return { ...opened, c, run, outbox };
}

Deno.test("runCollector() stores a baseline without changes, then reports exactly what changed", async () => {
  const { db, raw, c, run, outbox, close } = await setup();
  c.next = { items: [pkg("a", "1"), pkg("b", "1")] };
  const first = await run();
  assert.equal(first.status, "baseline");
  assert.deepEqual(first.changes, []);
  assert.equal(first.itemsWritten, 2);
  const again = await run();
  assert.deepEqual([again.status, again.itemsWritten, again.counts.items], ["ok", 0, 2]);
  const snap = await outbox();
  assert.deepEqual(snap.map((r) => [r.stream, r.ConfigDataType, r.SoftwareName]), [
    ["CONFIG_DATA_BLOB_V2", "Software", "a"],
    ["CONFIG_DATA_BLOB_V2", "Software", "b"],
  ]);
  await db.deleteFrom("outbox").execute();

  c.next = { items: [pkg("a", "2"), pkg("c", "1")] };
  const second = await run();
  assert.equal(second.status, "ok");
  assert.equal(second.itemsWritten, 3, "a and c written, b deleted");
  assert.deepEqual(second.counts, { items: 2, added: 1, removed: 1, modified: 1, errors: 0, records: 5 });
  assert.deepEqual(
    second.changes.map((r) => [r.ChangeCategory, r.SoftwareName, r.Previous ?? "", r.Current ?? ""]),
    [
      ["Modified", "a", "1", "2"],
      ["Removed", "b", "1", ""],
      ["Added", "c", "", "1"],
    ],
  );
  const rows = await outbox();
  assert.deepEqual(rows.filter((r) => r.stream === "CONFIG_CHANGE_BLOB_V2").length, 3);
  // A change also emits inventory records for what it touched.
  assert.deepEqual(rows.filter((r) => r.stream === "CONFIG_DATA_BLOB_V2").map((r) => r.SoftwareName), [
    "a",
    "c",
  ]);
  assert.deepEqual([...loadItems(raw, "software").keys()].sort(), ["a", "c"]);
  const hist = await db.selectFrom("changes").select(["key", "category"]).orderBy("key").execute();
  assert.deepEqual(hist, [{ key: "a", category: "Modified" }, { key: "b", category: "Removed" }, {
    key: "c",
    category: "Added",
  }]);
  await close();
});

Deno.test("runCollector() records a failed run and never reports Removed for it", async () => {
  const { db, raw, c, run, close } = await setup();
  c.next = { items: [pkg("a", "1")] };
  await run();
  c.next = new Error("dpkg status unreadable");
  const failed = await run();
  assert.deepEqual([failed.status, failed.error, failed.changes], ["failed", "dpkg status unreadable", []]);
  assert.deepEqual([...loadItems(raw, "software").keys()], ["a"]);
  c.next = { items: [pkg("a", "1")] };
  assert.deepEqual((await run()).changes, []);
  const statuses = (await db.selectFrom("runs").select("status").orderBy("id").execute()).map((r) =>
    r.status
  );
  assert.deepEqual(statuses, ["baseline", "failed", "ok"]);
  await close();
});

Deno.test("runCollector() writes nothing of a run aborted after collection", async () => {
  const { db, c, run, close } = await setup();
  c.next = { items: [pkg("a", "1")] };
  const ac = new AbortController();
  ac.abort();
  const res = await run({ signal: ac.signal });
  assert.equal(res.status, "aborted");
  assert.equal((await db.selectFrom("items").selectAll().execute()).length, 0);
  assert.equal((await db.selectFrom("outbox").selectAll().execute()).length, 0);
  await close();
});

Deno.test("runCollector() writes items, changes and outbox together or not at all", async () => {
  const { db, raw, c, run, close } = await setup();
  c.next = { items: [pkg("a", "1")] };
  await run();
  raw.exec("CREATE TRIGGER boom BEFORE INSERT ON changes BEGIN SELECT RAISE(ABORT, 'disk full'); END");
  c.next = { items: [pkg("a", "2"), pkg("b", "1")] };
  const before = await db.selectFrom("outbox").selectAll().execute();
  await assert.rejects(() => run(), /disk full/);
  assert.deepEqual(JSON.parse(loadItems(raw, "software").get("a")!.json).CurrentVersion, "1");
  assert.equal(loadItems(raw, "software").has("b"), false);
  assert.equal((await db.selectFrom("outbox").selectAll().execute()).length, before.length);
  assert.equal((await db.selectFrom("runs").selectAll().execute()).length, 1);
  raw.exec("DROP TRIGGER boom");
  const ok = await run();
  assert.deepEqual(ok.changes.map((r) => r.ChangeCategory), ["Modified", "Added"]);
  await close();
});

Deno.test("runCollector() keeps the outbox bounded and counts what it dropped", async () => {
  const { db, c, run, close } = await setup();
  c.next = { items: Array.from({ length: 30 }, (_, i) => pkg(`p${i}`, "1")) };
  const res = await run({ outboxMax: 20 });
  assert.equal(res.counts.records, 30);
  const left = await db.selectFrom("outbox").select(["id", "record"]).orderBy("id").execute();
  assert.equal(left.length, 20);
  // The oldest 10 went: what is left are the last 20 written, 20 different packages.
  assert.equal(left[19].id - left[0].id, 19);
  assert.equal(new Set(left.map((r) => JSON.parse(r.record).SoftwareName)).size, 20);
  assert.equal(await getState(db, "outbox.dropped"), "10");
  await close();
});

Deno.test("runCollector() puts a collector AMA does not take on ctagent's own streams, and only for --forward", async () => {
  const { c, run, outbox, close } = await setup();
  Object.assign(c, { name: "local_only", toAma: false });
  c.next = { items: [pkg("a", "1")] };
  // Without a forward endpoint nobody would take them: the store and the page have them, the outbox not.
  const first = await run();
  assert.deepEqual([first.status, first.counts.records, await outbox()], ["baseline", 0, []]);
  c.next = { items: [pkg("a", "2")] };
  const second = await run();
  assert.deepEqual([second.counts.modified, second.changes.length, await outbox()], [1, 1, []]);
  c.next = { items: [pkg("a", "3")] };
  const third = await run({ fields: "full" });
  assert.deepEqual((await outbox()).map((r) => [r.stream, r.ConfigChangeType ?? r.ConfigDataType]), [
    ["CTAGENT_CHANGE", "Software"],
    ["CTAGENT_DATA", "Software"],
  ]);
  assert.equal(third.counts.records, 2);
  await close();
});

Deno.test("runCollector() tells the collector when the run started (its clock, not the collector's)", async () => {
  const { c, run, close } = await setup();
  const seen: (number | undefined)[] = [];
  c.collect = (_s, ctx) => (seen.push(ctx.now), Promise.resolve({ items: [] }));
  const first = await run();
  const second = await run();
  assert.deepEqual(seen, [first.startedAt, second.startedAt]);
  assert.ok(second.startedAt > first.startedAt);
  await close();
});

Deno.test("runCollector() keeps an unreadable item out of the changes and the inventory", async () => {
  const { c, run, close } = await setup();
  c.next = { items: [pkg("a", "1")] };
  await run();
  c.next = { items: [{ ...pkg("a", "?"), error: "EACCES" }] };
  const res = await run();
  assert.deepEqual([res.changes, res.counts.errors], [[], 1]);
  await close();
});

Deno.test("runCollector() with a streaming collector: same by fingerprint, changes, removals, duplicates", async () => {
  const { db, c, run, close } = await setup();
  type Step = (ctx: Parameters<Collector["collect"]>[1]) => Promise<void>;
  let step: Step = async () => {};
  let seenPrevious: ReadonlyMap<string, string> | undefined;
  c.collect = async (_s, ctx) => {
    seenPrevious = new Map(["a", "b", "c", "d", "e", "z"].flatMap((k) => {
      const v = ctx.previous!.get(k);
      return v === undefined ? [] : [[k, v] as const];
    }));
    await step(ctx);
    return { items: [] };
  };
  step = async ({ sink }) => {
    for (const n of ["a", "b", "c", "d"]) await sink!.add(pkg(n, "1"), `fp-${n}-1`);
  };
  assert.equal((await run()).counts.items, 4);
  step = async ({ sink }) => {
    await sink!.same("a");
    await sink!.add(pkg("b", "2"), "fp-b-2"); // modified
    await sink!.add({ ...pkg("c", "?"), error: "EIO" }); // unreadable: kept, never reported
    // d is gone; e is new; a is reported again (dropped); z was never stored (dropped)
    await sink!.add(pkg("e", "1"), "fp-e-1");
    await sink!.add(pkg("a", "9"), "fp-a-9");
    await sink!.same("z");
  };
  const second = await run();
  assert.deepEqual([...seenPrevious!].sort(), [["a", "fp-a-1"], ["b", "fp-b-1"], ["c", "fp-c-1"], [
    "d",
    "fp-d-1",
  ]]);
  assert.deepEqual(
    second.changes.map((r) => [r.ChangeCategory, r.SoftwareName]),
    [["Modified", "b"], ["Removed", "d"], ["Added", "e"]],
  );
  assert.deepEqual(second.counts, { items: 4, added: 1, removed: 1, modified: 1, errors: 1, records: 5 });
  assert.ok(
    second.warnings.some((w) => w === "2 duplicate item key(s) dropped, e.g. a, z"),
    second.warnings.join(),
  );
  const rows = await db.selectFrom("items").select(["key", "fingerprint", "error", "data"]).orderBy("key")
    .execute();
  assert.deepEqual(rows.map((r) => [r.key, r.fingerprint, r.error, JSON.parse(r.data).CurrentVersion]), [
    ["a", "fp-a-1", null, "1"],
    ["b", "fp-b-2", null, "2"],
    ["c", null, "EIO", "1"],
    ["e", "fp-e-1", null, "1"],
  ]);
  // The unreadable item has no fingerprint: the next run does not get one for it.
  step = async (ctx) => {
    assert.equal(ctx.previous!.get("c"), undefined);
    for (const k of ["a", "b", "e"]) await ctx.sink!.same(k);
    await ctx.sink!.add(pkg("c", "1"), "fp-c-1");
  };
  const third = await run();
  assert.deepEqual([third.changes, third.counts.items, third.counts.errors], [[], 4, 0]);
  await close();
});

Deno.test("runCollector() sends the whole inventory when due: staged items from their bodies, the same ones from the store", async () => {
  const { db, c, run, outbox, close } = await setup();
  c.collect = async (_s, ctx) => {
    for (const n of ["a", "b", "c"]) {
      if (ctx.previous!.get(n) === `fp-${n}`) await ctx.sink!.same(n);
      else {await ctx.sink!.add(
          pkg(n, n === "b" && ctx.previous!.get("c") !== undefined ? "2" : "1"),
          `fp-${n}`,
        );}
    }
    return { items: [] };
  };
  await run({ settings: every10s });
  await db.deleteFrom("outbox").execute();
  // Only b was touched (its fingerprint stayed: its new version is an update the test forces). 20 s later the
  // snapshot is due again: a and c come from the stored items, b from what was staged.
  await db.updateTable("items").set({ fingerprint: "stale" }).where("key", "=", "b").execute();
  let t = 50_000_000;
  const second = await run({ settings: every10s, now: () => (t += 1000), fields: "full" });
  assert.deepEqual(second.changes.map((r) => [r.ChangeCategory, r.SoftwareName]), [["Modified", "b"]]);
  const snap = (await outbox()).filter((r) => r.stream === "CONFIG_DATA_BLOB_V2");
  assert.deepEqual(snap.map((r) => [r.SoftwareName, r.CurrentVersion, r.ConfigDataType]).sort(), [
    ["a", "1", "Software"],
    ["b", "2", "Software"],
    ["c", "1", "Software"],
  ]);
  assert.equal(new Set(snap.map((r) => r.TimeGenerated)).size, 1, "one time for the whole snapshot");
  assert.equal(new Set(snap.map((r) => r.RecordId)).size, 3);
  await close();
});

Deno.test("runCollector() snapshots equal inventoryRecord() of each item, field order included: the baseline's (written as found) and a later one (by SQL)", async () => {
  const { db, c, run, close } = await setup();
  const items: Item[] = [
    { SoftwareName: 'q"uote \u00e9\n\\', CurrentVersion: "1", Size: 12, Ok: true, Gone: null },
    { SoftwareName: "computer", Computer: "not this", TimeGenerated: "nor this", Big: 1.5e300 },
    { SoftwareName: "only" },
  ];
  let t = 1_000_000;
  for (const [round, version] of [[0, "1"], [1, "2"]] as const) {
    // The second run changes every item, so each is staged, and its snapshot is due (20 s later).
    c.next = { items: items.map((i) => ({ ...i, CurrentVersion: version })) };
    const s = await run({ fields: "full", settings: every10s, now: () => (t += 10_000) });
    const snap =
      (await db.selectFrom("outbox").selectAll().where("stream", "=", "CONFIG_DATA_BLOB_V2").execute())
        .map((r) => ({ la: JSON.parse(r.record), extra: JSON.parse(r.extra!) }));
    await db.deleteFrom("outbox").execute();
    assert.equal(snap.length, 3);
    // The baseline's records are written as the items are found: their time is the run's start.
    const at = round === 0 ? s.startedAt : s.finishedAt;
    for (const item of c.next.items) {
      const got = snap.find((r) => r.la.SoftwareName === item.SoftwareName)!;
      const want = inventoryRecord(item, { dataType: "Software", computer: "testhost", at });
      assert.match(
        got.extra.RecordId,
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      assert.deepEqual(Object.keys(got.la), Object.keys(want.la!));
      assert.deepEqual(got.la, want.la);
      assert.deepEqual(Object.keys(got.extra), Object.keys(want.extra));
      assert.deepEqual({ ...got.extra, RecordId: "" }, { ...want.extra, RecordId: "" });
    }
    assert.equal(new Set(snap.map((r) => r.extra.RecordId)).size, 3);
  }
  await close();
});

Deno.test('runCollector() with fields "la" keeps only the table part in the outbox, and no record of which nothing is for the table', async () => {
  const { db, c, run, close } = await setup();
  c.next = { items: [pkg("a", "1"), pkg("b", "1")] };
  await run({ fields: "la" });
  // b's change is of Status only (no column of either table): nothing of it, nor of b's row, for AMA.
  c.next = { items: [pkg("a", "1"), { ...pkg("b", "1"), Status: "half-installed" }] };
  const second = await run({ fields: "la" });
  assert.deepEqual(second.changes.map((r) => [r.ChangeCategory, r.FieldsChanged]), [["Modified", "Status"]]);
  const rows = await db.selectFrom("outbox").selectAll().orderBy("id").execute();
  assert.deepEqual(rows.map((r) => [r.stream, JSON.parse(r.record).SoftwareName, r.extra]), [
    ["CONFIG_DATA_BLOB_V2", "a", null],
    ["CONFIG_DATA_BLOB_V2", "b", null],
  ]);
  assert.ok(rows.every((r) => !("Status" in JSON.parse(r.record))), "Status is no column");
  // A full forward endpoint takes both, as full records.
  await db.deleteFrom("outbox").execute();
  c.next = { items: [pkg("a", "1"), { ...pkg("b", "1"), Status: "installed" }] };
  await run({ fields: "full" });
  const full = await db.selectFrom("outbox").selectAll().orderBy("id").execute();
  assert.deepEqual(full.map((r) => [r.stream, r.record, JSON.parse(r.extra!).Status]), [
    ["CONFIG_CHANGE_BLOB_V2", "", "installed"],
    ["CONFIG_DATA_BLOB_V2", "", "installed"],
  ]);
  await close();
});

Deno.test("runCollector() refreshes the fields a newer version fills differently without reporting them, once", async () => {
  const { db, c, run, close } = await setup();
  c.next = { items: [{ ...pkg("a", "1"), Size: 2048 }, { ...pkg("b", "1"), Size: 10 }] };
  await run(); // stored by a version without revisions
  await db.deleteFrom("state").where("key", "=", "revision.software").execute();
  c.revisions = [["Size"]];
  c.next = { items: [{ ...pkg("a", "1"), Size: 2 }, { ...pkg("b", "2"), Size: 11 }] };
  const upgrade = await run();
  assert.deepEqual(upgrade.changes.map((r) => [r.SoftwareName, r.FieldsChanged]), [["b", "CurrentVersion"]]);
  const a = await db.selectFrom("items").select("data").where("key", "=", "a").executeTakeFirstOrThrow();
  assert.equal(JSON.parse(a.data).Size, 2, "the stored item has the new content");
  assert.equal(await getState(db, "revision.software"), "1");
  c.next = { items: [{ ...pkg("a", "1"), Size: 3 }, { ...pkg("b", "2"), Size: 11 }] };
  const after = await run();
  assert.deepEqual(after.changes.map((r) => [r.SoftwareName, r.FieldsChanged]), [["a", "Size"]]);
  await close();
});

Deno.test("runCollector() hands the collector what was begun for it, and keeps what its next run can begin", async () => {
  const { db, c, run, close } = await setup();
  const begun = { stop: () => {} };
  let given: unknown = "not called";
  c.begin = () => undefined;
  const collect = c.collect;
  c.collect = (settings, ctx) => {
    given = ctx.begun;
    return collect(settings, ctx);
  };
  c.next = { items: [pkg("a", "1"), pkg("b", "1")], ahead: "start 1" };
  await run({ begun });
  assert.equal(given, begun);
  assert.equal(await getState(db, "ahead.software"), "start 1");
  c.next = { items: [pkg("a", "1"), pkg("b", "1")], ahead: "start 2" };
  await run();
  assert.equal(given, undefined);
  assert.equal(await getState(db, "ahead.software"), "start 2");
  // A partial run says nothing of what a whole run can begin: what the last whole run said stays.
  c.next = { items: [pkg("a", "2")] };
  await run({ scope: { keys: ["a"], prefixes: [] } });
  assert.equal(await getState(db, "ahead.software"), "start 2");
  // A whole run with nothing to begin: nothing is begun next time.
  c.next = { items: [pkg("a", "2"), pkg("b", "1")] };
  await run();
  assert.equal(await getState(db, "ahead.software"), undefined);
  // A failed run leaves it as it was.
  c.next = { items: [pkg("a", "2"), pkg("b", "1")], ahead: "start 3" };
  await run();
  c.next = new Error("cannot read the package database");
  await run();
  assert.equal(await getState(db, "ahead.software"), "start 3");
  // A collector that cannot begin anything keeps nothing of it.
  c.begin = undefined;
  c.next = { items: [pkg("a", "2"), pkg("b", "1")], ahead: "start 4" };
  await run();
  assert.equal(await getState(db, "ahead.software"), "start 3");
  await close();
});

Deno.test("runCollector() with a scope looks only there: outside it nothing is Removed, inside the change carries its origin", async () => {
  const { db, c, run, outbox, close } = await setup();
  c.next = { items: [pkg("a", "1"), pkg("ab", "1"), pkg("b", "1"), pkg("c", "1")] };
  await run();
  await db.deleteFrom("outbox").execute();
  const runs = async () => (await db.selectFrom("runs").select("status").execute()).map((r) => r.status);

  // The collector finds everything (b gone, c modified), but only a and prefix "a" are asked: ab is gone there.
  c.next = { items: [pkg("a", "2"), pkg("c", "2")] };
  const origin = (key: string) => key === "a" ? { ProcessId: "42", ProcessName: "vim" } : undefined;
  const partial = await run({ scope: { keys: ["a"], prefixes: ["ab"] }, origin });
  assert.equal(partial.status, "realtime");
  assert.deepEqual(
    partial.changes.map((r) => [r.SoftwareName, r.ChangeCategory, r.ProcessId ?? null]),
    [["a", "Modified", "42"], ["ab", "Removed", null]],
  );
  assert.deepEqual(partial.counts, { items: 1, added: 0, removed: 1, modified: 1, errors: 0, records: 3 });
  const rows = await db.selectFrom("changes").select(["key", "origin"]).orderBy("id").execute();
  assert.deepEqual(rows, [{ key: "a", origin: '{"ProcessId":"42","ProcessName":"vim"}' }, {
    key: "ab",
    origin: null,
  }]);
  // AMA's part carries Log Analytics columns only; the origin is in the full record.
  const changes = (await db.selectFrom("outbox").selectAll().where("stream", "=", "CONFIG_CHANGE_BLOB_V2")
    .execute()).map((r) => [JSON.parse(r.record).ProcessId, JSON.parse(r.extra ?? "{}").ProcessId]);
  assert.deepEqual(
    changes,
    [[undefined, undefined], [undefined, undefined]],
    "extras are kept only with fields full",
  );
  assert.equal((await outbox()).filter((r) => r.ConfigDataType).length, 1, "no snapshot, only a's inventory");
  assert.deepEqual(await runs(), ["baseline", "realtime"]);

  // Nothing changed in the scope: no runs row.
  const quiet = await run({ scope: { keys: ["a"], prefixes: [] } });
  assert.deepEqual([quiet.status, quiet.runId, quiet.counts.items], ["realtime", 0, 1]);
  assert.deepEqual(await runs(), ["baseline", "realtime"]);

  // The whole run after it sees b and c as they are now.
  const full = await run();
  assert.deepEqual(full.changes.map((r) => [r.SoftwareName, r.ChangeCategory]), [["b", "Removed"], [
    "c",
    "Modified",
  ]]);
  await close();
});

Deno.test("runCollector() with a scope wider than a window of stored rows reports Removed only inside it", async () => {
  const { c, run, close } = await setup();
  const names = Array.from({ length: 3000 }, (_, i) => `k${String(i).padStart(4, "0")}`);
  c.next = { items: names.map((n) => pkg(n, "1")) };
  await run();
  // The scope's prefixes k1…, k2… make one range of 2,000 stored keys, more than a window. Gone: two there (one
  // of them also a key of the scope), another key of the scope, and two outside it. (The collector reports in key order, as the
  // files walk does.)
  const gone = new Set(["k1500", "k2999", "k0005", "k0006", "k0999"]);
  const found = names.filter((n) => !gone.has(n)).reverse();
  c.next = {
    items: [...found.filter((_, i) => i % 2), ...found.filter((_, i) => !(i % 2))].map((n) => pkg(n, "1")),
  };
  const partial = await run({ scope: { keys: ["k0005", "k2999"], prefixes: ["k2", "k1"] } });
  assert.deepEqual(
    partial.changes.map((r) => [r.SoftwareName, r.ChangeCategory]).sort(),
    [["k0005", "Removed"], ["k1500", "Removed"], ["k2999", "Removed"]],
  );
  assert.equal(partial.counts.items, 1998, "the items of k1… and k2… found");
  const full = await run();
  assert.deepEqual(full.changes.map((r) => [r.SoftwareName, r.ChangeCategory]).sort(), [
    ["k0006", "Removed"],
    ["k0999", "Removed"],
  ]);
  await close();
});

Deno.test("runCollector() with fields full puts the origin in the outbox's extra part, never in AMA's", async () => {
  const { db, c, run, close } = await setup();
  c.next = { items: [pkg("a", "1")] };
  await run();
  c.next = { items: [pkg("a", "2")] };
  await run({ scope: { keys: ["a"], prefixes: [] }, origin: () => ({ ProcessId: "7" }), fields: "full" });
  const row = await db.selectFrom("outbox").selectAll().where("stream", "=", "CONFIG_CHANGE_BLOB_V2")
    .executeTakeFirstOrThrow();
  assert.equal(JSON.parse(row.record).ProcessId, undefined);
  assert.equal(JSON.parse(row.extra!).ProcessId, "7");
  await close();
});

Deno.test("runCollector() ignores a scope before the baseline: the first run is whole", async () => {
  const { c, run, close } = await setup();
  c.next = { items: [pkg("a", "1"), pkg("b", "1")] };
  const first = await run({ scope: { keys: ["a"], prefixes: [] } });
  assert.deepEqual([first.status, first.counts.items], ["baseline", 2]);
  await close();
});

Deno.test("runCollector() sends the inventory at once when the clock was set back past the last snapshot", async () => {
  const { db, c, run, outbox, close } = await setup();
  const hourly = chooseEntry(
    parseDcrDocument(
      { enableInventory: true, inventorySettings: { inventoryCollectionFrequency: 3600 } },
      "linux",
    ),
    "linux",
  ).entry!.settings!;
  c.next = { items: [pkg("a", "1")] };
  let t = 100_000_000;
  await run({ settings: hourly, now: () => t });
  await db.deleteFrom("outbox").execute();
  const snapshots = async () => (await outbox()).filter((r) => r.stream === "CONFIG_DATA_BLOB_V2").length;
  t += 60_000; // a minute later: not due
  await run({ settings: hourly, now: () => t });
  assert.equal(await snapshots(), 0);
  // The clock is set back a day: the last snapshot now reads as tomorrow's. Waiting for tomorrow would leave the
  // workspace without an inventory for a day (a year, for a clock set back a year).
  t -= 86_400_000;
  await run({ settings: hourly, now: () => t });
  assert.equal(await snapshots(), 1, "the snapshot went out");
  await db.deleteFrom("outbox").execute();
  t += 60_000; // and from then on, hourly by the new clock
  await run({ settings: hourly, now: () => t });
  assert.equal(await snapshots(), 0);
  await close();
});

Deno.test("runCollector() prepares the same statements whatever the number of changes (none kept per count)", async () => {
  const { raw, c, run, close } = await setup();
  // Every text the runs prepare; a compiled statement stays in its connection's cache, and one per number of
  // changes (a 400-row insert is about 0.5 MB) piled up over a daemon's runs of varied sizes.
  const prepared = new Set<string>();
  const prepare = raw.prepare.bind(raw);
  raw.prepare = (sql: string) => (prepared.add(sql), prepare(sql));
  c.next = { items: [pkg("base", "1")] };
  await run();
  const grew: number[] = [];
  for (let n = 1; n <= 8; n++) {
    const before = prepared.size;
    const added = Array.from({ length: n }, (_, i) => pkg(`p${i}`, "1"));
    c.next = { items: [pkg("base", "1"), ...added] };
    const a = await run();
    c.next = { items: [pkg("base", "1")] };
    const r = await run();
    assert.deepEqual([a.counts.added, r.counts.removed], [n, n]);
    grew.push(prepared.size - before);
  }
  // The first rounds prepare what a run with changes needs; later ones, of other sizes, nothing new.
  assert.deepEqual(grew.slice(2), [0, 0, 0, 0, 0, 0], `new statements per round: ${grew}`);
  close();
});
