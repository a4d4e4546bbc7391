// Helpers of the end-to-end tests: a machine tree with a dpkg status file, captured CLI output, a collector's
// page.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Io } from "../agent/cli.ts";
import type { Collector } from "../agent/collectors/types.ts";
import type { Settings } from "../agent/config/dcr.ts";
import type { Host } from "../agent/host/mod.ts";
import type { Logger } from "../agent/log.ts";
import { runCollector } from "../agent/pipeline/run.ts";
import { createScheduler } from "../agent/pipeline/scheduler.ts";
import type { OpenedDb } from "../db/open.ts";
import { startUi } from "../ui/server.ts";
import { ensureUiAssets } from "../build/bundle_ui.ts";

export function stanza(name: string, version: string): string {
  return `Package: ${name}\nStatus: install ok installed\nArchitecture: all\nMaintainer: Test <t@example.org>\n` +
    `Version: ${version}\nDescription: test package ${name}\n\n`;
}

export function tree() {
  const dir = Deno.makeTempDirSync({ prefix: "ctagent-e2e-" });
  const root = join(dir, "root");
  const data = join(dir, "data");
  mkdirSync(join(root, "var/lib/dpkg"), { recursive: true });
  const status = join(root, "var/lib/dpkg/status");
  return { dir, root, data, status, write: (text: string) => writeFileSync(status, text) };
}

export function capture(): Io & { outText(): string; errText(): string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: (t) => void out.push(t),
    outPieces: async (ps) => void out.push((await Array.fromAsync(ps)).join("")),
    err: (t) => void err.push(t),
    env: (k) => Deno.env.get(k),
    outText: () => out.join("\n"),
    errText: () => err.join("\n"),
  };
}

/**
 * The page (no sign-in) over `opened`, with a scheduler that runs `collector` on `host`, as a collector's
 * end-to-end test shows its items: `get` answers a path's text and fails on any status but 200.
 */
export async function collectorPage(opts: {
  opened: OpenedDb;
  collector: Collector;
  settings: Settings;
  host: Host;
  log: Logger;
}): Promise<{ get(path: string): Promise<string>; stop(): Promise<void> }> {
  const { opened, collector, settings, host, log } = opts;
  await ensureUiAssets();
  const scheduler = createScheduler({
    collectors: [collector],
    os: host.os,
    settings,
    log,
    run: (c, s, signal) => runCollector({ ...opened, collector: c, settings: s, host, log, signal }),
  });
  const ui = await startUi({
    db: opened,
    host,
    log,
    agent: { scheduler, config: () => ({ settings }) as never },
    listen: "127.0.0.1:0",
    noAuth: true,
  });
  return {
    async get(path) {
      const r = await ui.request(path, { headers: { host: `127.0.0.1:${ui.listen.port}` } });
      const text = await r.text();
      if (r.status !== 200) throw new Error(`${path}: ${r.status} ${text}`);
      return text;
    },
    async stop() {
      await ui.stop();
      await scheduler.stop();
    },
  };
}
