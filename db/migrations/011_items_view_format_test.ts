import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { Kysely } from "kysely";
import { Migrator } from "kysely/migration";
import { nodeSqliteDialect } from "../sqlite_dialect.ts";
import { migrations } from "./mod.ts";
import { openDb } from "../open.ts";
import { hostileItems, writeItems } from "../testdata/items.ts";

const ALL = "SELECT collector, key, checksum, data, error, first_seen, changed_at, fingerprint FROM items " +
  "ORDER BY collector, key";

Deno.test("migration 011: the items view gives every item of a database of 010 back byte for byte, and writes through it still work", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ctagent-011-" });
  try {
    const path = `${dir}/old.db`;
    const raw = new DatabaseSync(path);
    const db = new Kysely({ dialect: nodeSqliteDialect(raw) });
    const { error } = await new Migrator({
      db,
      provider: { getMigrations: () => Promise.resolve(migrations) },
    })
      .migrateTo("010_compact_items");
    assert.equal(error, undefined);
    const items = hostileItems();
    writeItems(raw, items);
    // A row written through the view (as tests and a hand-made fix do): it keeps its JSON.
    raw.prepare(
      `INSERT INTO items (collector, key, checksum, data, error, first_seen, changed_at, fingerprint)
      VALUES ('software', 'p', 'abc', '{"Name":"p","On":true}', NULL, 1, 2, NULL)`,
    ).run();
    const before = raw.prepare(ALL).all().map((r) => ({ ...r }));
    // The items view's triggers (later migrations change others: 012 drops the insert triggers of changes).
    const ITEMS_TRIGGERS =
      "SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'items' ORDER BY name";
    const triggers = raw.prepare(ITEMS_TRIGGERS).all().map((r) => ({ ...r }));
    const view = raw.prepare("SELECT sql FROM sqlite_schema WHERE name = 'items'").get()?.sql;
    await db.destroy();

    const now = await openDb(path);
    try {
      assert.notEqual(now.raw.prepare("SELECT sql FROM sqlite_schema WHERE name = 'items'").get()?.sql, view);
      assert.equal(before.length, items.length + 1);
      const after = now.raw.prepare(ALL).all().map((r) => ({ ...r }));
      for (let i = 0; i < before.length; i++) assert.deepEqual(after[i], before[i], `row ${i}`);
      assert.equal(after.length, before.length);
      assert.equal(triggers.length, 3);
      assert.deepEqual(now.raw.prepare(ITEMS_TRIGGERS).all().map((r) => ({ ...r })), triggers);
      // Writes to the view go on working: insert, update, delete.
      now.raw.prepare(`UPDATE items SET data = '{"Name":"p","On":false}' WHERE collector = 'software'`).run();
      assert.equal(
        now.raw.prepare("SELECT data FROM items WHERE collector = 'software'").get()?.data,
        '{"Name":"p","On":false}',
      );
      now.raw.prepare(`UPDATE items SET data = '{"x":1}' WHERE collector = 'c' AND key = '/f'`).run();
      assert.equal(now.raw.prepare("SELECT data FROM items WHERE key = '/f'").get()?.data, '{"x":1}');
      assert.equal(
        now.raw.prepare("SELECT fingerprint FROM items WHERE key = '/f'").get()?.fingerprint,
        "1f4yn2x.bhdoob:nh90j0.t911xu",
      );
      now.raw.prepare("DELETE FROM items WHERE collector = 'software'").run();
      assert.equal(
        now.raw.prepare("SELECT count(*) AS n FROM item_rows WHERE collector = 'software'").get()?.n,
        0,
      );
    } finally {
      await now.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
