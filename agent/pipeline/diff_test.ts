import assert from "node:assert/strict";
import type { Item } from "../collectors/types.ts";
import { dataChecksum, diffItems, diffOne, seenItem, type StoredItem } from "./diff.ts";

const key = (i: Item) => String(i.name);
function stored(items: Item[], opts: { error?: Record<string, string> } = {}): Map<string, StoredItem> {
  return new Map(items.map((i) => [key(i), {
    key: key(i),
    checksum: dataChecksum(JSON.stringify(i)),
    json: JSON.stringify(i),
    error: opts.error?.[key(i)] ?? null,
    changedAt: 1000,
  }]));
}

Deno.test("diffItems() reports Added, Removed and Modified with the fields that changed", () => {
  const prev = stored([{ name: "a", v: "1", arch: "amd64" }, { name: "b", v: "1" }, { name: "c", v: "1" }]);
  const res = diffItems(prev, [{ name: "a", v: "2", arch: "arm64" }, { name: "c", v: "1" }, {
    name: "d",
    v: "1",
  }], {
    key,
    volatile: ["seen"],
  });
  assert.deepEqual(res.changes.map((c) => [c.key, c.category, c.fieldsChanged]), [
    ["a", "Modified", ["arch", "v"]],
    ["b", "Removed", []],
    ["d", "Added", []],
  ]);
  assert.deepEqual(res.changes[0].previous, { name: "a", v: "1", arch: "amd64" });
  assert.equal(res.changes[0].previousChangedAt, 1000);
  assert.deepEqual(res.removed, ["b"]);
  assert.deepEqual(res.upserts.map((u) => u.key).sort(), ["a", "d"]);
});

Deno.test("diffItems() ignores volatile fields but refreshes the stored row", () => {
  const prev = stored([{ name: "a", v: "1", seen: "t1" }]);
  const res = diffItems(prev, [{ name: "a", v: "1", seen: "t2" }], { key, volatile: ["seen"] });
  assert.deepEqual(res.changes, []);
  assert.deepEqual(res.upserts.map((u) => [u.key, u.changed, JSON.parse(u.json).seen]), [["a", false, "t2"]]);
});

Deno.test("diffItems() never reports an item read with an error and keeps its last good data", () => {
  const prev = stored([{ name: "a", v: "1" }]);
  const res = diffItems(prev, [{ name: "a", v: "", error: "EACCES" }, { name: "new", error: "EACCES" }], {
    key,
  });
  assert.deepEqual(res.changes, []);
  assert.deepEqual(res.removed, []);
  const a = res.upserts.find((u) => u.key === "a")!;
  assert.deepEqual([JSON.parse(a.json), a.error, a.checksum], [
    { name: "a", v: "1" },
    "EACCES",
    prev.get("a")!.checksum,
  ]);
  const n = res.upserts.find((u) => u.key === "new")!;
  assert.deepEqual([n.checksum, n.error], [null, "EACCES"]);
});

Deno.test("diffItems() reports an item that was only ever unreadable as Added once it can be read", () => {
  const prev = new Map<string, StoredItem>([["x", {
    key: "x",
    checksum: null,
    json: `{"name":"x"}`,
    error: "EACCES",
    changedAt: 1,
  }]]);
  const res = diffItems(prev, [{ name: "x", v: "1" }], { key });
  assert.deepEqual(res.changes.map((c) => c.category), ["Added"]);
  const gone = diffItems(prev, [], { key });
  assert.deepEqual([gone.changes, gone.removed], [[], ["x"]]);
});

Deno.test("diffItems() keeps previous items under unseen prefixes instead of reporting them Removed", () => {
  const prev = stored([{ name: "rpm:a" }, { name: "dpkg:b" }]);
  const res = diffItems(prev, [], { key, unseen: ["rpm:"] });
  assert.deepEqual(res.changes.map((c) => [c.key, c.category]), [["dpkg:b", "Removed"]]);
  assert.deepEqual(res.removed, ["dpkg:b"]);
});

Deno.test("diffItems() on a baseline stores everything and reports nothing", () => {
  const res = diffItems(new Map(), [{ name: "a" }, { name: "b" }, { name: "a", v: "dup" }], {
    key,
    baseline: true,
  });
  assert.deepEqual(res.changes, []);
  assert.equal(res.upserts.length, 2);
  assert.deepEqual(res.duplicates, ["a"]);
});

Deno.test("diffOne() reports nothing when only the field order moved, and a type change as Modified", () => {
  const prev = stored([{ name: "a", v: 1, b: "x" }]).get("a")!;
  const reordered = diffOne(prev, seenItem("a", { b: "x", v: 1, name: "a" }), {});
  assert.equal(reordered.change, undefined);
  assert.deepEqual([reordered.upsert?.changed, reordered.upsert?.changedAt], [false, 1000]);
  assert.equal(
    reordered.upsert?.checksum,
    dataChecksum(reordered.upsert!.json),
    "checksum of what is stored",
  );
  const retyped = diffOne(prev, seenItem("a", { name: "a", v: "1", b: "x" }), {});
  assert.deepEqual([retyped.change?.category, retyped.change?.fieldsChanged], ["Modified", ["v"]]);
});

Deno.test("diffOne() stores a new fingerprint of an unchanged item without reporting it", () => {
  const prev = { ...stored([{ name: "a", v: "1" }]).get("a")!, fingerprint: "f1" };
  const same = diffOne(prev, seenItem("a", JSON.parse(prev.json), "f1"), {});
  assert.deepEqual(same, {});
  const moved = diffOne(prev, seenItem("a", JSON.parse(prev.json), "f2"), {});
  assert.equal(moved.change, undefined);
  assert.deepEqual([moved.upsert?.fingerprint, moved.upsert?.changed, moved.upsert?.changedAt], [
    "f2",
    false,
    1000,
  ]);
  // An error drops the fingerprint: the next run must look at the item again.
  const failed = diffOne(prev, seenItem("a", { name: "a", error: "EIO" }, "f1"), {});
  assert.deepEqual([failed.upsert?.fingerprint, failed.upsert?.error, failed.upsert?.json], [
    null,
    "EIO",
    prev.json,
  ]);
});
