// One process of the files benchmark: two pipeline runs of the files collector over a tree, then peak RSS.
// Usage: deno run -A build/bench/files_scan.ts TREE DATA_DIR   (prints one JSON line)
import type { Collector, ItemSink } from "../../agent/collectors/types.ts";
import { filesCollector } from "../../agent/collectors/files/mod.ts";
import { settingsSchema } from "../../agent/config/dcr.ts";
import { liveHost } from "../../agent/host/mod.ts";
import { createLogger } from "../../agent/log.ts";
import { runCollector } from "../../agent/pipeline/run.ts";
import { openDb } from "../../db/open.ts";

const [tree, dataDir] = Deno.args;
const status = (key: string) =>
  Number(Deno.readTextFileSync("/proc/self/status").match(new RegExp(`${key}:\\s+(\\d+)`))?.[1]);
// aide hashes, it does not keep contents: capture is off so both do the same work.
const settings = settingsSchema("linux").parse({
  fileSettings: { fileInfo: [{ name: "bench", path: tree, recurse: true, maxContentsReturnable: 0 }] },
});
const inner = filesCollector() as unknown as Collector;
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
const { db, raw, close } = await openDb(`${dataDir}/state.db`);
for (const run of ["first", "rescan"]) {
  const t = performance.now();
  const s = await runCollector({
    db,
    raw,
    collector,
    settings,
    host: liveHost(),
    log,
    signal: new AbortController().signal,
  });
  out[`${run}_ms`] = Math.round(performance.now() - t);
  out[`${run}_status`] = s.status;
  out[`${run}_counts`] = s.counts;
  out[`${run}_rss_kb`] = status("VmRSS");
  if (run === "first") out.warnings = s.warnings;
  else {out.rescan_changes = s.changes.slice(0, 5).map((c) =>
      `${c.ChangeCategory} ${c.FileSystemPath} ${c.FieldsChanged}`
    );}
}
out.collect_ms = collectMs.map(Math.round);
const only = raw.prepare("SELECT data FROM items WHERE collector = 'files' LIMIT 2").all() as {
  data: string;
}[];
if (only.length === 1) out.checksum = JSON.parse(only[0].data).FileContentChecksum;
out.peak_rss_kb = status("VmHWM");
await close();
console.log(JSON.stringify(out));
