import assert from "node:assert/strict";
import { openDb } from "../db/open.ts";
import { fillSynthetic } from "./testdata/synthetic.ts";
import { hostileItems, writeItems } from "../db/testdata/items.ts";
import { inventoryIndex } from "./inventory_index.ts";
import { inventory } from "./queries.ts";

Deno.test("inventoryIndex() pages 5,000 items without gaps or overlaps in any sort order", async () => {
  const opened = await openDb(":memory:");
  try {
    fillSynthetic(opened, { software: 5000 });
    const ix = inventoryIndex(opened.db);
    for (const [sort, dir] of [["key", "asc"], ["CurrentVersion", "desc"], ["Size", "asc"]] as const) {
      const seen: string[] = [];
      for (let off = 0; off < 5000; off += 500) {
        const p = await ix.query({ collector: "software", sort, dir, offset: off, limit: 500 });
        assert.equal(p.total, 5000);
        seen.push(...p.rows.map((r) => r.key));
      }
      assert.equal(new Set(seen).size, 5000, `${sort} ${dir}`);
      if (sort === "Size") {
        const sizes = (await ix.query({ collector: "software", sort, limit: 500 })).rows.map((r) =>
          r.data.Size as number
        );
        assert.deepEqual(sizes, [...sizes].sort((a, b) => a - b), "numbers sort as numbers");
      }
    }
  } finally {
    await opened.close();
  }
});

Deno.test("inventoryIndex() searches values case-insensitively, never field names, and sees new runs", async () => {
  const opened = await openDb(":memory:");
  try {
    fillSynthetic(opened, { software: 1000 });
    const ix = inventoryIndex(opened.db);
    const hit = await ix.query({ collector: "software", q: "PKG-00012" });
    assert.deepEqual(
      hit.rows.map((r) => r.data.SoftwareName).sort(),
      Array.from(
        { length: 10 },
        (_, i) => `pkg-0001${20 + i}-${["lib", "tool", "daemon", "doc"][(120 + i) % 4]}`,
      ).sort(),
    );
    assert.equal((await ix.query({ collector: "software", q: "SoftwareDescription" })).total, 0);
    await opened.db.insertInto("items").values({
      collector: "software",
      key: "dpkg:newpkg:all",
      checksum: null,
      data: JSON.stringify({ SoftwareName: "newpkg" }),
      error: "cannot read",
      first_seen: 0,
      changed_at: 0,
    }).execute();
    await opened.db.insertInto("runs").values({
      collector: "software",
      started_at: 0,
      finished_at: 0,
      status: "ok",
      counts: "{}",
      error: null,
      warnings: "[]",
    }).execute();
    const after = await ix.query({ collector: "software", q: "newpkg" });
    assert.equal(after.total, 1, "a new run invalidates the index");
    assert.equal((await ix.query({ collector: "software", errors: true })).total, 1);
    await assert.rejects(() => ix.query({ collector: "software", sort: "x') --" }), RangeError);
  } finally {
    await opened.close();
  }
});

Deno.test("inventoryIndex() answers the plain key-ordered page before its index is built, same rows as after", async () => {
  const opened = await openDb(":memory:");
  try {
    fillSynthetic(opened, { files: 3000 });
    const ix = inventoryIndex(opened.db);
    const cold = await ix.query({ collector: "files", offset: 100, limit: 50 });
    // A search every item matches goes through the (now built) index.
    const warm = await ix.query({ collector: "files", offset: 100, limit: 50, q: "/srv/" });
    assert.equal(warm.total, 3000);
    assert.equal(cold.total, 3000);
    assert.deepEqual(cold.rows.map((r) => r.key), warm.rows.map((r) => r.key));
    const desc = await ix.query({ collector: "files", dir: "desc", limit: 3 });
    assert.ok(desc.rows[0].key > desc.rows[1].key);
  } finally {
    await opened.close();
  }
});

Deno.test("inventoryIndex() gives the thread back while it builds: what waits on the event loop is not held up", async () => {
  const opened = await openDb(":memory:");
  try {
    fillSynthetic(opened, { files: 40_000 });
    const ix = inventoryIndex(opened.db);
    // A first visit's plain page starts the build and is answered from the primary key; its answer is sent on a
    // later turn of the event loop (an HTTP response), which came only after the whole build when the build
    // held the thread (2.4 s on /usr's 119k files).
    const cold = await ix.query({ collector: "files", limit: 50 });
    assert.equal(cold.total, 40_000);
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(ix.stats().indexes, 0, "the build is still under way a turn later");
    const warm = await ix.query({ collector: "files", limit: 50, q: "/srv/" });
    assert.equal(warm.total, 40_000);
    assert.equal(ix.stats().indexes, 1);
  } finally {
    await opened.close();
  }
});

Deno.test("inventoryIndex() holds a key that is also a value of its item once (a file's path), and finds keys", async () => {
  const opened = await openDb(":memory:");
  try {
    const path = `/srv/${"deep/".repeat(400)}app.conf`;
    const item = (collector: string, key: string, data: Record<string, unknown>) => ({
      collector,
      key,
      checksum: null,
      data: JSON.stringify(data),
      error: null,
      first_seen: 0,
      changed_at: 0,
    });
    await opened.db.insertInto("items").values([
      item("files", path, { FileSystemPath: path, Size: 7 }),
      item("software", "dpkg:keyonly:all", { SoftwareName: "other" }),
    ]).execute();
    const ix = inventoryIndex(opened.db);
    assert.deepEqual((await ix.query({ collector: "files", q: "DEEP/APP" })).rows.map((r) => r.key), [path]);
    // The path's text once in the search text (2,013 characters) and once as the key.
    const bytes = ix.stats().bytes;
    assert.ok(bytes < 2 * path.length + 100, `${bytes} bytes for a ${path.length}-character path`);
    assert.equal(
      (await ix.query({ collector: "software", q: "keyonly" })).total,
      1,
      "a key not among the values",
    );
  } finally {
    await opened.close();
  }
});

Deno.test("inventoryIndex() stays within its budget: fields per index, bytes in all; too big for it, SQLite answers", async () => {
  const opened = await openDb(":memory:");
  try {
    fillSynthetic(opened, { software: 3000 });
    const fields = ["CurrentVersion", "Publisher", "Size", "Architecture", "SoftwareName", "first_seen"];
    const few = inventoryIndex(opened.db, { maxFields: 2 });
    const first = await few.query({ collector: "software", sort: "Publisher", limit: 20 });
    for (const sort of fields) await few.query({ collector: "software", sort, limit: 20 });
    await few.query({ collector: "software", where: { Manager: "dpkg" }, limit: 20 });
    assert.equal(few.stats().fields, 2, "orders and filter values beyond maxFields are dropped");
    assert.deepEqual(
      (await few.query({ collector: "software", sort: "Publisher", limit: 20 })).rows,
      first.rows,
      "a dropped order is rebuilt the same",
    );

    const roomy = inventoryIndex(opened.db);
    for (const sort of fields) await roomy.query({ collector: "software", sort, limit: 20 });
    const budget = roomy.stats().bytes - 1;
    const tight = inventoryIndex(opened.db, { maxBytes: budget });
    for (const sort of fields) await tight.query({ collector: "software", sort, limit: 20 });
    assert.ok(tight.stats().bytes <= budget, `${tight.stats().bytes} bytes kept, budget ${budget}`);

    const none = inventoryIndex(opened.db, { maxBytes: 1000 });
    // (Sorts whose text orders the same under SQLite's NOCASE and the index's numeric collation.)
    for (const q of [{ sort: "SoftwareName" }, { q: "daemon", sort: "Size", dir: "desc" as const }, {}]) {
      const want = await roomy.query({ collector: "software", ...q, limit: 50, offset: 10 });
      const got = await none.query({ collector: "software", ...q, limit: 50, offset: 10 });
      assert.equal(got.total, want.total, JSON.stringify(q));
      assert.deepEqual(got.rows.map((r) => r.key), want.rows.map((r) => r.key), JSON.stringify(q));
    }
    assert.equal(none.stats().indexes, 0, "an index bigger than the budget is never kept");
  } finally {
    await opened.close();
  }
});

Deno.test("inventoryIndex() filters on exact values, with search and sort", async () => {
  const opened = await openDb(":memory:");
  try {
    fillSynthetic(opened, { software: 2000 });
    const ix = inventoryIndex(opened.db);
    const all = await ix.query({ collector: "software", limit: 500, where: { Architecture: "i386" } });
    assert.ok(all.total > 0 && all.total < 2000);
    assert.ok(all.rows.every((r) => r.data.Architecture === "i386"));
    const both = await ix.query({
      collector: "software",
      q: "daemon",
      where: { Architecture: "i386" },
      limit: 500,
    });
    assert.ok(
      both.rows.every((r) => r.data.Architecture === "i386" && /daemon/.test(String(r.data.SoftwareName))),
    );
    const sql = await inventory(opened.db, {
      collector: "software",
      q: "daemon",
      where: { Architecture: "i386" },
      limit: 500,
    });
    assert.equal(both.total, sql.total, "the same count as SQLite's");
  } finally {
    await opened.close();
  }
});

Deno.test("inventoryIndex() facets count each field's values with the other filters, and match keys by pattern", async () => {
  const opened = await openDb(":memory:");
  try {
    fillSynthetic(opened, { software: 1200, files: 300 });
    const ix = inventoryIndex(opened.db);
    const all = await opened.raw.prepare("select key, data from items where collector = 'software'").all()
      .map((r) => ({ key: r.key as string, data: JSON.parse(r.data as string) }));
    const count = (keep: (d: Record<string, unknown>) => boolean, f: string) => {
      const m = new Map<string, number>();
      for (const i of all) if (keep(i.data)) m.set(String(i.data[f]), (m.get(String(i.data[f])) ?? 0) + 1);
      return Object.fromEntries(m);
    };
    const asMap = (values: { value: string; n: number }[]) =>
      Object.fromEntries(values.map((v) => [v.value, v.n]));
    const fields = ["Architecture", "Manager"];
    const plain = await ix.facets({ collector: "software" }, fields);
    assert.deepEqual(asMap(plain![0].values), count(() => true, "Architecture"));
    // Filtered on one architecture and a text: the Architecture facet still counts every architecture that
    // text finds; the Manager facet counts only that architecture.
    const q = { collector: "software", q: "tool", where: { Architecture: "i386" } };
    const [arch, manager] = (await ix.facets(q, fields))!;
    const tool = (d: Record<string, unknown>) => String(d.SoftwareName).includes("tool");
    assert.deepEqual(asMap(arch.values), count(tool, "Architecture"));
    assert.deepEqual(asMap(manager.values), count((d) => tool(d) && d.Architecture === "i386", "Manager"));
    // The most frequent few, the rest counted.
    const few = (await ix.facets({ collector: "software" }, ["Publisher"], 5))![0];
    assert.equal(few.values.length, 5);
    assert.equal(few.values.reduce((n, v) => n + v.n, 0) + few.others, 1200);
    // A key pattern keeps what it matches, with the other filters.
    const re = /^\/srv\/bench\/d7\/file-\d+\.conf$/;
    const p = await ix.query({ collector: "files", keys: (k) => re.test(k), limit: 500 });
    assert.equal(p.total, 3);
    assert.ok(p.rows.every((r) => re.test(r.key)));
    // Over the memory budget (no index) the keys are read and tested: the same answer, paged.
    const tiny = inventoryIndex(opened.db, { maxBytes: 1 });
    const paged = await tiny.query({ collector: "files", keys: (k) => re.test(k), offset: 1, limit: 5 });
    assert.equal(paged.total, 3);
    assert.deepEqual(paged.rows.map((r) => r.key), p.rows.slice(1).map((r) => r.key));
    assert.equal(await tiny.facets({ collector: "files" }, ["Owner"]), null);
  } finally {
    await opened.close();
  }
});

Deno.test("inventoryIndex() finds an item whatever page of the index holds it: the first and last of each", async () => {
  const opened = await openDb(":memory:");
  try {
    // The index reads 500 items at a time and keeps each page's text apart: matches at both ends of pages,
    // twice in one item, in a non-Latin-1 item (its page's text two bytes a character), and in the last item.
    const hits = new Set([0, 1, 499, 500, 501, 777, 999, 1000, 1233]);
    await opened.db.insertInto("items").values(Array.from({ length: 1234 }, (_, i) => ({
      collector: "software",
      key: `k${String(i).padStart(4, "0")}`,
      checksum: null,
      data: JSON.stringify({
        SoftwareName: hits.has(i) ? `Needle-${i}` : `hay-${i}`,
        Publisher: i === 777 ? "needle · ünïcode ✓" : i === 1 ? "needle again" : "someone",
      }),
      error: null,
      first_seen: 0,
      changed_at: 0,
    }))).execute();
    const ix = inventoryIndex(opened.db);
    // The first query builds the index (and answers by SQL meanwhile); the second is the index's.
    await ix.query({ collector: "software", q: "needle" });
    while (ix.stats().indexes === 0) await new Promise((r) => setTimeout(r, 5));
    const found = await ix.query({ collector: "software", q: "NEEDLE", limit: 100 });
    assert.deepEqual(found.rows.map((r) => Number(r.key.slice(1))), [...hits]);
    assert.equal(found.total, hits.size);
    assert.equal((await ix.query({ collector: "software", q: "hay-1233" })).total, 0);
    assert.equal((await ix.query({ collector: "software", q: "hay-1232" })).total, 1);
  } finally {
    await opened.close();
  }
});

Deno.test("inventoryIndex() sorts and counts a field's values as json_extract gives them, compact rows or not", async () => {
  const opened = await openDb(":memory:");
  try {
    writeItems(opened.raw, [
      ...hostileItems(),
      { key: "/yes", json: JSON.stringify({ b: true, e: { x: [1, "y"] } }) },
      { key: "/no", json: JSON.stringify({ b: false, e: [null] }) },
    ]);
    const ix = inventoryIndex(opened.db);
    for (const field of ["b", "e", "Owner", "Size", "DateModified", "FileContentChecksum"]) {
      // What the index read its values with before (SQLite's json_extract on the items view), counted as it counts.
      const want = new Map<string, number>();
      for (
        const { v } of opened.raw.prepare(
          `SELECT json_extract(data, '$.' || ?) AS v FROM items WHERE collector = 'c'`,
        ).all(field) as { v: unknown }[]
      ) {
        if (v !== null && v !== "") want.set(String(v), (want.get(String(v)) ?? 0) + 1);
      }
      const [facet] = (await ix.facets({ collector: "c" }, [field], 10_000))!;
      // Except a lone surrogate: json_extract makes it bytes that are not UTF-8, read back as three U+FFFD; the
      // index has it as JSON.parse does (and the page shows).
      if (field === "Owner") assert.ok(facet.values.some((f) => f.value === "\udc80 lone"));
      assert.deepEqual(
        new Map(facet.values.map((f) => [f.value.replace("\udc80", "\ufffd".repeat(3)), f.n])),
        want,
        field,
      );
    }
    // A number past 2^53 (which node:sqlite would not read from json_extract) sorts too.
    const sorted = await ix.query({ collector: "c", sort: "a", limit: 3 });
    assert.equal(sorted.total, 228);
  } finally {
    await opened.close();
  }
});
