// Realtime bench: the daemon as a user runs it (main.ts, files + software + services on, no AMA, no page) on a
// tracked tree. Side by side in one run:
//   - latency from a file write to its change record being in the outbox, over 1,000 writes (one every 50 ms),
//     against the peer: the DCR's 900 s scan interval, under which a change waits 450 s on average;
//   - storms of 100,000 writes in 60 s by another process, to 1,000 files (the target's) and to 10,000 files
//     (nearly every write a change record): the agent's CPU (% of one core) while it lasts and until everything
//     is recorded, its peak RSS against its idle RSS; then a scheduled scan (asked through `--once`), which
//     must find nothing realtime missed;
//   - idle CPU over a minute with realtime on and with --no-realtime.
// Targets (issue 12): p95 ≤ 1 s; storm CPU ≤ 15 % of a core on average; peak RSS ≤ idle + 30 MB; 0 missed.
// CPU figures need a quiet machine: run it under the exclusive bench lock.
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { V8_FLAGS_ARG } from "../v8_flags.ts";

const REPO = new URL("../../", import.meta.url).pathname;
const TICKS = 100; // USER_HZ on Linux
const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds (user + system) a process used so far. */
function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / TICKS;
}

function rssMb(pid: number): number {
  const m = Deno.readTextFileSync(`/proc/${pid}/status`).match(/VmRSS:\s+(\d+)/);
  return m ? Number(m[1]) / 1024 : NaN;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** The daemon on `dcr`, its log kept; resolves once every collector stored its baseline. */
async function daemon(dir: string, dcr: string, extra: string[] = []) {
  const data = join(dir, `data${extra.length ? "-off" : ""}`);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      V8_FLAGS_ARG,
      `--config=${REPO}deno.json`,
      `${REPO}main.ts`,
      "--dcr",
      dcr,
      "--data-dir",
      data,
      "--no-ama",
      "--no-ui",
      ...extra,
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let log = "";
  const pump = (async () => {
    for await (const t of child.stderr.pipeThrough(new TextDecoderStream())) log = (log + t).slice(-200_000);
  })();
  const end = Date.now() + 300_000;
  while (!["files", "software", "services"].every((c) => log.includes(`msg="${c} run baseline"`))) {
    if (Date.now() > end) throw new Error(`no baseline after 5 min:\n${log.slice(-3000)}`);
    await sleep(100);
  }
  return {
    pid: child.pid,
    data,
    log: () => log,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await pump;
    },
  };
}

/** The files change records in the outbox after id `after`: their paths and the highest id. */
function changeRecords(db: DatabaseSync, after: number): { paths: string[]; last: number } {
  const rows = db.prepare(
    "SELECT id, record FROM outbox WHERE id > ? AND stream = 'CONFIG_CHANGE_BLOB_V2' ORDER BY id",
  ).all(after) as { id: number; record: string }[];
  const paths: string[] = [];
  for (const r of rows) {
    const rec = JSON.parse(r.record || "{}");
    if (rec.FileSystemPath) paths.push(rec.FileSystemPath);
  }
  return { paths, last: rows.length ? rows[rows.length - 1].id : after };
}

/** CPU of `pid` over a minute, in % of one core. */
async function idleCpu(pid: number): Promise<number> {
  const c = cpuSeconds(pid), t = performance.now();
  await sleep(60_000);
  return r3(((cpuSeconds(pid) - c) / ((performance.now() - t) / 1000)) * 100);
}

export async function benchRealtime(): Promise<Record<string, unknown>> {
  const dir = await Deno.makeTempDir({ prefix: "ctagent-bench-realtime-" });
  const tree = join(dir, "tree");
  await Deno.mkdir(join(tree, "lat"), { recursive: true });
  const dcr = join(dir, "dcr.json");
  await Deno.writeTextFile(
    dcr,
    JSON.stringify({
      enableFiles: true,
      enableSoftware: true,
      enableServices: true,
      enableRegistry: false,
      enableInventory: true,
      fileSettings: {
        fileCollectionFrequency: 900,
        fileInfo: [{ name: "bench", path: tree, recurse: true, maxContentsReturnable: 0 }],
      },
    }),
  );
  const out: Record<string, unknown> = { load_average_at_start: Deno.loadavg().join(" ") };
  const agent = await daemon(dir, dcr);
  const db = new DatabaseSync(join(agent.data, "ctagent.db"), { readOnly: true });
  try {
    await sleep(3000);
    const idleRss = rssMb(agent.pid);
    out.idle_rss_mb = r1(idleRss);
    // ---- idle CPU: a minute with realtime on after the baseline (and, at the end, with --no-realtime) ----
    out.idle_cpu_percent_realtime_on = await idleCpu(agent.pid);

    // ---- latency: 1,000 writes, one every 50 ms ----
    let last = changeRecords(db, 0).last;
    const wrote = new Map<string, number>();
    const seen = new Map<string, number>();
    const start = performance.now();
    let i = 0;
    while (seen.size < 1000 && performance.now() - start < 120_000) {
      const due = start + i * 50;
      if (i < 1000 && performance.now() >= due) {
        const path = join(tree, "lat", `f${i}`);
        Deno.writeTextFileSync(path, `change ${i}\n`);
        wrote.set(path, performance.now());
        i++;
      }
      const got = changeRecords(db, last);
      last = got.last;
      const now = performance.now();
      for (const p of got.paths) if (wrote.has(p) && !seen.has(p)) seen.set(p, now - wrote.get(p)!);
      await sleep(5);
    }
    const lat = [...seen.values()].sort((a, b) => a - b);
    out.latency_changes = lat.length;
    out.latency_s = {
      p50: r3(quantile(lat, 0.5) / 1000),
      p95: r3(quantile(lat, 0.95) / 1000),
      max: r3(lat[lat.length - 1] / 1000),
    };
    // A change waits for the next scan: uniformly 0–900 s.
    out.peer_scheduled_scan_900s_latency_s = { p50: 450, p95: 855, max: 900 };
    out.latency_ok = lat.length === 1000 && quantile(lat, 0.95) <= 1000;

    // ---- storms: 100,000 writes in 60 s by another process, to 1,000 files (each written 100 times) and to
    // 10,000 files (each 10 times, a change record for nearly every write) ----
    const storm = async (files: number, sub: string) => {
      const rounds = 100_000 / files;
      await Deno.mkdir(join(tree, sub));
      const writer = new Deno.Command(Deno.execPath(), {
        args: [
          "eval",
          `const dir = ${JSON.stringify(join(tree, sub))}, files = ${files}, rounds = ${rounds};
           const t0 = performance.now(), per = 60000 / (files * rounds);
           for (let n = 0; n < files * rounds; n++) {
             const wait = t0 + n * per - performance.now();
             if (wait > 2) await new Promise((r) => setTimeout(r, wait));
             Deno.writeTextFileSync(dir + "/f" + (n % files), "round " + Math.floor(n / files) + "\\n", { append: true });
           }`,
        ],
        stdout: "null",
        stderr: "inherit",
      }).spawn();
      const runs0 = (agent.log().match(/msg="files run realtime"/g) ?? []).length;
      const cpu0 = cpuSeconds(agent.pid), t0 = performance.now();
      let peak = 0, seen = 0;
      const sample = async (until: () => boolean) => {
        while (!until()) {
          peak = Math.max(peak, rssMb(agent.pid));
          const got = changeRecords(db, last);
          last = got.last;
          seen += got.paths.filter((p) => p.includes(`/${sub}/`)).length;
          await sleep(200);
        }
      };
      let writerDone = false;
      void writer.status.then(() => (writerDone = true));
      await sample(() => writerDone);
      const wall = (performance.now() - t0) / 1000, cpu = cpuSeconds(agent.pid) - cpu0;
      // Caught up: no new record for 3 s.
      let quietSince = performance.now(), count = -1;
      await sample(() => {
        if (seen !== count) [count, quietSince] = [seen, performance.now()];
        return performance.now() - quietSince > 3000;
      });
      const caughtUp = (performance.now() - t0) / 1000 - 3, cpuAll = cpuSeconds(agent.pid) - cpu0;
      return {
        writes: 100_000,
        files,
        writer_seconds: r1(wall),
        change_records: seen,
        realtime_runs: (agent.log().match(/msg="files run realtime"/g) ?? []).length - runs0,
        cpu_percent_of_a_core_while_writing: r1((cpu / wall) * 100),
        cpu_percent_of_a_core_until_caught_up: r1((cpuAll / (caughtUp + 3)) * 100),
        caught_up_after_s: r1(caughtUp),
        peak_rss_mb: r1(peak),
        peak_over_idle_mb: r1(peak - idleRss),
      };
    };
    const stormA = await storm(1_000, "storm-a");
    out.storm_1000_files = stormA;
    const stormB = await storm(10_000, "storm-b");
    out.storm_10000_files = stormB;

    // ---- the next scheduled scan (asked of the daemon by --once) finds nothing realtime missed ----
    const once = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        `--config=${REPO}deno.json`,
        `${REPO}main.ts`,
        "--once",
        "--json",
        "--no-ama",
        "--no-ui",
        "--dcr",
        dcr,
        "--data-dir",
        agent.data,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const result = JSON.parse(new TextDecoder().decode(once.stdout) || "{}");
    const scanFound = (result.changes ?? []).filter((c: Record<string, string>) =>
      c.ConfigChangeType === "Files"
    ).length;
    await sleep(3000); // the realtime status is stored every 2 s
    const status = JSON.parse(
      new TextDecoder().decode(
        (await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            `--config=${REPO}deno.json`,
            `${REPO}main.ts`,
            "status",
            "--json",
            "--data-dir",
            agent.data,
          ],
          stdout: "piped",
        }).output()).stdout,
      ),
    );
    const files_ = status.realtime?.collectors?.find((c: { name: string }) => c.name === "files");
    out.scheduled_scan_after_storm = {
      file_changes_found: scanFound,
      missed_by_realtime: files_?.missed ?? null,
    };
    out.storm_ok = stormA.cpu_percent_of_a_core_until_caught_up <= 15 && stormA.peak_over_idle_mb <= 30 &&
      scanFound === 0 && files_?.missed === 0;
  } finally {
    db.close();
    await agent.stop();
  }
  const off = await daemon(dir, dcr, ["--no-realtime"]);
  try {
    await sleep(3000);
    out.idle_cpu_percent_realtime_off = await idleCpu(off.pid);
  } finally {
    await off.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  out.targets = { latency_p95_s: 1, storm_cpu_percent: 15, storm_rss_over_idle_mb: 30, missed: 0 };
  return out;
}

if (import.meta.main) console.log(JSON.stringify(await benchRealtime(), null, 2));
