// One process of the files benchmark: the daemon's work for two files runs over a tree (a first scan, then a
// rescan with nothing changed), then peak RSS; or, with --collector-only, the files collector alone.
// Usage: deno run -A --v8-flags=… build/bench/files_scan.ts TREE DATA_DIR|--collector-only   (one JSON line)
import type { Collector, ItemSink } from "../../agent/collectors/types.ts";
import files from "../../agent/collectors/files/mod.ts";
import { settingsSchema } from "../../agent/config/dcr.ts";
import { liveHost } from "../../agent/host/mod.ts";
import { createLogger } from "../../agent/log.ts";
import "../../agent/cli.ts"; // the product's whole module graph, for a true memory baseline
import { writeMirrors } from "../../agent/pipeline/mirrors.ts";
import { runCollector } from "../../agent/pipeline/run.ts";
import { DB_FILE } from "../../agent/paths.ts";
import { openDb } from "../../db/open.ts";
import { join } from "node:path";

const [tree, dataDir] = Deno.args;
const status = (key: string) =>
  Number(Deno.readTextFileSync("/proc/self/status").match(new RegExp(`${key}:\\s+(\\d+)`))?.[1]);
// aide hashes, it does not keep contents: capture is off so both do the same work.
const settings = settingsSchema("linux").parse({
  fileSettings: { fileInfo: [{ name: "bench", path: tree, recurse: true, maxContentsReturnable: 0 }] },
});
const inner: Collector = files;
const collectMs: number[] = [];
const collector: Collector = {
  ...inner,
  async collect(s, ctx) {
    const t = performance.now();
    const r = await inner.collect(s, ctx);
    collectMs.push(performance.now() - t);
    return r;
  },
};
const out: Record<string, unknown> = {};
const log = createLogger({ level: "error" });
if (dataDir === "--collector-only") {
  // The collector alone (no database): a sink that keeps only the fingerprints, which the rescan gets as
  // `previous`.
  const sink = () => {
    const s = { added: 0, same: 0, fingerprints: new Map<string, string>() };
    const sink: ItemSink = {
      add(item, fingerprint) {
        s.added++;
        if (fingerprint) s.fingerprints.set(inner.key(item), fingerprint);
      },
      same: () => void s.same++,
      content() {},
    };
    return { s, sink };
  };
  const ctx = { host: liveHost(), log, signal: new AbortController().signal };
  const one = sink();
  let t = performance.now();
  await inner.collect(settings, { ...ctx, sink: one.sink });
  out.first_ms = Math.round(performance.now() - t);
  out.first_rss_kb = status("VmRSS");
  out.items = one.s.added;
  const two = sink();
  t = performance.now();
  await inner.collect(settings, { ...ctx, previous: one.s.fingerprints, sink: two.sink });
  out.rescan_ms = Math.round(performance.now() - t);
  out.rescan_same = two.s.same;
  out.peak_rss_kb = status("VmHWM");
  console.log(JSON.stringify(out));
  Deno.exit(0);
}
// What the daemon does on each files run, twice in one process (a first scan, then a rescan with nothing
// changed): the run (collect, diff, one transaction into SQLite), then the JSON mirror (File.json). The whole
// CLI is loaded (cli.ts, imported above), so the process's memory is the product's, not a lean harness's.
const { db, raw, close } = await openDb(join(dataDir, DB_FILE));
for (const run of ["first", "rescan"]) {
  let t = performance.now();
  const s = await runCollector({
    db,
    raw,
    collector,
    settings,
    host: liveHost(),
    log,
    signal: new AbortController().signal,
    keepChanges: false,
  });
  out[`${run}_ms`] = Math.round(performance.now() - t);
  out[`${run}_status`] = s.status;
  out[`${run}_counts`] = s.counts;
  if (run === "first") out.warnings = s.warnings;
  t = performance.now();
  await writeMirrors({
    db,
    dir: dataDir,
    os: "linux",
    only: [files.name],
    unchanged: s.itemsWritten === 0 ? [files.name] : [],
  });
  out[`${run}_mirror_ms`] = Math.round(performance.now() - t);
  out[`${run}_rss_kb`] = status("VmRSS");
}
out.peak_rss_kb = status("VmHWM");
out.collect_ms = collectMs.map(Math.round);
const only = raw.prepare("SELECT data FROM items WHERE collector = ? LIMIT 2").all(files.name) as {
  data: string;
}[];
if (only.length === 1) out.checksum = JSON.parse(only[0].data).FileContentChecksum;
await close();
console.log(JSON.stringify(out));
