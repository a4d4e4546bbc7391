import assert from "node:assert/strict";
import { openDb } from "../../db/open.ts";
import { pruneHistory } from "./retention.ts";

Deno.test("pruneHistory() drops old changes, old runs but the latest per collector, and unreferenced content", async () => {
  const { db, close } = await openDb(":memory:");
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
  await db.insertInto("changes").values([change(now - 100 * day, "old"), change(now - day, "new")]).execute();
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
  assert.deepEqual(await pruneHistory(db, 90, now), { changes: 1, runs: 1, contents: 1 });
  assert.deepEqual((await db.selectFrom("changes").select("key").execute()).map((r) => r.key), ["new"]);
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
