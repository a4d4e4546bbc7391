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
import type { Collector } from "../../agent/collectors/types.ts";
import { insertRun } from "../../db/runs.ts";
import { insertChanges } from "../../db/changes.ts";
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

export interface WorldOptions {
  noAuth?: boolean;
  /** Files written into the watched tree before the first run (path under the tree → text). */
  files?: Record<string, string>;
  /** More fileInfo entries of the DCR (besides the watched tree). */
  fileInfo?: Record<string, unknown>[];
  /** More collectors than software and files (fakes: a failing one, one finding nothing). */
  collectors?: Collector[];
  /** The DCR switches of those (default off). */
  dcr?: Record<string, unknown>;
  /** A DCR rejected after the one in force (it stays in force). */
  rejectLater?: boolean;
  /** Leave the first scan out (collectors that have not run). */
  noScan?: boolean;
}

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
export async function startWorld(opts: WorldOptions = {}): Promise<World> {
  await ensureUiAssets();
  const dir = await Deno.makeTempDir({ prefix: "ctagent-ui-" });
  // The watched tree is one every user may read (a temporary directory is 0700): its contents are shown.
  if (Deno.build.os !== "windows") await Deno.chmod(dir, 0o755);
  const tree = join(dir, "tree");
  await Deno.mkdir(join(tree, "etc"), { recursive: true });
  await Deno.writeTextFile(join(tree, "etc", "app.conf"), "# app\nport = 8080\nmode = safe\nlog = info\n");
  await Deno.writeTextFile(join(tree, "etc", `${XSS}.conf`), "name = hostile file name\n");
  for (const [path, text] of Object.entries(opts.files ?? {})) {
    await Deno.mkdir(join(tree, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(tree, path), text);
  }
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
    fileSettings: {
      fileCollectionFrequency: 3600,
      fileInfo: [{ path: `${tree}/.*`, recurse: true }, ...opts.fileInfo ?? []],
    },
    ...opts.dcr,
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
  if (opts.rejectLater) {
    await acceptDcr(db, {
      source: "file",
      origin: join(dir, "dcr.json"),
      raw: JSON.stringify(bad),
      os: host.os,
    });
  }
  const collectors = [
    softwareCollector([...SOURCES, hostileSource]),
    filesCollector(),
    ...opts.collectors ?? [],
  ];
  const scheduler = createScheduler({
    collectors,
    os: host.os,
    settings: config.settings,
    log,
    run: (collector, settings, signal) =>
      runCollector({ db, raw: opened.raw, collector, settings, host, log, signal }),
  });
  if (!opts.noScan) await scheduler.scanNow();
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

/**
 * The page of a Windows machine's state (no agent): registry values and their changes stored as runs store
 * them, with a deep key path. For what only shows with the registry collector.
 */
export async function startRegistryWorld(): Promise<{ ui: RunningUi; close(): Promise<void> }> {
  await ensureUiAssets();
  const dir = await Deno.makeTempDir({ prefix: "ctagent-ui-reg-" });
  const opened = await openDb(join(dir, "state.db"));
  const key = "HKEY_LOCAL_MACHINE\\SOFTWARE\\" + "Vendor Name With Spaces\\Product\\".repeat(6) +
    "DeepestKey";
  const item = (data: string) => ({
    RegistryKey: key,
    ValueName: "TheValue",
    ValueType: "REG_SZ",
    ValueData: data,
  });
  const at = Date.now() - 60_000;
  await opened.db.transaction().execute(async (trx) => {
    const id = await insertRun(trx, {
      collector: "registry",
      started_at: at - 100,
      finished_at: at,
      status: "ok",
      counts: JSON.stringify({ items: 1, added: 0, removed: 0, modified: 1 }),
      error: null,
      warnings: "[]",
    });
    await insertChanges(trx, opened.raw, { id, collector: "registry", at }, [{
      key: `${key}\\\\TheValue`,
      category: "Modified",
      fields_changed: JSON.stringify(["ValueData"]),
      previous: JSON.stringify(item("old")),
      current: JSON.stringify(item("new")),
    }]);
  });
  const ui = await startUi({
    db: opened,
    host: { hostname: "WIN-TEST", osName: () => Promise.resolve("Windows Server 2022"), os: "windows" },
    status: () => ({ hostname: "WIN-TEST", os: "Windows Server 2022" }),
    listen: "127.0.0.1:0",
  });
  return {
    ui,
    async close() {
      await ui.stop();
      await opened.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
