// Soak bench: the daemon as the executable runs it (the one-file bundle, which `deno task compile` embeds, its workers
// started from blobs; CTAGENT_SOAK_FORM=source runs the modules as `deno task start` does) on the default DCR with
// every collection frequency at 10 s (inventory every 10 min), for CTAGENT_SOAK_MINUTES (default 30): about a
// day of scheduled runs at the default frequencies. The DCR comes from the fake AMA over its config socket and
// the records go to its data socket, as on a real machine. Prints the daemon's RSS every minute, then what a
// request to the page without credential adds, and what the page's worker adds once a request with one starts it.
// Before the soak, the idle daemon: the default DCR at its own frequencies, 45 s after start.
// Targets (issue 18): idle RSS ≤ 60 MB after the first runs, and flat (the last minutes within 10% of minute 2).
// RSS does not depend on how busy the machine is: this bench needs no exclusive lock.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { defaultExtensionSettings } from "../../agent/config/defaults.ts";
import { bundle } from "../bundle.ts";
import { ensureUiAssets } from "../bundle_ui.ts";
import { V8_FLAGS_ARG } from "../v8_flags.ts";
import { AS_COMPILED, firstStart } from "./compiled.ts";

const TARGET_MB = 60;
/** What a request to the page without credential may add (it starts no page worker). */
const PAGE_KNOCK_MB = 10;
const REPO = new URL("../../", import.meta.url).pathname;
const r1 = (x: number) => Math.round(x * 10) / 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A process's resident memory (MB): all of it, and the part that is its own (RssAnon: heaps, not mapped files). */
function memory(pid: number, key: "VmRSS" | "RssAnon" = "VmRSS"): number {
  const m = Deno.readTextFileSync(`/proc/${pid}/status`).match(new RegExp(`${key}:\\s+(\\d+)`));
  return m ? r1(Number(m[1]) / 1024) : NaN;
}
const rssMb = (pid: number) => memory(pid);

/** How long after start the idle daemon is measured: its first runs, then the trim they left for later. */
const IDLE_AT_S = 45;

/**
 * The daemon on `settings` (served by the fake AMA over its config socket; records to its data socket), started
 * as `program` runs it, its page on `port`; `stop()` ends both.
 */
async function startDaemon(settings: unknown, dir: string, program: string[], port: number) {
  const dcr = join(dir, "dcr.json");
  await Deno.writeTextFile(dcr, JSON.stringify(settings));
  const tag = `ctagent-soak-${Deno.pid}-${port}`;
  const ama = spawn(Deno.execPath(), [
    "run",
    "-A",
    `--config=${REPO}deno.json`,
    `${REPO}test/fake_ama.ts`,
    "--config",
    `@${tag}-config`,
    "--data",
    `@${tag}-data`,
    "--dcr",
    dcr,
    "--ndjson",
    "/dev/null",
  ], { stdio: ["ignore", "ignore", "ignore"] });
  await sleep(3000); // the fake AMA listening
  const daemon = spawn(Deno.execPath(), [
    "run",
    "-A",
    ...program,
    "--data-dir",
    join(dir, "data"),
    "--ama-config",
    `@${tag}-config`,
    "--ama-data",
    `@${tag}-data`,
    "--listen",
    `127.0.0.1:${port}`,
  ], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  daemon.stderr!.on("data", (b) => stderr = (stderr + b).slice(-4000));
  return {
    pid: daemon.pid!,
    /** Throws when the daemon is gone, with the end of what it wrote. */
    alive() {
      if (daemon.exitCode !== null) throw new Error(`the daemon exited ${daemon.exitCode}: ${stderr}`);
    },
    async stop() {
      daemon.kill("SIGTERM");
      ama.kill("SIGTERM");
      await sleep(2000);
    },
  };
}

export async function benchSoak(): Promise<Record<string, unknown>> {
  const minutes = Number(Deno.env.get("CTAGENT_SOAK_MINUTES") ?? "30");
  const form = Deno.env.get("CTAGENT_SOAK_FORM") ?? "bundle";
  const dir = await Deno.makeTempDir({ prefix: "ctagent-bench-soak-" });
  const base = defaultExtensionSettings("linux") as Record<string, Record<string, unknown>>;
  const soakSettings = {
    ...base,
    fileSettings: { ...base.fileSettings, fileCollectionFrequency: 10 },
    softwareSettings: { softwareCollectionFrequency: 10 },
    servicesSettings: { serviceCollectionFrequency: 10 },
    inventorySettings: { inventoryCollectionFrequency: 600 },
  };
  let daemon: Awaited<ReturnType<typeof startDaemon>> | undefined;
  try {
    // From source, the page's assets built first, as `deno task start` does: without them the daemon serves
    // the small "not built" page, which is not what a user runs.
    if (form !== "bundle") await ensureUiAssets();
    const js = form === "bundle" ? (await bundle({ out: join(dir, "ctagent.js"), log: () => {} })).out : "";
    if (js) firstStart(js);
    const program = js ? [...AS_COMPILED, js] : [V8_FLAGS_ARG, `--config=${REPO}deno.json`, `${REPO}main.ts`];
    const port = 20000 + (Deno.pid % 20000);

    // Idle: the default DCR at its own frequencies, IDLE_AT_S after start: after the first runs and the trim they
    // left for later, before the listening ports' next run (every minute; the DCR's collectors every 5-15 minutes).
    const idleDir = join(dir, "idle");
    await Deno.mkdir(idleDir);
    daemon = await startDaemon(base, idleDir, program, port + 1);
    await sleep(IDLE_AT_S * 1000);
    daemon.alive();
    const idle = { rss_mb: rssMb(daemon.pid), anon_mb: memory(daemon.pid, "RssAnon"), after_s: IDLE_AT_S };
    console.error(
      `soak: idle on the default DCR ${IDLE_AT_S} s after start: ${idle.rss_mb} MB (its own ${idle.anon_mb} MB)`,
    );
    await daemon.stop();

    daemon = await startDaemon(soakSettings, dir, program, port);
    const pid = daemon.pid;
    const perMinute: { minute: number; rss_mb: number; max_mb: number; anon_mb: number }[] = [];
    let max = 0;
    for (let m = 1; m <= minutes; m++) {
      let minuteMax = 0;
      for (let s = 0; s < 6; s++) {
        await sleep(10_000);
        daemon.alive();
        minuteMax = Math.max(minuteMax, rssMb(pid));
      }
      const now = rssMb(pid);
      max = Math.max(max, minuteMax);
      const anon = memory(pid, "RssAnon");
      perMinute.push({ minute: m, rss_mb: now, max_mb: minuteMax, anon_mb: anon });
      console.error(`soak: minute ${m}: ${now} MB (max in the minute ${minuteMax} MB; its own ${anon} MB)`);
    }
    // The page: what a request without any credential costs, then one with a wrong token (the listener refuses
    // both itself, as the page would: no page worker starts), then what the page's worker costs once a request
    // with the right token (the data directory's) starts it.
    const knock = async (query: string) => {
      const before = rssMb(pid);
      const r = await fetch(`http://127.0.0.1:${port}/${query}`, { redirect: "manual" });
      await r.body?.cancel();
      await sleep(5000);
      return { status: r.status, added_mb: r1(rssMb(pid) - before) };
    };
    const withoutCredential = await knock("");
    const wrongToken = await knock("?token=wrong");
    const token = (await Deno.readTextFile(join(dir, "data", "page-token"))).trim();
    const workerStarted = await knock(`?token=${token}`);
    console.error(
      `soak: the page: a request without credential +${withoutCredential.added_mb} MB, ` +
        `one with a wrong token +${wrongToken.added_mb} MB, ` +
        `the page's worker started by a sign-in +${workerStarted.added_mb} MB`,
    );
    const settled = perMinute[Math.min(1, perMinute.length - 1)].rss_mb;
    const last = perMinute.slice(-5).map((p) => p.rss_mb);
    const flat = Math.max(...last) <= settled * 1.1;
    const idleOk = idle.rss_mb <= TARGET_MB;
    return {
      form,
      // RSS counts the pages of the deno executable the process has mapped (file-backed; the agent gives the
      // ones it no longer uses back after its runs: agent/host/memory.ts); RssAnon is the process's own memory
      // (V8 heaps, SQLite, buffers).
      idle_default_dcr: idle,
      minutes,
      frequencies_s: { files: 10, software: 10, services: 10, inventory: 600 },
      rss_mb_per_minute: perMinute.map((p) => p.rss_mb),
      max_in_minute_mb: perMinute.map((p) => p.max_mb),
      anon_mb_per_minute: perMinute.map((p) => p.anon_mb),
      // Minute 2 of runs every 10 s: busier than idle.
      after_first_runs_mb: settled,
      last_mb: perMinute.at(-1)!.rss_mb,
      max_mb: max,
      growth_mb: r1(Math.max(...last) - settled),
      target_mb: TARGET_MB,
      idle_ok: idleOk,
      flat_ok: flat,
      ok: idleOk && flat,
      page_without_credential: withoutCredential,
      page_wrong_token: wrongToken,
      page_worker_started: workerStarted,
      // A page worker costs tens of MB: none may start for a request the page refuses (no credential, a wrong
      // one); the runs every 10 s move RSS by a few MB meanwhile.
      page_without_credential_ok: withoutCredential.status === 401 &&
        withoutCredential.added_mb <= PAGE_KNOCK_MB,
      page_wrong_token_ok: wrongToken.status === 401 && wrongToken.added_mb <= PAGE_KNOCK_MB,
    };
  } finally {
    await daemon?.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) console.log(JSON.stringify(await benchSoak(), null, 2));
