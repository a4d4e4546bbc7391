import assert from "node:assert/strict";
import { openDb } from "../../db/open.ts";
import { setState } from "../../db/state.ts";
import { taggedReply } from "../../test/fake_ama.ts";
import { acceptDcr, CONFIG_HISTORY, lastGoodConfig, resolveConfig, watchConfig } from "./load.ts";
import { memoryLogger } from "../log.ts";

const settings = (freq: number) => ({
  enableSoftware: true,
  softwareSettings: { softwareCollectionFrequency: freq },
});
/** What AMA answers a poll: the same DCR, a new RequestId every time, and `pad` bytes of other extensions' data. */
const reply = (freq: number, pad = 0) =>
  JSON.stringify({ ...taggedReply(crypto.randomUUID(), "linux", settings(freq)), Padding: "x".repeat(pad) });
const ama = (raw: string, now: number) => ({
  source: "ama" as const,
  origin: "@ama",
  raw,
  os: "linux" as const,
  now,
});
const rows = async (db: Awaited<ReturnType<typeof openDb>>["db"]) =>
  await db.selectFrom("config").select(["id", "received_at", "valid"]).orderBy("id").execute();

Deno.test("acceptDcr() stores an AMA reply once however often it comes: a new RequestId is no new DCR", async () => {
  const dir = await Deno.makeTempDir();
  const o = await openDb(`${dir}/ctagent.db`);
  // A 2 MB reply polled 40 times: stored once, and seeing it again does not rewrite it.
  for (let i = 0; i < 40; i++) await acceptDcr(o.db, ama(reply(300, 2_000_000), 1000 + i));
  assert.deepEqual((await rows(o.db)).map((r) => [r.received_at, r.valid]), [[1039, 1]]);
  o.raw.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  const size = Deno.statSync(`${dir}/ctagent.db`).size;
  assert.ok(size < 6_000_000, `the database holds ${size} bytes after 40 polls of a 2 MB reply`);
  // An invalid reply, polled again and again, is one row too.
  for (let i = 0; i < 5; i++) await acceptDcr(o.db, ama(reply(1), 2000 + i));
  assert.deepEqual((await rows(o.db)).map((r) => [r.received_at, r.valid]), [[1039, 1], [2004, 0]]);
  await o.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("acceptDcr() seeing an earlier DCR again moves its row, and lastGoodConfig() takes it", async () => {
  const o = await openDb(":memory:");
  await acceptDcr(o.db, ama(reply(300), 1));
  await acceptDcr(o.db, ama(reply(600), 2));
  await acceptDcr(o.db, ama(reply(300), 3));
  assert.deepEqual((await rows(o.db)).map((r) => r.received_at), [3, 2]);
  const good = await lastGoodConfig(o.db, "linux");
  assert.equal(good?.settings.softwareSettings.softwareCollectionFrequency, 300);
  await o.close();
});

Deno.test("acceptDcr() keeps the last CONFIG_HISTORY distinct DCRs and the one in force, however old", async () => {
  const o = await openDb(":memory:");
  const first = await acceptDcr(o.db, ama(reply(100), 1));
  await setState(o.db, "config.in_force", JSON.stringify({ ...first.config, settings: undefined }));
  for (let i = 1; i <= CONFIG_HISTORY + 15; i++) await acceptDcr(o.db, ama(reply(100 + i), 1 + i));
  const left = await rows(o.db);
  assert.equal(left.length, CONFIG_HISTORY + 1);
  assert.equal(left[0].id, first.config!.configId, "the DCR in force stays");
  assert.equal(left[1].received_at, 1 + 16, "then the last CONFIG_HISTORY");
  await o.close();
});

Deno.test("watchConfig() keeps its DCR and never blocks when the DCR file is replaced by a FIFO", async () => {
  const dir = await Deno.makeTempDir();
  const { db, close } = await openDb(":memory:");
  const file = `${dir}/dcr.json`;
  await Deno.writeTextFile(file, JSON.stringify(settings(600)));
  const log = memoryLogger();
  const { config } = await resolveConfig({ db, os: "linux", log, dcrFile: file });
  let changed = 0;
  const stop = watchConfig({
    db,
    os: "linux",
    log,
    dcrFile: file,
    current: config,
    fileIntervalMs: 20,
    onChange: () => changed++,
  });
  try {
    await Deno.remove(file);
    await new Deno.Command("mkfifo", { args: [file] }).output();
    const deadline = Date.now() + 5000;
    while (!log.lines.some((l) => l.includes("no longer a regular file")) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(
      log.lines.some((l) => l.includes(`is no longer a regular file; keeping DCR ${config.id}`)),
      log.lines.join("\n"),
    );
    assert.equal(changed, 0);
  } finally {
    stop();
    await close();
    await Deno.remove(dir, { recursive: true });
  }
});
