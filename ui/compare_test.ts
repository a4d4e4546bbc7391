import assert from "node:assert/strict";
import { openDb, type OpenedDb } from "../db/open.ts";
import { insertRun } from "../db/runs.ts";
import { compare } from "./compare.ts";
import files from "../agent/collectors/files/spec.ts";
import software from "../agent/collectors/software/spec.ts";

type Step = [key: string, category: string, previous: object | null, current: object | null];

/** A run of `collector` at `at` that stored `steps`. */
async function run(o: OpenedDb, collector: string, at: number, steps: Step[]): Promise<void> {
  const id = await insertRun(o.db, {
    collector,
    started_at: at - 1,
    finished_at: at,
    status: "ok",
    counts: "{}",
    error: null,
    warnings: "[]",
  });
  const ins = o.raw.prepare(
    "insert into changes (run_id, at, collector, key, category, fields_changed, previous, current) values (?, ?, ?, ?, ?, '[]', ?, ?)",
  );
  for (const [key, category, previous, current] of steps) {
    ins.run(
      id,
      at,
      collector,
      key,
      category,
      previous && JSON.stringify(previous),
      current && JSON.stringify(current),
    );
  }
}

Deno.test("compare() gives each item's net change from T1 to T2; what came back to where it was is none", async () => {
  const o = await openDb(":memory:");
  try {
    const f = (sum: string, inode = 1, mtime = "2026-01-01T00:00:00Z") => ({
      FileSystemPath: "x",
      FileContentChecksum: sum,
      Inode: inode,
      DateModified: mtime,
    });
    await run(o, "files", 100, [["/a", "Modified", f("0"), f("1")]]);
    await run(o, "files", 200, [
      ["/a", "Modified", f("1"), f("2")],
      ["/rev", "Modified", f("r1"), f("r2")],
      ["/blip", "Added", null, f("b")],
      ["/back", "Removed", f("k"), null],
    ]);
    await run(o, "files", 300, [
      ["/a", "Modified", f("2"), f("3")],
      // Put back, with a new inode (volatile) and modification time (a timestamp): no net change.
      ["/rev", "Modified", f("r2"), f("r1", 2, "2026-02-02T00:00:00Z")],
      ["/blip", "Removed", f("b"), null],
      ["/new", "Added", null, f("n")],
      ["/old", "Removed", f("o"), null],
      // Removed and added again, changed meanwhile: modified.
      ["/back", "Added", null, f("k2")],
    ]);
    await run(o, "software", 250, [["pkg", "Modified", { CurrentVersion: "1" }, { CurrentVersion: "2" }]]);
    await run(o, "files", 400, [["/a", "Modified", f("3"), f("4")]]);
    const specs = [files, software];
    const c = await compare(o.db, specs, { from: 150, to: 350 });
    assert.deepEqual(c.counts, { Added: 1, Removed: 1, Modified: 3 });
    assert.equal(c.events, 11);
    assert.equal(c.total, 5);
    assert.deepEqual(c.rows.map((r) => [r.collector, r.key, r.category, r.changes]), [
      ["files", "/a", "Modified", 2],
      ["files", "/back", "Modified", 2],
      ["files", "/new", "Added", 1],
      ["files", "/old", "Removed", 1],
      ["software", "pkg", "Modified", 1],
    ]);
    const a = c.rows[0];
    assert.deepEqual([a.previous?.FileContentChecksum, a.current?.FileContentChecksum], ["1", "3"]);
    assert.deepEqual(a.fields_changed, ["FileContentChecksum"]);
    assert.deepEqual([a.first_at, a.at], [200, 300]);
    // Filters: type, net category, key text, paging.
    assert.deepEqual(
      (await compare(o.db, specs, { from: 150, to: 350, categories: ["Modified"], collectors: ["files"] }))
        .rows
        .map((r) => r.key),
      ["/a", "/back"],
    );
    const page = await compare(o.db, specs, { from: 150, to: 350, keyLike: "a", offset: 1, limit: 1 });
    assert.equal(page.total, 2);
    assert.deepEqual(page.rows.map((r) => r.key), ["/back"]);
  } finally {
    await o.close();
  }
});
