// Bench of the wire: forward encoding, outbox → fake AMA over a unix socket, the outbox's cost; peers in the same run.
import { join } from "node:path";
import process from "node:process";
import { encode } from "@msgpack/msgpack";
import { FluentClient } from "@fluent-org/logger";
import { encodeForwardJson } from "../../agent/ama/codec.ts";
import { createSender, forwardRoutes } from "../../agent/ama/sender.ts";
import { memoryLogger } from "../../agent/log.ts";
import { openDb } from "../../db/open.ts";

/** A ConfigurationData Software record as the pipeline writes it (about 500 bytes of JSON). */
function record(i: number): Record<string, string> {
  return {
    RecordId: crypto.randomUUID(),
    TimeGenerated: new Date(1_700_000_000_000 + i).toISOString(),
    Computer: "bench-host.example.org",
    ConfigDataType: "Software",
    SoftwareName: `libexample-package-${i}`,
    CurrentVersion: `1.${i % 97}.${i % 13}-1+deb12u1`,
    Architecture: "amd64",
    Publisher: "Debian Example Maintainers <pkg-example@lists.example.org>",
    SoftwareDescription: "example shared library for benchmarking the forward encoder",
    Size: String(1024 * (i % 5000)),
    SoftwareType: "Package",
    Manager: "dpkg",
    Status: "installed",
    InstalledAt: new Date(1_600_000_000_000 + i * 1000).toISOString(),
  };
}

const rate = (n: number, ms: number) => Math.round(n / (ms / 1000));
const cpuUs = () => {
  const c = process.cpuUsage();
  return c.user + c.system;
};

/** The fake AMA in a worker thread (AMA is its own process); resolves each time it has `expect[i]` events. */
function fakeInWorker(endpoint: string, expect: number[]) {
  const worker = new Worker(new URL("./fake_ama_worker.ts", import.meta.url), { type: "module" });
  const events: { ready?: boolean; received?: number; errors?: string[] }[] = [];
  let notify = () => {};
  worker.onmessage = (e) => (events.push(e.data), notify());
  const next = async () => {
    while (!events.length) await new Promise<void>((r) => notify = r);
    return events.shift()!;
  };
  worker.postMessage({ endpoint, expect });
  return { next, stop: () => worker.terminate() };
}

/** Runs the AMA bench and prints its figures; returns them for build/bench/mod.ts. */
export async function benchAma(opts: { records?: number; print?: (line: string) => void } = {}): Promise<
  Record<string, unknown>
> {
  const n = opts.records ?? 100_000;
  const print = opts.print ?? ((l: string) => console.log(l));
  const records = Array.from({ length: n }, (_, i) => record(i));
  const json = records.map((r) => JSON.stringify(r));
  const tag = "dcr-x:CTDataSource-Linux:CONFIG_DATA_BLOB_V2";

  // 1. Encoding alone, as the sender does it (outbox JSON → Forward, batches of 1000), after a warm-up;
  //    peer: JSON.parse + the generic @msgpack/msgpack encoder on the same records.
  const ours = () => {
    let bytes = 0;
    for (let i = 0; i < n; i += 1000) {
      bytes += encodeForwardJson(
        tag,
        json.slice(i, i + 1000).map((j, k) => [1_700_000_000 + i + k, j] as const),
      )
        .byteLength;
    }
    return bytes;
  };
  const generic = () => {
    for (let i = 0; i < n; i += 1000) {
      encode([tag, json.slice(i, i + 1000).map((j, k) => [1_700_000_000 + i + k, JSON.parse(j)])]);
    }
  };
  ours();
  generic();
  let t = performance.now();
  const bytes = ours();
  const encodeMs = performance.now() - t;
  t = performance.now();
  generic();
  const genericMs = performance.now() - t;

  const dir = await Deno.makeTempDir({ prefix: "ctagent-bench-ama-" });
  const opened = await openDb(join(dir, "bench.db"));
  const insert = (rows: string[], stream: string) =>
    opened.db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += 500) {
        await trx.insertInto("outbox").values(
          rows.slice(i, i + 500).map((record, k) => ({
            stream,
            record,
            created_at: 1_700_000_000_000 + i + k,
            attempts: 0,
          })),
        ).execute();
      }
    });

  // The fake AMA decodes every record in its own thread. A warm-up round goes first (JIT measured warm).
  const sock = join(dir, "ama.sock");
  const warm = Math.min(20_000, n);
  const fake = fakeInWorker(`unix://${sock}`, [warm, warm + n, warm + 2 * n]);
  await fake.next();
  const sender = createSender({
    db: opened.db,
    raw: opened.raw,
    routes: () => forwardRoutes(`unix://${sock}`),
    log: memoryLogger("error"),
  });
  await insert(json.slice(0, warm), "CONFIG_CHANGE_BLOB_V2");
  await sender.drain(120_000);
  await fake.next();

  // 2. The outbox: rows written as a run writes them (one transaction, 500-row inserts).
  t = performance.now();
  await insert(json, "CONFIG_DATA_BLOB_V2");
  const insertMs = performance.now() - t;
  const pages = opened.raw.prepare("pragma page_count").get() as { page_count: number };
  const pageSize = opened.raw.prepare("pragma page_size").get() as { page_size: number };
  const dbBytes = pages.page_count * pageSize.page_size;

  // 3. Delivery: outbox → Forward mode (as to AMA: int times, no ack) → the fake over a filesystem socket.
  const cpu0 = cpuUs();
  t = performance.now();
  const drained = await sender.drain(300_000);
  const sentMs = performance.now() - t;
  const got = await fake.next();
  const deliveredMs = performance.now() - t;
  const cpu = cpuUs() - cpu0;
  sender.close();
  if (drained.left !== 0 || got.received !== warm + n) {
    throw new Error(
      `bench: ${drained.left} records left, ${got.received} of ${warm + n} received (${got.errors})`,
    );
  }

  // The sender alone: the same records to a socket whose reader only discards bytes (the fake's decoding is
  // the slower side of the measurement above).
  const sinkPath = join(dir, "sink.sock");
  const sink = new Worker(new URL("./sink_worker.ts", import.meta.url), { type: "module" });
  const sinkReady = new Promise((r) => sink.onmessage = r);
  sink.postMessage({ path: sinkPath });
  await sinkReady;
  const toSink = createSender({
    db: opened.db,
    raw: opened.raw,
    routes: () => forwardRoutes(`unix://${sinkPath}`),
    log: memoryLogger("error"),
  });
  await insert(json, "CONFIG_DATA_BLOB_V2");
  t = performance.now();
  const sunk = await toSink.drain(300_000);
  const sinkMs = performance.now() - t;
  toSink.close();
  sink.terminate();
  if (sunk.left !== 0) throw new Error(`bench: ${sunk.left} records left for the sink`);

  // Peer: npm:@fluent-org/logger's FluentClient (Forward mode, no ack) sending the same records from memory.
  const client = new FluentClient("bench", {
    eventMode: "Forward",
    socket: { path: sock },
    sendQueueSyncFlushLimit: { length: 1000 },
    flushInterval: 0,
  });
  t = performance.now();
  const sends: Promise<void>[] = [];
  for (let i = 0; i < n; i++) sends.push(client.emit("x", records[i], 1_700_000_000 + i));
  await Promise.all(sends);
  const peer = await fake.next();
  const peerMs = performance.now() - t;
  await client.disconnect();
  fake.stop();
  await opened.close();
  await Deno.remove(dir, { recursive: true });
  if (peer.received !== warm + 2 * n) throw new Error(`bench: the peer's ${n} records did not all arrive`);

  const figures = {
    records: n,
    encode_records_per_s: rate(n, encodeMs),
    encode_generic_msgpack_records_per_s: rate(n, genericMs),
    encode_mb_per_s: Math.round(bytes / 1e6 / (encodeMs / 1000)),
    wire_bytes_per_record: Math.round(bytes / n),
    outbox_insert_us_per_record: Number((insertMs * 1000 / n).toFixed(2)),
    outbox_db_bytes_per_record: Math.round(dbBytes / n),
    delivered_records_per_s: rate(n, deliveredMs),
    sender_records_per_s: rate(n, sentMs),
    sender_to_byte_sink_records_per_s: rate(n, sinkMs),
    delivery_us_per_record: Number((deliveredMs * 1000 / n).toFixed(2)),
    /** CPU of the whole process (sender, SQLite and the fake's thread) per record: robust on a busy machine. */
    delivery_cpu_us_per_record: Number((cpu / n).toFixed(2)),
    peer_fluent_org_logger_records_per_s: rate(n, peerMs),
    target_records_per_s: 50_000,
  };
  print(
    `ama: encode ${figures.encode_records_per_s} records/s (${figures.encode_mb_per_s} MB/s, ` +
      `${figures.wire_bytes_per_record} B/record); JSON.parse + generic msgpack: ${figures.encode_generic_msgpack_records_per_s}/s`,
  );
  print(
    `ama: outbox → fake AMA over a unix socket: ${figures.delivered_records_per_s} records/s delivered and decoded ` +
      `(target ≥ 50000/s: ${figures.delivered_records_per_s >= 50_000 ? "met" : "NOT met"}); ` +
      `sender alone (reader discards): ${figures.sender_to_byte_sink_records_per_s}/s; ` +
      `peer FluentClient from memory, no outbox: ${figures.peer_fluent_org_logger_records_per_s}/s`,
  );
  print(
    `ama: outbox cost: ${figures.outbox_insert_us_per_record} µs/record to insert, ` +
      `${figures.delivery_us_per_record} µs/record to read, send and delete (${figures.delivery_cpu_us_per_record} µs CPU ` +
      `incl. the fake's decoding), ${figures.outbox_db_bytes_per_record} B/record on disk`,
  );
  return figures;
}

if (import.meta.main) await benchAma({ records: Number(Deno.args[0] ?? 100_000) });
