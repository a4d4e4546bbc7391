// Bench of the local page with 200,000 items (100,000 packages, 100,000 files) and 1,000,000 changes: every list
// endpoint's latency (p50/p95) and comparisons over 24 h and 30 d, the export of all 1,000,000 changes (its
// memory as it streams), the first rows of each view in Chromium, and the API's latency while a 200,000-file
// baseline runs (ui_baseline.ts).
// Usage: deno run -A build/bench/ui.ts   (or through build/bench/mod.ts: deno task bench ui)
import { CHROMIUM, LAUNCH } from "../../ui/testdata/chromium.ts";
import { existsSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { openDb, type OpenedDb } from "../../db/open.ts";
import { fillSynthetic } from "../../ui/testdata/synthetic.ts";
import { startUi } from "../../ui/server.ts";
import { ensureUiAssets } from "../bundle_ui.ts";
import { benchUiDuringBaseline } from "./ui_baseline.ts";

/** Packages and files each (the synthetic changes are of the first 100,000 of each). */
const ITEMS = 100_000;
const CHANGES = 1_000_000;
/** The targets of issue 14. */
const P95_MS = 100;
const FIRST_ROWS_MS = 1500;
const RUNS = 30;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round = (x: number) => Math.round(x * 10) / 10;

/**
 * The filled database is kept in the temp dir for a few hours (filling a million changes takes minutes); after
 * that the "last 24 h" it was filled for has moved too far and it is filled again.
 */
export async function benchDb(): Promise<{ opened: OpenedDb; fillSeconds: number | "cached" }> {
  const path = join(tmpdir(), `ctagent-bench-ui-v3-${2 * ITEMS}-${CHANGES}.db`);
  const ready = `${path}.ready`;
  const age = existsSync(ready) ? Date.now() - (Deno.statSync(ready).mtime?.getTime() ?? 0) : Infinity;
  if (existsSync(path) && age < 6 * 3600_000) return { opened: await openDb(path), fillSeconds: "cached" };
  for (const s of ["", "-wal", "-shm", ".ready"]) await Deno.remove(path + s).catch(() => {});
  const opened = await openDb(path);
  const t = performance.now();
  // Changes end now, so "24 h" and "7 d" ranges hold the newest ones.
  fillSynthetic(opened, { software: ITEMS, files: ITEMS, changes: CHANGES, now: Date.now() });
  opened.raw.exec("analyze");
  await Deno.writeTextFile(ready, new Date().toISOString());
  return { opened, fillSeconds: round((performance.now() - t) / 1000) };
}

export async function benchUi(): Promise<Record<string, unknown>> {
  await ensureUiAssets();
  const { opened, fillSeconds } = await benchDb();
  const ui = await startUi({ db: opened, listen: "127.0.0.1:0" });
  const host = `127.0.0.1:${ui.listen.port}`;
  const cookie = `${ui.auth!.cookieName()}=${ui.auth!.newSession()}`;
  const out: Record<string, unknown> = {
    items: 2 * ITEMS,
    changes: CHANGES,
    fill_s: fillSeconds,
    runs_per_query: RUNS,
    // Other work on the machine moves these figures a lot: say how busy it was.
    "load average at start": loadavg()[0].toFixed(1),
  };
  try {
    const queries: Record<string, string> = {
      "inventory first page": "/api/inventory/software?limit=100",
      "inventory search narrow (pkg-0123)": "/api/inventory/software?q=pkg-0123&limit=100",
      "inventory search broad (daemon)": "/api/inventory/software?q=daemon&limit=100",
      "inventory sort Version desc": "/api/inventory/software?sort=CurrentVersion&dir=desc&limit=100",
      "inventory sort Publisher, page 500": "/api/inventory/software?sort=Publisher&offset=50000&limit=100",
      "inventory search + sort": "/api/inventory/software?q=maintainer%2012&sort=Publisher&limit=100",
      "inventory filter Architecture": "/api/inventory/software?filter.Architecture=i386&limit=100",
      "files first page": "/api/inventory/files?limit=100",
      "files search (file-4242)": "/api/inventory/files?q=file-4242&limit=100",
      "files sort Size desc, page 300": "/api/inventory/files?sort=Size&dir=desc&offset=30000&limit=100",
      "files filter Owner": "/api/inventory/files?filter.Owner=root&limit=100",
      "services (none)": "/api/inventory/services?limit=100",
      "changes 24h": "/api/changes?since=24h&limit=100",
      "changes 7d files Modified": "/api/changes?since=7d&type=files&category=Modified&limit=100",
      "changes 30d page 50": "/api/changes?since=30d&offset=5000&limit=100",
      "changes search narrow (pkg-004243)": "/api/changes?since=30d&q=pkg-004243&limit=100",
      "changes search broad (daemon)": "/api/changes?since=30d&q=daemon&limit=100",
      "changes search none (zzzz)": "/api/changes?since=30d&q=zzzz&limit=100",
      "histogram 30d": "/api/histogram?since=30d",
      "counts (overview cards)": "/api/counts",
      // Compare two moments: the net change of every item changed between them (not a list of stored rows).
      "compare 24h": "/api/compare?from=24h&limit=100",
      "compare 30d": "/api/compare?from=30d&limit=100",
      "compare 30d files": "/api/compare?from=30d&type=files&limit=100",
      "changes unreviewed 24h": "/api/changes?since=24h&reviewed=0&limit=100",
      "item history": "/api/item?collector=software&key=dpkg%3Apkg-004243-daemon%3Ai386",
      "file history": "/api/item?collector=files&key=%2Fsrv%2Fbench%2Fd43%2Ffile-4243.conf",
      "runs": "/api/runs",
      "status": "/api/status",
      "config (DCRs)": "/api/config",
    };
    // The first inventory request builds the in-memory index (once per change of the inventory).
    let t = performance.now();
    await (await ui.request("/api/inventory/software?limit=1", { headers: { host, cookie } })).text();
    out["inventory index build ms (first request)"] = round(performance.now() - t);
    await (await ui.request("/api/inventory/files?limit=1", { headers: { host, cookie } })).text();
    const latency: Record<string, { p50: number; p95: number; max: number }> = {};
    for (const [name, path] of Object.entries(queries)) {
      const ms: number[] = [];
      for (let i = 0; i <= RUNS; i++) {
        t = performance.now();
        const r = await ui.request(path, { headers: { host, cookie } });
        if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
        await r.text();
        if (i > 0) ms.push(performance.now() - t); // the first one warms caches
      }
      ms.sort((a, b) => a - b);
      latency[name] = { p50: round(pct(ms, 50)), p95: round(pct(ms, 95)), max: round(ms[ms.length - 1]) };
    }
    out.api_ms = latency;
    // The target is for the endpoints that list or count stored rows; a comparison works out the net change of
    // every item changed between two moments, and is shown on its own.
    const lists = Object.entries(latency).filter(([name]) => !name.startsWith("compare"));
    const worst = lists.sort((a, b) => b[1].p95 - a[1].p95)[0];
    out["worst p95 ms"] = `${worst[1].p95} (${worst[0]})`;
    out[`p95 <= ${P95_MS} ms`] = lists.every(([, l]) => l.p95 <= P95_MS);
    out["compare p95 ms"] = Object.fromEntries(
      Object.entries(latency).filter(([name]) => name.startsWith("compare")).map((
        [name, l],
      ) => [name, l.p95]),
    );
    out.export = await exportAll((path) => ui.request(path, { headers: { host, cookie } }));
    out.page = existsSync(CHROMIUM) ? await pageLoad(ui.url, ui.signInUrl) : `skipped: ${CHROMIUM} absent`;
    out["load average at end"] = loadavg()[0].toFixed(1);
  } finally {
    await ui.stop();
    await opened.close();
  }
  // The agent as a user runs it, its page asked while a 200,000-file baseline runs (its own process).
  out["during a baseline"] = await benchUiDuringBaseline();
  return out;
}

/**
 * Every change exported (NDJSON, then CSV), read as a client reads a download; the process's memory sampled as
 * the rows stream (flat: it does not grow with the rows read).
 */
async function exportAll(
  get: (path: string) => Response | Promise<Response>,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const format of ["ndjson", "csv"]) {
    const mib = () => round(Deno.memoryUsage().rss / 2 ** 20);
    const before = mib();
    const t = performance.now();
    const r = await get(`/api/export/changes?format=${format}`);
    if (r.status !== 200) throw new Error(`export ${format}: ${r.status} ${await r.text()}`);
    let bytes = 0, lines = 0, next = 100_000;
    const rss: number[] = [];
    for await (const chunk of r.body!) {
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
      if (lines >= next) rss.push(mib()), next += 100_000;
    }
    const rows = format === "csv" ? lines - 1 : lines;
    if (rows !== CHANGES) throw new Error(`export ${format}: ${rows} rows, expected ${CHANGES}`);
    out[format] = {
      rows,
      MiB: round(bytes / 2 ** 20),
      s: round((performance.now() - t) / 1000),
      "rss MiB before": before,
      "rss MiB every 100,000 rows": rss.join(" "),
      "rss MiB growth first → last sample": round(rss[rss.length - 1] - rss[0]),
    };
  }
  return out;
}

async function pageLoad(url: string, signInUrl: string): Promise<Record<string, unknown>> {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch(LAUNCH);
  const res: Record<string, unknown> = {};
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(signInUrl);
    const views: [string, string, string][] = [
      ["overview ms (cards + chart + latest changes)", "#/overview", ".chart svg .seg"],
      ["changes view ms (1,000,000 changes, 24 h)", "#/changes?since=24h", ".changes li"],
      ["software view ms (100,000 packages, first page)", "#/software", "table.grid tbody tr"],
      ["files view ms (100,000 files, first page)", "#/files", "table.grid tbody tr"],
      [
        "file drawer ms (its history)",
        `#/files?item=${encodeURIComponent("files|/srv/bench/d43/file-4243.conf")}`,
        ".drawer .timeline li",
      ],
      ["agent view ms", "#/agent", "main .panel"],
      ["dcr view ms", "#/dcr", "main .panel"],
    ];
    /** Each view's slowest of its 3 timed loads. */
    const slowest: [string, number][] = [];
    for (const [name, hash, ready] of views) {
      const times: number[] = [];
      for (let i = 0; i < 4; i++) {
        await page.goto("about:blank");
        const t = performance.now();
        await page.goto(url + hash);
        await page.locator(ready).first().waitFor({ timeout: 30_000 });
        if (i > 0) times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      res[name] = round(pct(times, 50));
      slowest.push([name, round(times[times.length - 1])]);
    }
    slowest.sort((a, b) => b[1] - a[1]);
    res["slowest of all loads ms"] = `${slowest[0][1]} (${slowest[0][0]})`;
    res[`every load <= ${FIRST_ROWS_MS} ms`] = slowest[0][1] <= FIRST_ROWS_MS;
    // Typing in the search box until the table shows the matches.
    await page.goto(url + "#/software");
    await page.locator("table.grid tbody tr").first().waitFor();
    const t = performance.now();
    await page.fill("#search", "pkg-09999");
    await page.waitForFunction(() => document.querySelectorAll("table.grid tbody tr").length === 10);
    res["search to rows ms (incl. 150 ms typing debounce)"] = round(performance.now() - t);
  } finally {
    await browser.close();
  }
  return res;
}

if (import.meta.main) console.log(JSON.stringify(await benchUi(), null, 2));
