// The long-running agent: config in force (and kept current), the scheduler, history retention, the page.
import type { Collector } from "./collectors/types.ts";
import { type AmaFetch, type ConfigInForce, resolveConfig, watchConfig } from "./config/load.ts";
import type { Host } from "./host/mod.ts";
import type { Logger } from "./log.ts";
import type { OpenedDb } from "../db/open.ts";
import { runCollector } from "./pipeline/run.ts";
import { createScheduler, type Scheduler } from "./pipeline/scheduler.ts";
import { DEFAULT_RETENTION_DAYS, pruneHistory } from "./pipeline/retention.ts";

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
}

export interface Agent {
  scheduler: Scheduler;
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
  let config = initial;
  for (const w of config.warnings) log.warn(w);
  log.info("DCR in force", { id: config.id, source: config.source, origin: config.origin });

  const scheduler = createScheduler({
    collectors: opts.collectors,
    os: host.os,
    settings: config.settings,
    log,
    run: (collector, settings, signal) =>
      runCollector({
        db,
        raw: opened.raw,
        collector,
        settings,
        host,
        log,
        signal,
        outboxMax: opts.outboxMax,
      }),
  });

  const stopWatching = watchConfig({
    db,
    os: host.os,
    log,
    dcrFile: opts.dcrFile,
    fetchAma: opts.fetchAma,
    current: config,
    fileIntervalMs: opts.fileIntervalMs,
    onChange: (next) => {
      config = next;
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
    config: () => config,
    async stop() {
      clearInterval(pruneTimer);
      stopWatching();
      await scheduler.stop();
    },
  };
}
