// A real agent for the page's tests: state database filled by real runs (this machine's dpkg, a watched test
// tree), a file DCR plus a rejected one, the real scheduler, and the page served on a free loopback port.
import { join } from "node:path";
import { openDb, type OpenedDb } from "../../db/open.ts";
import { liveHost } from "../../agent/host/mod.ts";
import { memoryLogger } from "../../agent/log.ts";
import { softwareCollector, SOURCES } from "../../agent/collectors/software/mod.ts";
import { filesCollector } from "../../agent/collectors/files/mod.ts";
import type { SoftwareItem, SoftwareSource } from "../../agent/collectors/software/types.ts";
import { acceptDcr, type ConfigInForce } from "../../agent/config/load.ts";
import { runCollector } from "../../agent/pipeline/run.ts";
import { createScheduler, type Scheduler } from "../../agent/pipeline/scheduler.ts";
import { type RunningUi, startUi } from "../server.ts";
import { ensureUiAssets } from "../../build/bundle_ui.ts";

export const XSS = "<img src=x onerror=alert(1)>";

/** A package manager that reports one package whose description is markup (alongside the real dpkg). */
const hostileSource: SoftwareSource = {
  manager: "test",
  platforms: ["linux", "windows"],
  present: () => Promise.resolve(true),
  read: () =>
    Promise.resolve({
      items: [
        {
          SoftwareName: "xss-probe",
          CurrentVersion: "1.0",
          Architecture: "all",
          Publisher: `Mallory ${XSS}`,
          SoftwareDescription: XSS,
          Size: 1,
          SoftwareType: "Package",
          Manager: "test",
          Status: "installed",
          InstalledAt: null,
        } satisfies SoftwareItem,
      ],
    }),
};

export interface World {
  dir: string;
  tree: string;
  opened: OpenedDb;
  scheduler: Scheduler;
  config: ConfigInForce;
  ui: RunningUi;
  log: ReturnType<typeof memoryLogger>;
  close(): Promise<void>;
}

/** Starts the world: the first runs of software and files have finished when it resolves. */
export async function startWorld(opts: { noAuth?: boolean } = {}): Promise<World> {
  await ensureUiAssets();
  const dir = await Deno.makeTempDir({ prefix: "ctagent-ui-" });
  // The watched tree is one every user may read (a temporary directory is 0700): its contents are shown.
  if (Deno.build.os !== "windows") await Deno.chmod(dir, 0o755);
  const tree = join(dir, "tree");
  await Deno.mkdir(join(tree, "etc"), { recursive: true });
  await Deno.writeTextFile(join(tree, "etc", "app.conf"), "# app\nport = 8080\nmode = safe\nlog = info\n");
  await Deno.writeTextFile(join(tree, "etc", `${XSS}.conf`), "name = hostile file name\n");
  const opened = await openDb(join(dir, "state.db"));
  const db = opened.db;
  const host = liveHost();
  const log = memoryLogger("info");
  const dcr = {
    enableSoftware: true,
    enableFiles: true,
    enableServices: false,
    enableRegistry: false,
    softwareSettings: { softwareCollectionFrequency: 3600 },
    fileSettings: { fileCollectionFrequency: 3600, fileInfo: [{ path: `${tree}/.*`, recurse: true }] },
  };
  const bad = { fileSettings: { fileCollectionFrequency: 5, fileInfo: [{ recurse: "yes" }] } };
  await acceptDcr(db, {
    source: "file",
    origin: join(dir, "bad.json"),
    raw: JSON.stringify(bad),
    os: host.os,
  });
  const { config } = await acceptDcr(db, {
    source: "file",
    origin: join(dir, "dcr.json"),
    raw: JSON.stringify(dcr, null, 2),
    os: host.os,
  });
  if (!config) throw new Error("test DCR rejected");
  const collectors = [
    softwareCollector([...SOURCES, hostileSource]),
    filesCollector(),
  ];
  const scheduler = createScheduler({
    collectors,
    os: host.os,
    settings: config.settings,
    log,
    run: (collector, settings, signal) =>
      runCollector({ db, raw: opened.raw, collector, settings, host, log, signal }),
  });
  await scheduler.scanNow();
  const ui = await startUi({
    db: opened,
    host,
    log,
    agent: { scheduler, config: () => config },
    listen: "127.0.0.1:0",
    noAuth: opts.noAuth,
  });
  return {
    dir,
    tree,
    opened,
    scheduler,
    config,
    ui,
    log,
    async close() {
      await ui.stop();
      await scheduler.stop();
      await opened.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
