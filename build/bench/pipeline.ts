// Benchmark of the pipeline: software collection against dpkg-query, store/diff of 100,000 items, verifying the
// history chain those runs wrote.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import type { Collector, Item } from "../../agent/collectors/types.ts";
import { implement } from "../../agent/collectors/spec.ts";
import software from "../../agent/collectors/software/mod.ts";
import { builtInConfig } from "../../agent/config/load.ts";
import { liveHost } from "../../agent/host/mod.ts";
import { createLogger } from "../../agent/log.ts";
import { runCollector } from "../../agent/pipeline/run.ts";
import { openDb } from "../../db/open.ts";
import { verifyChain } from "../../db/chain.ts";

const ms = (t: number) => Math.round((performance.now() - t) * 10) / 10;
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function benchPipeline(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const settings = builtInConfig("linux").settings;
  const log = createLogger({ level: "error" });
  const signal = new AbortController().signal;
  if (existsSync("/var/lib/dpkg/status")) {
    const host = liveHost();
    const collector = software;
    const ours: number[] = [], peer: number[] = [];
    for (let i = 0; i < 5; i++) {
      let t = performance.now();
      await collector.collect(settings, { host, signal, log });
      ours.push(ms(t));
      t = performance.now();
      execFileSync("dpkg-query", [
        "-W",
        "-f",
        "${Package}\t${Version}\t${Architecture}\t${Maintainer}\t${Installed-Size}\n",
      ]);
      peer.push(ms(t));
    }
    out.software_collect_ms = median(ours);
    out["dpkg-query_-W_ms"] = median(peer);
    out.software_vs_dpkg_query = `${(median(peer) / median(ours)).toFixed(2)}x faster`;
  }
  const N = 100_000;
  let version = "1";
  // The software spec, keyed by name alone, with 100,000 made-up packages.
  const synthetic: Collector = implement(
    { ...software, key: (i) => String(i.SoftwareName) },
    () =>
      Promise.resolve({
        items: Array.from({ length: N }, (_, i): Item => ({
          SoftwareName: `package-${i}`,
          CurrentVersion: i % 10 === 0 ? version : "1.0-1",
          Architecture: "amd64",
          Publisher: "Some Maintainer <someone@example.org>",
          SoftwareDescription: "a package that does useful things",
          Size: 123456,
          SoftwareType: "Package",
          Manager: "dpkg",
        })),
      }),
  );
  const dir = await Deno.makeTempDir();
  const { db, raw, close } = await openDb(`${dir}/bench.db`);
  const host = liveHost({ hostname: "bench" });
  for (const label of ["baseline", "unchanged", "modified_10pct"]) {
    if (label === "modified_10pct") version = "2.0-1";
    const t = performance.now();
    await runCollector({ db, raw, collector: synthetic, settings, host, log, signal });
    out[`run_100k_items_${label}_ms`] = ms(t);
  }
  // The history's hash chain over the changes those runs wrote: what `ctagent verify` costs.
  const t = performance.now();
  const chain = verifyChain(raw);
  if (!chain.ok) throw new Error(`chain broken: ${chain.broken!.message}`);
  out[`verify_chain_${chain.rows}_links_ms`] = ms(t);
  await close();
  await Deno.remove(dir, { recursive: true });
  return out;
}

if (import.meta.main) console.log(await benchPipeline());
