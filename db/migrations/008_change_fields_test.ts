import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { Kysely } from "kysely";
import { Migrator } from "kysely/migration";
import { nodeSqliteDialect } from "../sqlite_dialect.ts";
import { migrations } from "./mod.ts";
import { openDb } from "../open.ts";
import { indexChanges } from "../changes.ts";

const HOUR = 3600_000;

Deno.test("migration 008 counts Modified changes per hour and fields changed: stored ones, then inserts and deletes", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/state.db`;
  try {
    // A database as the version before left it: migrated to 007, with changes.
    const raw = new DatabaseSync(path);
    const db = new Kysely({ dialect: nodeSqliteDialect(raw) });
    const provider = { getMigrations: () => Promise.resolve(migrations) };
    const { error } = await new Migrator({ db, provider }).migrateTo("007_items_by_key");
    assert.equal(error, undefined);
    raw.prepare(
      `INSERT INTO runs (id, collector, started_at, finished_at, status, counts, error, warnings)
       VALUES (1, 'files', 0, 1, 'ok', '{}', NULL, '[]')`,
    ).run();
    const put = raw.prepare(
      `INSERT INTO changes (run_id, at, collector, key, category, fields_changed, previous, current)
       VALUES (1, ?, 'files', ?, ?, ?, '{}', '{}')`,
    );
    put.run(10 * HOUR + 5, "/a", "Modified", '["DateModified"]');
    put.run(10 * HOUR + 9, "/b", "Modified", '["DateModified"]');
    put.run(11 * HOUR, "/c", "Modified", '["Size"]');
    put.run(11 * HOUR, "/d", "Added", "[]");
    await db.destroy();

    const opened = await openDb(path);
    try {
      const counts = () =>
        opened.raw.prepare("SELECT hour, fields_changed, n FROM changes_fields_hourly ORDER BY 1, 2").all()
          .map((r) => ({ ...r }));
      assert.deepEqual(counts(), [
        { hour: 10, fields_changed: '["DateModified"]', n: 2 },
        { hour: 11, fields_changed: '["Size"]', n: 1 },
      ]);
      // A change written since is counted by its writer (db/changes.ts indexChanges, since migration 012).
      const id = Number(
        opened.raw.prepare(
          `INSERT INTO changes (run_id, at, collector, key, category, fields_changed, previous, current)
           VALUES (1, ?, 'files', '/e', 'Modified', '["Size"]', '{}', '{}')`,
        ).run(11 * HOUR + 1).lastInsertRowid,
      );
      indexChanges(opened.raw, id, id);
      opened.raw.prepare("DELETE FROM changes WHERE key IN ('/a', '/d')").run();
      assert.deepEqual(counts(), [
        { hour: 10, fields_changed: '["DateModified"]', n: 1 },
        { hour: 11, fields_changed: '["Size"]', n: 2 },
      ]);
    } finally {
      await opened.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
