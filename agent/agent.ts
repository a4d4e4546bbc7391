// The long-running agent: config in force (and kept current), the scheduler, history retention, the page.
import type { Collector } from "./collectors/types.ts";
import {
  type AmaFetch,
  type ConfigInForce,
  type LocalSettings,
  resolveConfig,
  watchConfig,
  withLocalSettings,
} from "./config/load.ts";
import type { Host } from "./host/mod.ts";
import type { Logger } from "./log.ts";
import type { OpenedDb } from "../db/open.ts";
import { runCollector } from "./pipeline/run.ts";
import { createScheduler, type Scheduler } from "./pipeline/scheduler.ts";
import { DEFAULT_RETENTION_DAYS, pruneHistory } from "./pipeline/retention.ts";
import { type AmaOptions, type Delivery, startDelivery } from "./ama/mod.ts";

export interface AgentOptions {
  opened: OpenedDb;
  host: Host;
  log: Logger;
  collectors: Collector[];
  dcrFile?: string;
  fetchAma?: AmaFetch;
  outboxMax?: number;
  retentionDays?: number;
  /** For tests: how often the DCR file is checked. */
  fileIntervalMs?: number;
  /** For tests: how often AMA is asked for the DCR (default 300 s). */
  amaIntervalMs?: number;
  /** Deliver the outbox to AMA or a forward receiver (absent: records only pile up in the outbox). */
  ama?: AmaOptions;
  /** Where the JSON mirrors (File.json, Packages.json, ...) are written after each run. */
  mirrorDir?: string;
  /** Schedule no collection until `agent.scheduler.start()` (the daemon serves its page first). */
  paused?: boolean;
  /** ctagent's own settings, added to every DCR in force. */
  local?: LocalSettings;
}

export interface Agent {
  scheduler: Scheduler;
  delivery?: Delivery;
  config(): ConfigInForce;
  stop(): Promise<void>;
}

export async function startAgent(opts: AgentOptions): Promise<Agent> {
  const { opened, host, log } = opts;
  const db = opened.db;
  const { config: initial } = await resolveConfig({
    db,
    os: host.os,
    log,
    dcrFile: opts.dcrFile,
    fetchAma: opts.fetchAma,
  });
  let config = withLocalSettings(initial, opts.local);
  for (const w of config.warnings) log.warn(w);
  log.info("DCR in force", { id: config.id, source: config.source, origin: config.origin });

  const delivery = opts.ama
    ? startDelivery({
      db,
      raw: opened.raw,
      log,
      config: () => config,
      ama: opts.ama,
      mirrorDir: opts.mirrorDir,
    })
    : undefined;

  const scheduler = createScheduler({
    paused: opts.paused,
    collectors: opts.collectors,
    os: host.os,
    settings: config.settings,
    log,
    run: async (collector, settings, signal) => {
      const summary = await runCollector({
        db,
        raw: opened.raw,
        collector,
        settings,
        host,
        log,
        signal,
        outboxMax: opts.outboxMax,
        keepChanges: false,
      });
      await delivery?.afterRun(collector.name, summary.itemsWritten);
      return summary;
    },
  });

  const stopWatching = watchConfig({
    db,
    os: host.os,
    log,
    dcrFile: opts.dcrFile,
    fetchAma: opts.fetchAma,
    current: config,
    fileIntervalMs: opts.fileIntervalMs,
    amaIntervalMs: opts.amaIntervalMs,
    onChange: (next) => {
      config = withLocalSettings(next, opts.local);
      scheduler.apply(next.settings);
    },
  });

  const retentionDays = opts.retentionDays ?? DEFAULT_RETENTION_DAYS;
  const prune = () =>
    pruneHistory(db, retentionDays).then(
      (p) => (p.changes || p.runs || p.contents) && log.info("history pruned", { ...p, days: retentionDays }),
      (e) => log.error("history pruning failed", { error: e }),
    );
  const pruneTimer = setInterval(prune, 3_600_000);
  void prune();

  return {
    scheduler,
    delivery,
    config: () => config,
    async stop() {
      clearInterval(pruneTimer);
      stopWatching();
      await scheduler.stop();
      await delivery?.stop();
    },
  };
}
