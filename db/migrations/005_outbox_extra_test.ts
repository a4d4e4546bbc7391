import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { Kysely } from "kysely";
import { Migrator } from "kysely/migration";
import { nodeSqliteDialect } from "../sqlite_dialect.ts";
import { migrations } from "./mod.ts";
import { openDb } from "../open.ts";

Deno.test("migration 005 splits the records already in the outbox into the table's columns and the rest", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/state.db`;
  // A database as the version before left it: migrated to 004, with whole records waiting.
  const raw = new DatabaseSync(path);
  const db = new Kysely({ dialect: nodeSqliteDialect(raw) });
  const provider = { getMigrations: () => Promise.resolve(migrations) };
  const { error } = await new Migrator({ db, provider }).migrateTo("004_fingerprints");
  assert.equal(error, undefined);
  const put = raw.prepare("INSERT INTO outbox (stream, record, created_at, attempts) VALUES (?, ?, 1, 0)");
  put.run(
    "CONFIG_DATA_BLOB_V2",
    JSON.stringify({ RecordId: "1", ConfigDataType: "Software", CurrentVersion: "1" }),
  );
  put.run(
    "CONFIG_CHANGE_BLOB_V2",
    JSON.stringify({ RecordId: "2", ChangeCategory: "Added", CurrentVersion: "1" }),
  );
  put.run("CONFIG_CHANGE_BLOB_V2", "not json");
  await db.destroy();

  const opened = await openDb(path);
  const rows = opened.raw.prepare("SELECT record, extra FROM outbox ORDER BY id").all();
  assert.deepEqual(rows.map((r) => ({ ...r })), [
    {
      record: '{"ConfigDataType":"Software","CurrentVersion":"1"}',
      extra: '{"RecordId":"1"}',
    },
    // CurrentVersion is no column of ConfigurationChange.
    { record: '{"ChangeCategory":"Added"}', extra: '{"RecordId":"2","CurrentVersion":"1"}' },
    { record: "not json", extra: null },
  ]);
  await opened.close();
  await Deno.remove(dir, { recursive: true });
});
