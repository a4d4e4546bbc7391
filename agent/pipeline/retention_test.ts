import assert from "node:assert/strict";
import { openDb } from "../../db/open.ts";
import { extendChain, verifyChain } from "../../db/chain.ts";
import { acknowledge } from "../../db/acks.ts";
import { indexChanges } from "../../db/changes.ts";
import { pruneHistory } from "./retention.ts";

Deno.test("pruneHistory() drops old changes and acks, old runs but the latest per collector, unreferenced content; the chain verifies", async () => {
  const opened = await openDb(":memory:");
  const { db, close } = opened;
  const day = 86_400_000, now = 1000 * day;
  const change = (at: number, key: string) => ({
    run_id: 1,
    at,
    collector: "files",
    key,
    category: "Added",
    fields_changed: "[]",
    previous: null,
    current: null,
  });
  const write = (at: number, key: string) =>
    db.transaction().execute(async (trx) => {
      const rows = await extendChain(trx, "changes", [change(at, key)]);
      await trx.insertInto("changes").values(rows).execute();
      indexChanges(opened.raw, rows[0].id, rows[0].id);
    });
  // The chain loses a prefix: what was written before the first link of the retention period.
  await write(now - 100 * day, "old");
  await acknowledge(db, { changeId: 1, reviewer: "ana", at: now - 99 * day });
  await write(now - day, "new");
  await acknowledge(db, { changeId: 2, reviewer: "ana", at: now });
  const run = (collector: string, at: number) => ({
    collector,
    started_at: at,
    finished_at: at,
    status: "ok",
    counts: "{}",
    error: null,
    warnings: "[]",
  });
  await db.insertInto("runs").values([
    run("software", now - 200 * day),
    run("software", now - 100 * day),
    run("files", now - 95 * day),
  ])
    .execute();
  await db.insertInto("items").values({
    collector: "files",
    key: "/etc/a",
    checksum: "x",
    data: JSON.stringify({ FileContentChecksum: "kept" }),
    error: null,
    first_seen: 0,
    changed_at: 0,
  }).execute();
  await db.insertInto("contents").values([
    { checksum: "kept", text: "a", size: 1, captured_at: 0 },
    { checksum: "orphan", text: "b", size: 1, captured_at: 0 },
  ]).execute();
  assert.deepEqual(await pruneHistory(opened, 90, now), { changes: 1, acks: 1, runs: 1, contents: 1 });
  assert.deepEqual((await db.selectFrom("changes").select("key").execute()).map((r) => r.key), ["new"]);
  const chain = verifyChain(opened.raw);
  assert.equal(chain.ok, true, JSON.stringify(chain.broken));
  assert.deepEqual([chain.checkpoint?.pruned, chain.rows], [2, 2]);
  assert.deepEqual(
    (await db.selectFrom("runs").select("collector").orderBy("id").execute()).map((r) => r.collector),
    [
      "software",
      "files",
    ],
  );
  assert.deepEqual((await db.selectFrom("contents").select("checksum").execute()).map((r) => r.checksum), [
    "kept",
  ]);
  await close();
});
