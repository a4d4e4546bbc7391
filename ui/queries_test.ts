import assert from "node:assert/strict";
import { openDb } from "../db/open.ts";
import { fillSynthetic } from "./testdata/synthetic.ts";
import { acknowledge } from "../db/acks.ts";
import { changes, COUNT_CAP, countCapped, countChanges, histogram, reviewedCounts } from "./queries.ts";
import { keyPattern } from "./search.ts";

Deno.test("changes() counts exactly without a text search, and with one only COUNT_CAP rows past the page", async () => {
  const opened = await openDb(":memory:");
  try {
    const now = Date.now();
    fillSynthetic(opened, { software: 100, files: 100, changes: 3000, now, spanMs: 3 * 3600_000 });
    const first = await changes(opened.db, { limit: 100 });
    assert.equal(first.rows.length, 100);
    assert.deepEqual([first.total, first.capped], [3000, false]);
    const broad = await changes(opened.db, { q: "conf", limit: 100 });
    assert.deepEqual([broad.total, broad.capped], [COUNT_CAP, true]);
    assert.ok(first.rows.every((r, i) => i === 0 || first.rows[i - 1].at >= r.at), "newest first");
    const late = await changes(opened.db, { limit: 100, offset: 2500 });
    assert.deepEqual([late.total, late.capped, late.rows.length], [3000, false, 100]);
    const files = await changes(opened.db, { collectors: ["files"], categories: ["Modified"], limit: 500 });
    assert.equal(files.rows.length, 500);
    assert.ok(files.rows.every((r) => r.collector === "files" && r.category === "Modified"));
    const text = await changes(opened.db, { q: "file-1.conf", limit: 500 });
    assert.ok(text.rows.length > 0 && text.rows.every((r) => r.key.includes("file-1.conf")));
    assert.equal(text.total, text.rows.length);
  } finally {
    await opened.close();
  }
});

Deno.test("countChanges() adds whole hours from the hourly table and the edges from the changes themselves", async () => {
  const opened = await openDb(":memory:");
  try {
    const now = Date.UTC(2026, 10, 22, 12, 30);
    fillSynthetic(opened, { software: 50, files: 50, changes: 2000, now, spanMs: 48 * 3600_000 });
    const count = async (q: Parameters<typeof countChanges>[1]) => {
      const where = [`at >= ${q.since ?? 0}`, `at < ${q.until ?? Number.MAX_SAFE_INTEGER}`];
      if (q.collectors) where.push(`collector in (${q.collectors.map((c) => `'${c}'`).join(",")})`);
      if (q.categories) where.push(`category in (${q.categories.map((c) => `'${c}'`).join(",")})`);
      const exact = opened.raw.prepare(`select count(*) as n from changes where ${where.join(" and ")}`)
        .get();
      assert.equal(await countChanges(opened.db, q), Number((exact as { n: number }).n), JSON.stringify(q));
    };
    await count({});
    await count({ since: now - 24 * 3600_000 - 1234 });
    await count({ since: now - 30 * 3600_000 + 17, until: now - 2 * 3600_000 - 5 });
    await count({ since: now - 40 * 60_000, until: now - 20 * 60_000 });
    await count({ since: now - 24 * 3600_000, collectors: ["files"], categories: ["Added", "Removed"] });
  } finally {
    await opened.close();
  }
});

Deno.test("histogram() from the hourly table equals counting the changes themselves", async () => {
  const opened = await openDb(":memory:");
  try {
    const now = Date.UTC(2026, 10, 22, 12, 30);
    fillSynthetic(opened, { software: 50, files: 50, changes: 2000, now, spanMs: 48 * 3600_000 });
    const since = now - 48 * 3600_000;
    const hourly = await histogram(opened.db, { since, until: now, bucket: 6 * 3600_000 });
    const total = hourly.points.reduce((a, p) => a + p.n, 0);
    assert.equal(total, 2000);
    const direct = opened.raw.prepare(
      "select count(*) as n from changes where collector = 'files' and category = 'Added' and at >= ? and at < ?",
    ).get(hourly.since, hourly.since + 6 * 3600_000) as { n: number };
    const first = hourly.points.find((p) =>
      p.t === hourly.since && p.collector === "files" && p.category === "Added"
    );
    assert.equal(first?.n ?? 0, direct.n);
    await opened.db.deleteFrom("changes").where("collector", "=", "files").execute();
    const after = await histogram(opened.db, { since, until: now, bucket: 3600_000 });
    assert.ok(
      after.points.every((p) => p.collector === "software"),
      "deletes (retention) keep the table right",
    );
  } finally {
    await opened.close();
  }
});

Deno.test("reviewedCounts() counts each acknowledged change once, alone or with its run, as the unreviewed filter does", async () => {
  const opened = await openDb(":memory:");
  try {
    const raw = opened.raw;
    // Three runs, each with its changes at its finishing time (as the store writes them).
    const runs: [number, string, number, number][] = [[1, "files", 1_000, 3], [2, "software", 2_000, 2], [
      3,
      "files",
      3_000,
      4,
    ]];
    for (const [id, collector, at, n] of runs) {
      raw.prepare(
        "insert into runs (id, collector, started_at, finished_at, status, counts) values (?, ?, ?, ?, 'ok', '{}')",
      ).run(id, collector, at - 10, at);
      for (let i = 0; i < n; i++) {
        raw.prepare(
          "insert into changes (run_id, at, collector, key, category, fields_changed) values (?, ?, ?, ?, 'Added', '[]')",
        ).run(id, at, collector, `${collector}-${id}-${i}`);
      }
    }
    const firstOf = (run: number) =>
      (raw.prepare("select min(id) as id from changes where run_id = ?").get(run) as { id: number }).id;
    await acknowledge(opened.db, { changeId: firstOf(1), reviewer: "ann" });
    await acknowledge(opened.db, { group: "run:3", reviewer: "ann" });
    await acknowledge(opened.db, { changeId: firstOf(3), reviewer: "bo" }); // and by its run: once
    await acknowledge(opened.db, { group: "run:2", reviewer: "bo" });
    await acknowledge(opened.db, { group: "run:2", reviewer: "cy" }); // twice: once
    assert.deepEqual(await reviewedCounts(opened.db, 0), { files: 5, software: 2 });
    assert.deepEqual(await reviewedCounts(opened.db, 2_001), { files: 4 });
    for (const [collector, n] of Object.entries(await reviewedCounts(opened.db, 0))) {
      assert.equal(await countChanges(opened.db, { collectors: [collector], reviewed: true }), n, collector);
    }
  } finally {
    await opened.close();
  }
});

Deno.test("changes() with a key pattern lists exactly the matching changes newest first, paged and counted up to COUNT_CAP", async () => {
  const opened = await openDb(":memory:");
  try {
    const now = Date.now();
    fillSynthetic(opened, { software: 100, files: 100, changes: 12_000, now, spanMs: 3 * 3600_000 });
    const pattern = keyPattern("/srv/**/d1?/*.conf", "linux")!;
    const all = opened.raw.prepare("select id, key from changes order by at desc, id desc").all() as {
      id: number;
      key: string;
    }[];
    const expected = all.filter((r) => pattern.test(r.key)).map((r) => r.id);
    assert.ok(expected.length > 500 && expected.length < COUNT_CAP, `${expected.length} matches`);
    const first = await changes(opened.db, { keys: pattern.test, limit: 100 });
    assert.deepEqual(first.rows.map((r) => r.id), expected.slice(0, 100));
    assert.deepEqual([first.total, first.capped], [expected.length, false]);
    const late = await changes(opened.db, { keys: pattern.test, limit: 100, offset: 400 });
    assert.deepEqual(late.rows.map((r) => r.id), expected.slice(400, 500));
    // Past the walk's first batch, and filtered as the list filters.
    const files = await changes(opened.db, { keys: pattern.test, categories: ["Modified"], limit: 500 });
    const modified = new Set(
      (opened.raw.prepare("select id from changes where category = 'Modified'").all() as { id: number }[])
        .map((r) => r.id),
    );
    assert.deepEqual(files.rows.map((r) => r.id), expected.filter((id) => modified.has(id)).slice(0, 500));
    // A pattern matching nearly everything: counted up to COUNT_CAP past the page.
    const broad = keyPattern("*", "linux")!;
    const many = await changes(opened.db, { keys: broad.test, limit: 10 });
    assert.deepEqual([many.total, many.capped, many.rows.length], [COUNT_CAP, true, 10]);
    assert.deepEqual(await countCapped(opened.db, { keys: pattern.test }), {
      n: expected.length,
      capped: false,
    });
  } finally {
    await opened.close();
  }
});
