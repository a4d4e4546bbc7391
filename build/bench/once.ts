// Bench: `ctagent --once` with the built-in default DCR (software, services, the default files entry), whole
// process, wall time: the first run (a fresh data directory: the baseline) and the runs after it. From source
// (`deno run main.ts`) and from the bundle (one JS file, the nearest thing to the compiled program here).
// Target (issue 18): ≤ 1 s wall.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { bundle } from "../bundle.ts";
import { V8_FLAGS_ARG } from "../v8_flags.ts";
import { AS_COMPILED, firstStart } from "./compiled.ts";

const TARGET_MS = 1000;
const REPO = new URL("../../", import.meta.url).pathname;

function run(args: string[]): { ms: number; rssKb: number } {
  const t = performance.now();
  const r = spawnSync("/usr/bin/time", ["-f", "%M", Deno.execPath(), ...args], { encoding: "utf8" });
  const ms = performance.now() - t;
  // --once exits with the change bits (0–7); 16 and up are failures.
  if (r.status === null || r.status >= 16) {
    throw new Error(`--once exited ${r.status}: ${r.stderr.slice(-800)}`);
  }
  return { ms, rssKb: Number(r.stderr.trim().split("\n").pop()) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const r1 = (x: number) => Math.round(x * 10) / 10;

export async function benchOnce(opts: { runs?: number } = {}): Promise<Record<string, unknown>> {
  const runs = opts.runs ?? 5;
  const dir = await Deno.makeTempDir({ prefix: "ctagent-bench-once-" });
  try {
    const { out: js } = await bundle({ out: join(dir, "ctagent.js"), log: () => {} });
    firstStart(js);
    const forms: Record<string, string[]> = {
      source: ["run", "-A", V8_FLAGS_ARG, `--config=${REPO}deno.json`, `${REPO}main.ts`],
      bundle: ["run", "-A", ...AS_COMPILED, js],
    };
    const out: Record<string, unknown> = { runs, load_average_at_start: Deno.loadavg().join(" ") };
    for (const [form, cmd] of Object.entries(forms)) {
      const first: number[] = [], again: number[] = [], rss: number[] = [];
      for (let i = 0; i < runs; i++) {
        const data = join(dir, `data-${form}-${i}`);
        const args = [...cmd, "--once", "--no-ama", "--no-ui", "--data-dir", data];
        const a = run(args), b = run(args);
        first.push(a.ms);
        again.push(b.ms);
        rss.push(a.rssKb, b.rssKb);
      }
      out[`${form}_first_run_ms`] = { median: r1(median(first)), min: r1(Math.min(...first)) };
      out[`${form}_next_run_ms`] = { median: r1(median(again)), min: r1(Math.min(...again)) };
      out[`${form}_peak_rss_mb`] = r1(Math.max(...rss) / 1024);
      out[`${form}_ok`] = median(first) <= TARGET_MS && median(again) <= TARGET_MS;
    }
    out.target_ms = TARGET_MS;
    return out;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) console.log(JSON.stringify(await benchOnce(), null, 2));
