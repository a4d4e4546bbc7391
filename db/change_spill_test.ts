import assert from "node:assert/strict";
import { existsSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ChangeSpill, isSpillName, removeSpills, spillName } from "./change_spill.ts";

Deno.test("a change spill gives each run's records back in key order, a page at a time, across page ends", async () => {
  const dir = await Deno.makeTempDir();
  const spill = ChangeSpill.create(dir);
  try {
    // Out of order, one key twice (its records in the order they came), another run's records between.
    const keys = ["d", "b", "a", "c", "b", "e", "f", "a"];
    keys.forEach((key, i) => {
      spill.add("files", key, { key, i });
      spill.add("software", `${key}-sw`, { i });
    });
    const pages = [...spill.pages("files", 3)];
    assert.deepEqual(pages.map((p) => p.length), [3, 3, 2]);
    assert.deepEqual(pages.flat().map((t) => JSON.parse(t)), [
      { key: "a", i: 2 },
      { key: "a", i: 7 },
      { key: "b", i: 1 },
      { key: "b", i: 4 },
      { key: "c", i: 3 },
      { key: "d", i: 0 },
      { key: "e", i: 5 },
      { key: "f", i: 6 },
    ]);
    assert.equal([...spill.pages("software", 3)].flat().length, keys.length);
    assert.deepEqual([...spill.pages("nobody")], []);
    // More can be added after a read; another connection reads what was added.
    spill.add("files", "0", { late: true });
    spill.flush();
    const other = ChangeSpill.open(spill.path);
    try {
      assert.deepEqual(JSON.parse([...other.pages("files")][0][0]), { late: true });
    } finally {
      other.close();
    }
  } finally {
    spill.remove();
  }
  assert.equal(existsSync(spill.path), false);
  await Deno.remove(dir);
});

Deno.test({
  name:
    "a change spill is the data directory's own: 0600, named as its kind, refused clearly where it cannot be",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const spill = ChangeSpill.create(dir);
    try {
      assert.equal(statSync(spill.path).mode & 0o777, 0o600);
      assert.ok(isSpillName(spillName(spill)));
    } finally {
      spill.remove();
    }
    assert.throws(
      () => ChangeSpill.create(join(dir, "missing")),
      (e: Error) =>
        e.message.startsWith(`cannot keep the change records for --json in ${join(dir, "missing")}/`),
    );
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("removeSpills() removes old spill files nobody names, and nothing else", async () => {
  const dir = await Deno.makeTempDir();
  const now = Date.now();
  const old = new Date(now - 3_600_000);
  const file = (name: string, aged: boolean) => {
    writeFileSync(join(dir, name), "x");
    if (aged) utimesSync(join(dir, name), old, old);
    return name;
  };
  const stale = file("once-changes-1.db", true);
  const named = file("once-changes-2.db", true);
  const young = file("once-changes-3.db", false);
  const other = file("ctagent.db", true);
  assert.deepEqual(removeSpills(dir, new Set([named]), 600_000, now), [stale]);
  assert.deepEqual([stale, named, young, other].map((n) => existsSync(join(dir, n))), [
    false,
    true,
    true,
    true,
  ]);
  assert.deepEqual(removeSpills(join(dir, "missing"), new Set(), 0, now), []);
  await Deno.remove(dir, { recursive: true });
});
