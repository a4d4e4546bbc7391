import assert from "node:assert/strict";
import { listenUnix } from "./unix_socket.ts";
import { FluentServer } from "@fluent-org/logger";
import { memoryLogger } from "../log.ts";
import { openDb } from "../../db/open.ts";
import { getState, setState } from "../../db/state.ts";
import { outboxStatus } from "../../db/outbox.ts";
import { startFakeAma } from "../../test/fake_ama.ts";
import { startFluentServerChild } from "../../test/fluent_server_child.ts";
import { isEventTime } from "./codec.ts";
import { decodeForwardMessage, encodeAck, messages } from "../../test/forward_server.ts";
import {
  amaRoutes,
  createSender,
  forwardRoutes,
  LINUX_DATA_ENDPOINT,
  routedRecord,
  type Routes,
} from "./sender.ts";

const T0 = 1_700_000_000_123;

async function setup(rows: [stream: string, n: number][]) {
  const opened = await openDb(":memory:");
  let i = 0;
  // Streams interleaved, so order must be kept per stream, not just by id.
  const pending = rows.flatMap(([stream, n]) => Array.from({ length: n }, (_, k) => ({ stream, k })));
  pending.sort((a, b) => a.k - b.k);
  for (const { stream, k } of pending) {
    await opened.db.insertInto("outbox").values({
      stream,
      record: JSON.stringify({ RecordId: `${stream}-${k}`, Seq: String(k), Computer: "h", "Name": "ü日本" }),
      created_at: T0 + 1000 * i++,
      attempts: 0,
    }).execute();
  }
  const count = async () =>
    Number(
      (await opened.db.selectFrom("outbox").select((eb) => eb.fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow()).n,
    );
  return { ...opened, count };
}

const fastBackoff = { initialMs: 10, maxMs: 50, factor: 2, jitter: 0.5 };

Deno.test("sender delivers to FluentServer (npm:@fluent-org/logger) over an abstract socket with acks and exact EventTime", async () => {
  const name = `ctagent-test-fluentserver-${crypto.randomUUID()}`;
  const server = await startFluentServerChild(`\0${name}`);
  const { db, raw, close, count } = await setup([["CONFIG_CHANGE_BLOB_V2", 3], ["CONFIG_DATA_BLOB_V2", 2]]);
  const rows = await db.selectFrom("outbox").selectAll().orderBy("id").execute();
  const sender = createSender({
    db,
    raw,
    routes: () => forwardRoutes(`@${name}`),
    log: memoryLogger(),
    ack: true,
  });
  assert.equal(await sender.pass(), 5);
  assert.equal(await count(), 0);
  sender.close();
  const got = await server.close();
  assert.equal(got.length, 5);
  for (const row of rows) {
    const rec = JSON.parse(row.record);
    const hit = got.find((e) => e.record.RecordId === rec.RecordId);
    assert.ok(hit, `record ${rec.RecordId} arrived`);
    assert.equal(hit.tag, `ctagent:${row.stream}`);
    assert.deepEqual(hit.record, rec);
    assert.ok(typeof hit.time === "object", "time arrives as EventTime (ext type 0)");
    assert.equal(hit.time.epoch, Math.floor(row.created_at / 1000));
    assert.equal(hit.time.nano, (row.created_at % 1000) * 1_000_000);
  }
  assert.equal(await getState(db, "outbox.delivered"), "5");
  await close();
});

Deno.test("sender delivers to FluentServer over TCP with acks", async () => {
  const server = new FluentServer({ listenOptions: { port: 0, host: "127.0.0.1" } });
  const got: string[] = [];
  server.on("entry", (_tag, _time, record) => got.push(record.RecordId));
  await server.listen();
  const { db, raw, close, count } = await setup([["CONFIG_CHANGE_BLOB", 4]]);
  const sender = createSender({
    db,
    raw,
    routes: () => forwardRoutes(`tcp://127.0.0.1:${server.port}`),
    log: memoryLogger(),
    ack: true,
    batchRecords: 3,
  });
  assert.equal(await sender.pass(), 4);
  assert.equal(await count(), 0);
  assert.deepEqual(got, [
    "CONFIG_CHANGE_BLOB-0",
    "CONFIG_CHANGE_BLOB-1",
    "CONFIG_CHANGE_BLOB-2",
    "CONFIG_CHANGE_BLOB-3",
  ]);
  sender.close();
  await server.close();
  await close();
});

Deno.test("sender keeps order per stream, bounds batches and uses AMA's tags and integer times", async () => {
  const ama = await startFakeAma({ config: false, validate: false });
  const { db, raw, close, count } = await setup([["CONFIG_CHANGE_BLOB_V2", 25], ["CONFIG_DATA_BLOB_V2", 12]]);
  const routes = amaRoutes({
    os: "linux",
    outputStreams: ama.outputStreams,
    dataEndpoint: ama.dataEndpoints[0],
  });
  const sender = createSender({ db, raw, routes: () => routes, log: memoryLogger(), batchRecords: 10 });
  assert.equal(await sender.pass(), 37);
  await ama.waitFor(37);
  assert.equal(await count(), 0);
  assert.equal(ama.messages, 3 + 2, "25 → 10+10+5, 12 → 10+2");
  for (const [stream, n] of [["CONFIG_CHANGE_BLOB_V2", 25], ["CONFIG_DATA_BLOB_V2", 12]] as const) {
    const mine = ama.received.filter((e) => e.tag === ama.outputStreams[stream]);
    assert.deepEqual(mine.map((e) => e.record.Seq), Array.from({ length: n }, (_, k) => String(k)), stream);
    assert.ok(mine.every((e) => e.mode === "Forward" && typeof e.time === "number" && !e.chunk));
  }
  assert.ok(ama.received.every((e) => !isEventTime(e.time)));
  sender.close();
  await ama.close();
  await close();
});

Deno.test("sender keeps records (attempts counted) when the receiver never acks, and delivers them later", async () => {
  const silent = await startFakeAma({ config: false, ack: false, validate: false });
  const { db, raw, close, count } = await setup([["CONFIG_CHANGE_BLOB_V2", 3]]);
  let endpoint = silent.dataEndpoints[0];
  const sender = createSender({
    db,
    raw,
    routes: () => forwardRoutes(endpoint),
    log: memoryLogger(),
    ack: true,
    ackTimeoutMs: 150,
    backoff: fastBackoff,
  });
  assert.equal(await sender.pass(), 0);
  assert.equal(await count(), 3, "nothing leaves the outbox without an ack");
  const attempts = await db.selectFrom("outbox").select("attempts").execute();
  assert.deepEqual(attempts.map((r) => r.attempts), [1, 1, 1]);
  assert.match(sender.stats().lastError ?? "", /No ack from @.* within 150 ms/);
  const good = await startFakeAma({ config: false, validate: false });
  endpoint = good.dataEndpoints[0];
  assert.equal(await sender.pass(), 3);
  assert.equal(await count(), 0);
  assert.equal(good.received.length, 3);
  sender.close();
  await silent.close();
  await good.close();
  await close();
});

Deno.test("sender leaves everything in the outbox while AMA is not there, logging it once", async () => {
  const { db, raw, close, count } = await setup([["CONFIG_CHANGE_BLOB_V2", 2]]);
  const log = memoryLogger();
  const endpoint = `@ctagent-test-down-${crypto.randomUUID()}`;
  const sender = createSender({ db, raw, routes: () => forwardRoutes(endpoint), log, backoff: fastBackoff });
  for (let i = 0; i < 3; i++) assert.equal(await sender.pass(), 0);
  assert.equal(await count(), 2);
  const rows = await db.selectFrom("outbox").select("attempts").execute();
  assert.deepEqual(rows.map((r) => r.attempts), [0, 0], "no write was attempted");
  const warns = log.lines.filter((l) => l.includes("level=warn"));
  assert.equal(warns.length, 1, log.lines.join("\n"));
  assert.match(warns[0], /AMA not there: Cannot connect to @ctagent-test-down-/);
  sender.close();
  await close();
});

Deno.test("sender.drain() returns within its bound when AMA is down and delivers everything when it is up", async () => {
  const { db, raw, close, count } = await setup([["CONFIG_DATA_BLOB_V2", 5]]);
  let endpoint = `@ctagent-test-down-${crypto.randomUUID()}`;
  const sender = createSender({
    db,
    raw,
    routes: () => forwardRoutes(endpoint),
    log: memoryLogger(),
    backoff: fastBackoff,
  });
  const t0 = performance.now();
  const down = await sender.drain(300);
  assert.ok(performance.now() - t0 < 2000);
  assert.deepEqual([down.delivered, down.left], [0, 5]);
  assert.match(down.error ?? "", /Cannot connect/);
  const ama = await startFakeAma({ config: false, validate: false });
  endpoint = ama.dataEndpoints[0];
  const up = await sender.drain(5000);
  assert.deepEqual(up, { delivered: 5, left: 0 });
  assert.equal(await count(), 0);
  sender.close();
  await ama.close();
  await close();
});

Deno.test("sender.run() delivers rows added while it runs, as soon as notify() is called", async () => {
  const ama = await startFakeAma({ config: false, validate: false });
  const { db, raw, close } = await setup([]);
  const sender = createSender({
    db,
    raw,
    routes: () => forwardRoutes(ama.dataEndpoints[0]),
    log: memoryLogger(),
    idleMs: 60_000,
  });
  const ac = new AbortController();
  const running = sender.run(ac.signal);
  await new Promise((r) => setTimeout(r, 20));
  await db.insertInto("outbox").values({
    stream: "CONFIG_CHANGE_BLOB_V2",
    record: `{"RecordId":"x"}`,
    created_at: T0,
    attempts: 0,
  })
    .execute();
  sender.notify();
  await ama.waitFor(1, 3000);
  assert.equal(ama.received[0].record.RecordId, "x");
  ac.abort();
  await running;
  sender.close();
  await ama.close();
  await close();
});

Deno.test("sender never deletes a record whose delivery failed: a peer that hangs up gets it again", async () => {
  // Hangs up on the first two connections as soon as they open; the third decodes and acks.
  let conns = 0;
  const got: string[] = [];
  const name = `\0ctagent-test-hangup-${crypto.randomUUID()}`;
  const srv = listenUnix(name, async (s) => {
    s.on("error", () => {});
    if (++conns <= 2) return void s.destroy();
    for await (const v of messages(s)) {
      const msg = decodeForwardMessage(v)!;
      got.push(...msg.entries.map(([, r]) => String(r.RecordId)));
      s.write(encodeAck(msg.option!.chunk!));
    }
  });
  const { db, raw, close, count } = await setup([["CONFIG_CHANGE_BLOB_V2", 2]]);
  const sender = createSender({
    db,
    raw,
    routes: () => forwardRoutes(`@${name.slice(1)}`),
    log: memoryLogger(),
    ack: true,
    ackTimeoutMs: 1000,
    backoff: fastBackoff,
  });
  for (let i = 0; i < 10 && await count() > 0; i++) await sender.pass();
  assert.equal(await count(), 0);
  assert.ok(conns >= 3 && sender.stats().failures >= 2, `conns=${conns} failures=${sender.stats().failures}`);
  assert.deepEqual(got, ["CONFIG_CHANGE_BLOB_V2-0", "CONFIG_CHANGE_BLOB_V2-1"]);
  sender.close();
  await srv.close();
  await close();
});

Deno.test("amaRoutes() tags with AMA's output stream ids and opens one pipe per stream on Windows", () => {
  const id = "dcr-x:CTDataSource-Windows";
  const outputStreams = {
    CONFIG_CHANGE_BLOB: `${id}:CONFIG_CHANGE_BLOB`,
    CONFIG_DATA_BLOB_V2: `${id}:CONFIG_DATA_BLOB_V2`,
  };
  const win = amaRoutes({
    os: "windows",
    outputStreams,
    namedPipes: { [`${id}:CONFIG_CHANGE_BLOB`]: "CAgentStream_P1" },
  });
  assert.deepEqual(win.CONFIG_CHANGE_BLOB, {
    tag: `${id}:CONFIG_CHANGE_BLOB`,
    endpoint: "\\\\.\\pipe\\CAgentStream_P1",
  });
  assert.equal(
    win.CONFIG_DATA_BLOB_V2!.endpoint,
    `\\\\.\\pipe\\CAgentStream_ChangeTracking-Windows_${id}:CONFIG_DATA_BLOB_V2_AzureMonitorAgent`,
  );
  assert.equal(
    win.CONFIG_CHANGE_BLOB_V2!.tag,
    "ctagent:CONFIG_CHANGE_BLOB_V2",
    "fallback tag when AMA named none",
  );
  const linux: Routes = amaRoutes({ os: "linux", outputStreams });
  assert.deepEqual(linux.CONFIG_DATA_BLOB_V2, {
    tag: `${id}:CONFIG_DATA_BLOB_V2`,
    endpoint: LINUX_DATA_ENDPOINT,
  });
  assert.throws(() => forwardRoutes("ftp://x"), /Cannot parse endpoint "ftp:\/\/x"/);
});

Deno.test("outboxStatus() reports depth per stream, oldest record, dropped and delivered counts", async () => {
  const { db, close } = await setup([["CONFIG_CHANGE_BLOB_V2", 2], ["CONFIG_DATA_BLOB_V2", 1]]);
  await setState(db, "outbox.dropped", "7");
  const s = await outboxStatus(db);
  assert.deepEqual(s.byStream, { CONFIG_CHANGE_BLOB_V2: 2, CONFIG_DATA_BLOB_V2: 1 });
  assert.equal(s.depth, 3);
  assert.equal(s.oldestAt, T0);
  assert.equal(s.dropped, 7);
  assert.equal(s.delivered, 0);
  await close();
});

Deno.test("sender (node:sqlite path) never reads a run's transaction half-written: it waits for the lock", async () => {
  const ama = await startFakeAma({ config: false, validate: false });
  const { db, raw, close, count } = await setup([["CONFIG_CHANGE_BLOB_V2", 2]]);
  const sender = createSender({
    db,
    raw,
    routes: () => forwardRoutes(ama.dataEndpoints[0]),
    log: memoryLogger(),
  });
  let release = () => {};
  const hold = new Promise<void>((r) => release = r);
  let inserted = () => {};
  const insertedP = new Promise<void>((r) => inserted = r);
  const run = db.transaction().execute(async (trx) => {
    await trx.insertInto("outbox").values({
      stream: "CONFIG_CHANGE_BLOB_V2",
      record: `{"RecordId":"rolled-back"}`,
      created_at: T0,
      attempts: 0,
    }).execute();
    inserted();
    await hold;
    throw new Error("the run fails: its transaction rolls back");
  });
  await insertedP;
  const passing = sender.pass();
  await new Promise((r) => setTimeout(r, 50));
  release();
  await assert.rejects(run, /rolls back/);
  assert.equal(await passing, 2);
  await ama.waitFor(2);
  assert.deepEqual(ama.received.map((e) => e.record.RecordId), [
    "CONFIG_CHANGE_BLOB_V2-0",
    "CONFIG_CHANGE_BLOB_V2-1",
  ]);
  assert.equal(await count(), 0);
  assert.equal(await getState(db, "outbox.delivered"), "2");
  sender.close();
  await ama.close();
  await close();
});

Deno.test("sender.run() survives a database error in a pass, logs it and keeps going", async () => {
  const ama = await startFakeAma({ config: false, validate: false });
  const { db, raw, close } = await setup([]);
  const log = memoryLogger();
  let broken = true;
  const sender = createSender({
    db,
    raw,
    routes: () => {
      if (broken) throw new Error("database is locked");
      return forwardRoutes(ama.dataEndpoints[0]);
    },
    log,
    idleMs: 20,
  });
  await db.insertInto("outbox").values({
    stream: "CONFIG_CHANGE_BLOB_V2",
    record: `{"RecordId":"y"}`,
    created_at: T0,
    attempts: 0,
  })
    .execute();
  const ac = new AbortController();
  const running = sender.run(ac.signal);
  await new Promise((r) => setTimeout(r, 60));
  assert.ok(
    log.lines.some((l) => /delivery pass failed; retrying.*database is locked/.test(l)),
    log.lines.join("\n"),
  );
  broken = false;
  await ama.waitFor(1, 3000);
  ac.abort();
  await running;
  sender.close();
  await ama.close();
  await close();
});

Deno.test("routedRecord(): AMA takes the table part, a full route both parts joined; a row with nothing for the route is skipped", () => {
  const row = { record: '{"SvcName":"a"}', extra: '{"RecordId":"1","UnitFile":"/u"}' };
  assert.equal(routedRecord(row, "la"), '{"SvcName":"a"}');
  assert.deepEqual(JSON.parse(routedRecord(row, "full")!), { SvcName: "a", RecordId: "1", UnitFile: "/u" });
  assert.equal(routedRecord({ record: "", extra: '{"RecordId":"1"}' }, "la"), undefined);
  assert.equal(routedRecord({ record: "", extra: '{"RecordId":"1"}' }, "full"), '{"RecordId":"1"}');
  assert.equal(routedRecord({ record: '{"a":"1"}', extra: null }, "full"), '{"a":"1"}', "extras not kept");
  assert.equal(routedRecord({ record: '{"a":"1"}', extra: "{}" }, "full"), '{"a":"1"}');
  const both = {
    record: '{"FieldsChanged":"Acls","Acls":"x"}',
    extra: '{"FieldsChanged":"Acls, Mode","Mode":"0600"}',
  };
  assert.deepEqual(JSON.parse(routedRecord(both, "full")!), {
    FieldsChanged: "Acls, Mode",
    Acls: "x",
    Mode: "0600",
  });
});

Deno.test("sender in la mode deletes rows with nothing for AMA without sending or counting them, and sends the rest in order", async () => {
  const ama = await startFakeAma({ config: false, validate: false });
  const { db, raw, close, count } = await setup([]);
  const put = (record: string, extra: string | null) =>
    db.insertInto("outbox").values({
      stream: "CONFIG_CHANGE_BLOB_V2",
      record,
      extra,
      created_at: T0,
      attempts: 0,
    })
      .execute();
  await put("", '{"RecordId":"x"}');
  await put('{"SoftwareName":"a"}', '{"RecordId":"1","Manager":"dpkg"}');
  await put("", '{"RecordId":"y"}');
  await put('{"SoftwareName":"b"}', null);
  const sender = createSender({
    db,
    raw,
    routes: () => amaRoutes({ os: "linux", dataEndpoint: ama.dataEndpoints[0] }),
    log: memoryLogger(),
    batchRecords: 2,
  });
  assert.equal(await sender.pass(), 2);
  await ama.waitFor(2);
  assert.deepEqual(ama.received.map((e) => e.record), [{ SoftwareName: "a" }, { SoftwareName: "b" }]);
  assert.equal(await count(), 0);
  assert.equal(await getState(db, "outbox.delivered"), "2");
  sender.close();
  await ama.close();
  await close();
});
