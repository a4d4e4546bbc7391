// Registry benchmark: the offline hive reader on the real SYSTEM hive (30,756 keys), with hivexregedit as its peer.
// Run: deno run -A build/bench/registry.ts   (needs ../shared, xz, and hivexregedit from libwin-hivex-perl)
import { openHive } from "../../agent/host/registry/hive.ts";
import { exportHive } from "../../agent/host/registry/export.ts";
import { renderValue } from "../../agent/host/registry/values.ts";
import { servicesFromRegistry } from "../../agent/collectors/services/windows.ts";
import { offlineRegistry, systemMount } from "../../agent/host/registry/offline.ts";
import { sharedHive, skipReason } from "../../agent/host/registry/testdata/hives.ts";

function best(n: number, fn: () => void): number {
  let min = Infinity;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    fn();
    min = Math.min(min, performance.now() - t);
  }
  return Math.round(min * 10) / 10;
}

export async function benchRegistry(): Promise<Record<string, unknown>> {
  const skip = skipReason({ xz: true, hivex: true });
  if (skip) return { skipped: skip };
  const file = await sharedHive("SYSTEM_win7sp1_x86.xz");
  const bytes = await Deno.readFile(file);
  let keys = 0, values = 0;
  const walkMs = best(3, () => {
    const hive = openHive(bytes, file);
    keys = values = 0;
    const walk = (k: ReturnType<typeof hive.root>) => {
      keys++;
      for (const v of hive.values(k)) {
        values++;
        renderValue(v.type, v.data);
      }
      for (const c of hive.subkeys(k)) walk(c);
    };
    walk(hive.root());
  });
  const exportMs = best(3, () => void exportHive(openHive(bytes, file)));
  const servicesMs = best(3, () => void servicesFromRegistry(offlineRegistry([systemMount(bytes, file)])));
  const t = performance.now();
  const out = await new Deno.Command("hivexregedit", { args: ["--export", file, "\\"], stdout: "null" })
    .output();
  const hivexMs = Math.round(performance.now() - t);
  return {
    hive: `SYSTEM_win7sp1_x86 (${(bytes.length / 1048576).toFixed(1)} MiB, ${keys} keys, ${values} values)`,
    "walk + render every value (ms, best of 3)": walkMs,
    "values/s": Math.round(values / (walkMs / 1000)),
    "export as .reg (ms, best of 3)": exportMs,
    "peer: hivexregedit --export (ms)": out.success ? hivexMs : "failed",
    "Windows services from the hive (ms, best of 3)": servicesMs,
  };
}

if (import.meta.main) console.log(await benchRegistry());
