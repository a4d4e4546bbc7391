import assert from "node:assert/strict";
import { openDb, type OpenedDb } from "./open.ts";
import { insertChanges } from "./changes.ts";
import { pruneChain } from "./chain.ts";
import { writeInProcess } from "./testdata/temp_files_run.ts";

const HOUR = 3_600_000;

/** What changes_hourly and changes_fields_hourly should hold, counted from the changes themselves. */
function recount(o: OpenedDb) {
  const rows = (sql: string) => o.raw.prepare(sql).all().map((r) => ({ ...r }));
  return {
    hourly: rows(`SELECT hour, collector, category, n FROM changes_hourly WHERE n > 0 ORDER BY 1, 2, 3`),
    expectHourly: rows(`SELECT at / ${HOUR} AS hour, collector, category, count(*) AS n FROM changes
      GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`),
    fields: rows(
      `SELECT hour, collector, fields_changed, n FROM changes_fields_hourly WHERE n > 0 ORDER BY 1, 2, 3`,
    ),
    expectFields: rows(`SELECT at / ${HOUR} AS hour, collector, fields_changed, count(*) AS n FROM changes
      WHERE category = 'Modified' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`),
  };
}

const change = (key: string, category: string, fields = "[]") => ({
  key,
  category,
  fields_changed: fields,
  previous: category === "Added" ? null : "{}",
  current: category === "Removed" ? null : "{}",
});

Deno.test("a run's changes are counted per hour and fields, and their keys found by the trigram index, as their rows say", async () => {
  const o = await openDb(":memory:");
  try {
    const write = (at: number, changes: ReturnType<typeof change>[]) =>
      o.db.transaction().execute((trx) =>
        insertChanges(trx, o.raw, { id: 1, collector: "files", at }, changes)
      );
    await write(10 * HOUR + 5, [
      change("/etc/a.conf", "Modified", '["Size"]'),
      change("/etc/b.conf", "Modified", '["Size"]'),
      change("/etc/c.conf", "Added"),
    ]);
    await write(10 * HOUR + 9, [
      change("/etc/a.conf", "Modified", '["Mode"]'),
      change("/etc/needle.d", "Removed"),
    ]);
    await write(11 * HOUR, [change("/etc/d.conf", "Modified", '["Size"]')]);
    const c = recount(o);
    assert.deepEqual(c.hourly, c.expectHourly);
    assert.deepEqual(c.fields, c.expectFields);
    assert.equal(c.hourly.length, 4);
    assert.equal(c.fields.length, 3);
    // The trigram index holds every key, as its content table (an FTS5 check that fails on any difference).
    o.raw.exec("INSERT INTO changes_fts (changes_fts) VALUES ('integrity-check')");
    const found = o.raw.prepare(
      "SELECT c.key FROM changes_fts f JOIN changes c ON c.id = f.rowid WHERE changes_fts MATCH 'eedl'",
    ).all().map((r) => r.key);
    assert.deepEqual(found, ["/etc/needle.d"]);
    // Pruning deletes through the delete triggers: what is left is still counted and indexed exactly.
    const pruned = await o.db.transaction().execute((trx) =>
      pruneChain(trx, o.raw, 10 * HOUR + 9, 12 * HOUR)
    );
    assert.deepEqual(pruned, { changes: 3, acks: 0 });
    const after = recount(o);
    assert.deepEqual(after.hourly, after.expectHourly);
    assert.deepEqual(after.fields, after.expectFields);
    assert.equal((o.raw.prepare("SELECT count(*) AS n FROM changes").get() as { n: number }).n, 3);
    o.raw.exec("INSERT INTO changes_fts (changes_fts) VALUES ('integrity-check')");
  } finally {
    await o.close();
  }
});

Deno.test({
  name: "a run's changes write no statement journal (no temp file)",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const got = await writeInProcess("changes", 3000);
    assert.equal(got.rows, 3000);
    assert.deepEqual(got.tempFiles, []);
  },
});
