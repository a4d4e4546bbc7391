// Benchmark of the services collector against `systemctl list-unit-files --type=service` (the same set).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import services from "../../agent/collectors/services/mod.ts";
import { builtInConfig } from "../../agent/config/load.ts";
import { liveHost } from "../../agent/host/mod.ts";
import { createLogger } from "../../agent/log.ts";

const ms = (t: number) => Math.round((performance.now() - t) * 10) / 10;
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function benchServices(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  if (!existsSync("/lib/systemd/system") && !existsSync("/usr/lib/systemd/system")) {
    return { skipped: "no systemd unit directories on this machine" };
  }
  const settings = builtInConfig("linux").settings;
  const ctx = {
    host: liveHost(),
    signal: new AbortController().signal,
    log: createLogger({ level: "error" }),
  };
  const collector = services;
  const ours: number[] = [], peer: number[] = [];
  let items = 0;
  for (let i = 0; i < 5; i++) {
    let t = performance.now();
    items = (await collector.collect(settings, ctx)).items.length;
    ours.push(ms(t));
    t = performance.now();
    execFileSync("systemctl", ["list-unit-files", "--type=service", "--no-legend", "--no-pager"]);
    peer.push(ms(t));
  }
  out.services_items = items;
  out.services_collect_ms = median(ours);
  out["systemctl_list-unit-files_ms"] = median(peer);
  out.services_vs_systemctl = `${(median(peer) / median(ours)).toFixed(2)}x faster`;
  return out;
}

if (import.meta.main) console.log(await benchServices());
