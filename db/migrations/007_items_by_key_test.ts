import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { Kysely } from "kysely";
import { Migrator } from "kysely/migration";
import { nodeSqliteDialect } from "../sqlite_dialect.ts";
import { migrations } from "./mod.ts";
import { openDb } from "../open.ts";

Deno.test("migration 007 keys the items table by (collector, key): every row kept, the indexes again", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/state.db`;
  try {
    // A database as the version before left it: migrated to 006, with items.
    const raw = new DatabaseSync(path);
    const db = new Kysely({ dialect: nodeSqliteDialect(raw) });
    const provider = { getMigrations: () => Promise.resolve(migrations) };
    const { error } = await new Migrator({ db, provider }).migrateTo("006_chain");
    assert.equal(error, undefined);
    const put = raw.prepare(
      `INSERT INTO items (collector, key, checksum, data, error, first_seen, changed_at, fingerprint)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const rows = [
      ["files", "/b", "c1", '{"FileSystemPath":"/b"}', null, 1, 2, "f1"],
      ["files", "/a", null, '{"FileSystemPath":"/a"}', "EACCES", 3, 3, null],
      ["software", "vim", "c2", '{"SoftwareName":"vim"}', null, 4, 5, null],
    ] as const;
    for (const r of rows) put.run(...r);
    await db.destroy();

    const opened = await openDb(path);
    try {
      const got = opened.raw.prepare(
        "SELECT collector, key, checksum, data, error, first_seen, changed_at, fingerprint FROM items",
      ).all().map((r) => Object.values(r));
      // In key order, as the table is now stored.
      assert.deepEqual(got, [rows[1], rows[0], rows[2]].map((r) => [...r]));
      const sqlOf = (name: string) =>
        (opened.raw.prepare("SELECT sql FROM sqlite_master WHERE name = ?").get(name) as { sql: string }).sql;
      // Since migration 010 the rows are in item_rows, under the items view.
      assert.match(sqlOf("item_rows"), /WITHOUT ROWID/);
      assert.match(sqlOf("items_errors"), /WHERE error IS NOT NULL/);
      assert.match(sqlOf("items_unprinted"), /WHERE fingerprint IS NULL/);
    } finally {
      await opened.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
