// A real agent for the page's tests: state database filled by real runs (this machine's dpkg, a watched test
// tree), a file DCR plus a rejected one, the real scheduler, and the page served on a free loopback port.
import { createHash } from "node:crypto";
import { join } from "node:path";
import { openDb, type OpenedDb } from "../../db/open.ts";
import { liveHost } from "../../agent/host/mod.ts";
import { memoryLogger } from "../../agent/log.ts";
import type { Collector, Item } from "../../agent/collectors/types.ts";
import { softwareCollector, SOURCES } from "../../agent/collectors/software/mod.ts";
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
    Promise.resolve([
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
    ]),
};

/**
 * Stand-in for the files collector until it lands on main: hashes every file under `root` and captures
 * text content, through the same Collector contract and pipeline.
 */
export function treeCollector(root: string): Collector {
  return {
    name: "files",
    platforms: ["linux", "windows"],
    dataType: () => "Files",
    key: (i: Item) => String(i.FileSystemPath),
    schedule: (s) => ({ enabled: s.enableFiles, frequency: s.fileSettings.fileCollectionFrequency }),
    async collect() {
      const items: Item[] = [];
      const contents: { checksum: string; text: string; size: number }[] = [];
      const walk = async (dir: string) => {
        for await (const e of Deno.readDir(dir)) {
          const p = join(dir, e.name);
          if (e.isDirectory) await walk(p);
          else if (e.isFile) {
            const bytes = await Deno.readFile(p);
            const st = await Deno.stat(p);
            const checksum = createHash("sha256").update(bytes).digest("hex");
            items.push({
              FileSystemPath: p,
              FileContentChecksum: checksum,
              Size: bytes.length,
              DateModified: st.mtime?.toISOString() ?? null,
            });
            if (!bytes.includes(0)) {
              contents.push({ checksum, text: new TextDecoder().decode(bytes), size: bytes.length });
            }
          }
        }
      };
      await walk(root);
      return { items, contents };
    },
  };
}

/** The real files collector once it is part of the program; the stand-in above until then. */
async function filesOf(tree: string): Promise<Collector> {
  try {
    const m = await import("../../agent/collectors/files/mod.ts");
    return m.filesCollector() as unknown as Collector;
  } catch (e) {
    if (!/Module not found|Cannot find module/i.test(String(e))) throw e;
    return treeCollector(tree);
  }
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
    softwareCollector([...SOURCES, hostileSource]) as unknown as Collector,
    await filesOf(tree),
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
