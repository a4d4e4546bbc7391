// Bench of the wire: forward encoding, outbox → fake AMA over a unix socket, and the outbox's cost per record.
import { join } from "node:path";
import process from "node:process";
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

/** Runs the AMA bench and prints its figures; returns them for build/bench/mod.ts. */
export async function benchAma(opts: { records?: number; print?: (line: string) => void } = {}): Promise<
  Record<string, unknown>
> {
  const n = opts.records ?? 100_000;
  const print = opts.print ?? ((l: string) => console.log(l));
  const records = Array.from({ length: n }, (_, i) => record(i));
  const json = records.map((r) => JSON.stringify(r));

  // 1. Encoding alone (what codec.ts costs), as the sender does it: outbox JSON → Forward, batches of 1000.
  let bytes = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i += 1000) {
    const entries = json.slice(i, i + 1000).map((j, k) => [1_700_000_000 + i + k, j] as const);
    bytes += encodeForwardJson("dcr-x:CTDataSource-Linux:CONFIG_DATA_BLOB_V2", entries).byteLength;
  }
  const encodeMs = performance.now() - t0;

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

  // The fake AMA decodes every record in its own thread (AMA is another process). A warm-up round goes
  // first, so the JIT is measured warm.
  const sock = join(dir, "ama.sock");
  const warm = Math.min(20_000, n);
  const worker = new Worker(new URL("./fake_ama_worker.ts", import.meta.url), { type: "module" });
  const events: { ready?: boolean; received?: number; errors?: string[] }[] = [];
  let notify = () => {};
  worker.onmessage = (e) => (events.push(e.data), notify());
  const next = async () => {
    while (!events.length) await new Promise<void>((r) => notify = r);
    return events.shift()!;
  };
  worker.postMessage({ endpoint: `unix://${sock}`, expect: [warm, warm + n] });
  await next();
  const sender = createSender({
    db: opened.db,
    routes: () => forwardRoutes(`unix://${sock}`),
    log: memoryLogger("error"),
  });
  await insert(json.slice(0, warm), "CONFIG_CHANGE_BLOB_V2");
  await sender.drain(120_000);
  await next();

  // 2. The outbox: rows written as a run writes them (one transaction, 500-row inserts).
  const t1 = performance.now();
  await insert(json, "CONFIG_DATA_BLOB_V2");
  const insertMs = performance.now() - t1;
  const pages = opened.raw.prepare("pragma page_count").get() as { page_count: number };
  const pageSize = opened.raw.prepare("pragma page_size").get() as { page_size: number };
  const dbBytes = pages.page_count * pageSize.page_size;

  // 3. Delivery: outbox → Forward mode (as to AMA: int times, no ack) → the fake over a filesystem socket.
  const cpu0 = process.cpuUsage();
  const t2 = performance.now();
  const drained = await sender.drain(300_000);
  const sentMs = performance.now() - t2;
  const got = await next();
  const deliveredMs = performance.now() - t2;
  const cpu = process.cpuUsage(cpu0);
  sender.close();
  worker.terminate();
  await opened.close();
  await Deno.remove(dir, { recursive: true });
  if (drained.left !== 0 || got.received !== warm + n) {
    throw new Error(
      `bench: ${drained.left} records left, ${got.received} of ${warm + n} received (${got.errors})`,
    );
  }

  const figures = {
    records: n,
    encode_records_per_s: rate(n, encodeMs),
    encode_mb_per_s: Math.round(bytes / 1e6 / (encodeMs / 1000)),
    wire_bytes_per_record: Math.round(bytes / n),
    outbox_insert_us_per_record: Number((insertMs * 1000 / n).toFixed(2)),
    outbox_db_bytes_per_record: Math.round(dbBytes / n),
    delivered_records_per_s: rate(n, deliveredMs),
    sender_records_per_s: rate(n, sentMs),
    delivery_us_per_record: Number((deliveredMs * 1000 / n).toFixed(2)),
    /** CPU of the whole process (sender, SQLite and the fake's thread) per record: robust on a busy machine. */
    delivery_cpu_us_per_record: Number(((cpu.user + cpu.system) / n).toFixed(2)),
    target_records_per_s: 50_000,
  };
  print(
    `ama: encode ${figures.encode_records_per_s} records/s (${figures.encode_mb_per_s} MB/s, ${figures.wire_bytes_per_record} B/record)`,
  );
  print(
    `ama: outbox → fake AMA over a unix socket: ${figures.delivered_records_per_s} records/s delivered and decoded ` +
      `(sender alone ${figures.sender_records_per_s}/s; target ≥ 50000/s: ${
        figures.delivered_records_per_s >= 50_000 ? "met" : "NOT met"
      })`,
  );
  print(
    `ama: outbox cost: ${figures.outbox_insert_us_per_record} µs/record to insert, ` +
      `${figures.delivery_us_per_record} µs/record to read, send and delete (${figures.delivery_cpu_us_per_record} µs CPU ` +
      `incl. the fake's decoding), ${figures.outbox_db_bytes_per_record} B/record on disk`,
  );
  return figures;
}

if (import.meta.main) await benchAma({ records: Number(Deno.args[0] ?? 100_000) });
