import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { Kysely } from "kysely";
import { Migrator } from "kysely/migration";
import { nodeSqliteDialect } from "../sqlite_dialect.ts";
import { migrations } from "./mod.ts";
import { openDb } from "../open.ts";
import { readHead, verifyChain } from "../chain.ts";

Deno.test("migration 006 links the changes written before the chain existed, in the order they were written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/state.db`;
    // A database as the version before left it: migrated to 005, with history (a gap where one was pruned).
    const raw = new DatabaseSync(path);
    const db = new Kysely({ dialect: nodeSqliteDialect(raw) });
    const provider = { getMigrations: () => Promise.resolve(migrations) };
    const { error } = await new Migrator({ db, provider }).migrateTo("005_outbox_extra");
    assert.equal(error, undefined);
    const put = raw.prepare(
      `INSERT INTO changes (id, run_id, at, collector, key, category, fields_changed, previous, current)
       VALUES (?, 1, ?, 'files', ?, 'Modified', '["Size"]', '{"Size":"1"}', '{"Size":"2"}')`,
    );
    raw.exec("BEGIN");
    for (let id = 1; id <= 2500; id++) if (id !== 7) put.run(id, 1000 + id, `/etc/f${id}\uD800`);
    raw.exec("COMMIT");
    await db.destroy();

    const opened = await openDb(path);
    const r = verifyChain(opened.raw);
    assert.equal(r.ok, true, JSON.stringify(r.broken));
    assert.equal(r.rows, 2499);
    assert.deepEqual(await readHead(opened.db), r.last);
    const order = opened.raw.prepare("SELECT id, seq FROM changes WHERE id IN (1, 6, 8, 2500) ORDER BY id")
      .all();
    assert.deepEqual(order.map((x) => [x.id, x.seq]), [[1, 1], [6, 6], [8, 7], [2500, 2499]]);
    // And the next run's changes go on from there.
    assert.equal((await readHead(opened.db)).seq, 2499);
    await opened.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
