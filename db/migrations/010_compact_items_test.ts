import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { Kysely } from "kysely";
import { Migrator } from "kysely/migration";
import { nodeSqliteDialect } from "../sqlite_dialect.ts";
import { migrations } from "./mod.ts";
import { openDb } from "../open.ts";
import { filesCollector } from "../../agent/collectors/files/mod.ts";
import { settingsSchema } from "../../agent/config/dcr.ts";
import { runCollector } from "../../agent/pipeline/run.ts";
import { liveHost } from "../../agent/host/mod.ts";
import { memoryLogger } from "../../agent/log.ts";

const COLUMNS = "collector, key, checksum, data, error, first_seen, changed_at, fingerprint";

Deno.test("migration 010 keeps the items of a database of 009 as they were (compact), and the next runs find the same changes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ctagent-010-" });
  try {
    const tree = `${dir}/tree`;
    await Deno.mkdir(`${tree}/sub`, { recursive: true });
    for (const [p, c] of [["a.conf", "alpha\n"], ['we"ird\nname', "x"], ["sub/c.conf", "charlie\n"]]) {
      await Deno.writeTextFile(`${tree}/${p}`, c);
    }
    await Deno.symlink("a.conf", `${tree}/link`);
    const settings = settingsSchema("linux").parse({
      fileSettings: { fileInfo: [{ name: "tree", path: `${tree}/.*`, recurse: true }] },
    });
    const run = async (o: Awaited<ReturnType<typeof openDb>>, now: number) => {
      const s = await runCollector({
        db: o.db,
        raw: o.raw,
        collector: filesCollector(),
        settings,
        host: liveHost(),
        log: memoryLogger(),
        signal: new AbortController().signal,
        now: () => now,
      });
      assert.ok(s.status === "ok" || s.status === "baseline", s.error);
      return s.changes.map((c) => [c.ChangeCategory, c.FileSystemPath, c.FieldsChanged]);
    };
    const rows = (raw: DatabaseSync) =>
      raw.prepare(`SELECT ${COLUMNS} FROM items ORDER BY collector, key`).all().map((r) => ({ ...r }));

    // The items the files collector stores, written into a database as the version before left it (009).
    const now = await openDb(`${dir}/now.db`);
    assert.deepEqual(await run(now, 1_000_000), []);
    now.raw.prepare(`INSERT INTO items (${COLUMNS}) VALUES ('software', 'p', 'abc', '{"Name":"p","On":true}',
      NULL, 1, 2, NULL), ('files', '${tree}/gone', NULL, '{"FileSystemPath":"x"}', 'EACCES', 1, 1, NULL)`)
      .run();
    const stored = rows(now.raw);
    const raw = new DatabaseSync(`${dir}/old.db`);
    const db = new Kysely({ dialect: nodeSqliteDialect(raw) });
    const { error } = await new Migrator({
      db,
      provider: { getMigrations: () => Promise.resolve(migrations) },
    })
      .migrateTo("009_change_origin");
    assert.equal(error, undefined);
    const put = raw.prepare(`INSERT INTO items (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
    for (const r of stored) put.run(...Object.values(r) as (string | number | null)[]);
    await db.destroy();

    const old = await openDb(`${dir}/old.db`);
    try {
      assert.deepEqual(rows(old.raw), stored);
      // Every files item that was read is kept compact: no JSON in its row.
      const kept = old.raw.prepare("SELECT key, data IS NULL AS compact FROM item_rows ORDER BY key").all()
        .map((r) => [r.key, r.compact]);
      assert.deepEqual(kept.filter(([, c]) => !c).map(([k]) => k), ["p"]); // a boolean: kept as JSON
      assert.ok(kept.length >= 6);

      // The same runs on both databases: the same changes.
      assert.deepEqual(await run(old, 2_000_000), await run(now, 2_000_000));
      await Deno.writeTextFile(`${tree}/a.conf`, "ALPHA!\n");
      await Deno.remove(`${tree}/sub/c.conf`);
      await Deno.writeTextFile(`${tree}/new`, "n");
      const changes = await run(old, 3_000_000);
      assert.deepEqual(changes, await run(now, 3_000_000));
      const seen = changes.map((c) => `${c[0]} ${String(c[1]).slice(tree.length)}`);
      for (const c of ["Modified /a.conf", "Removed /sub/c.conf", "Added /new"]) {
        assert.ok(seen.includes(c), c);
      }
      assert.deepEqual(rows(old.raw), rows(now.raw));
    } finally {
      await old.close();
      await now.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
