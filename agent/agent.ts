// The long-running agent: config in force (and kept current), the scheduler, history retention, the page.
import type { Collector, CollectorSettings } from "./collectors/types.ts";
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
import { type OpenedDb, releaseCache } from "../db/open.ts";
import { recordRun, runCollector, type RunSummary } from "./pipeline/run.ts";
import { storageProblem } from "../db/errors.ts";
import { createScheduler, type Scheduler } from "./pipeline/scheduler.ts";
import { DEFAULT_RETENTION_DAYS, pruneHistory } from "./pipeline/retention.ts";
import { recordVerification, verifySnapshot } from "../db/chain.ts";
import { type AmaOptions, type Delivery, recordFields, startDelivery } from "./ama/mod.ts";
import { writeMirrors } from "./pipeline/mirrors.ts";
import {
  type Realtime,
  realtimeOff,
  type RealtimeOptions,
  type RealtimeStatus,
  startRealtime,
} from "./pipeline/realtime.ts";
import { setState } from "../db/state.ts";
import { dirname } from "node:path";
import { heapCollector } from "./heap.ts";
import type { ChangeSpill } from "../db/change_spill.ts";

export interface AgentOptions {
  opened: OpenedDb;
  host: Host;
  log: Logger;
  collectors: readonly Collector[];
  /** ctagent's own settings of the collectors the DCR does not schedule (`--config`). */
  collectorSettings?: CollectorSettings;
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
  /** How often the history's hash chain is verified (default a day; also once at start). */
  verifyIntervalMs?: number;
  /**
   * Realtime re-collection of what the collectors follow (absent: only the scheduled runs; the daemon turns it
   * on unless --no-realtime).
   */
  realtime?: Pick<RealtimeOptions, "prefer" | "quietMs" | "maxWaitMs" | "stateMs">;
  /** For tests: the shortest time between two mirror writes after realtime runs (default a minute). */
  mirrorAfterRealtimeMs?: number;
}

export interface Agent {
  scheduler: Scheduler;
  delivery?: Delivery;
  config(): ConfigInForce;
  /** Failed runs whose runs row could not be written yet (full or read-only database), oldest first. */
  unrecorded(): RunSummary[];
  /**
   * Runs every enabled collector now (after any run in flight) and returns their summaries, each with its first
   * `keepChanges` change records by key (default all); with `spill`, every record also goes there, each
   * summary's spillRun naming its run.
   */
  runNow(keepChanges?: number, spill?: ChangeSpill): Promise<RunSummary[]>;
  /** What realtime follows and how it went (off when the agent was started without it). */
  realtime(): RealtimeStatus;
  stop(): Promise<void>;
}

/** Failed runs kept in memory while they cannot be stored (4 collectors failing every 5 min: 2 hours). */
const MAX_UNRECORDED = 100;

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
    })
    : undefined;

  /**
   * Rewrites the JSON mirrors (SPEC §7.12) of `collector` after its run, unless its items did not move or the run
   * wrote them itself (a baseline, RunOptions.mirrorDir).
   */
  const mirror = async (collector: string, itemsWritten: number, dir: string, mirrored = false) => {
    try {
      await writeMirrors({
        db,
        dir,
        os: host.os,
        only: [collector],
        // Unchanged, or put in place by the run itself: written only if missing.
        unchanged: itemsWritten === 0 || mirrored ? [collector] : [],
      });
    } catch (e) {
      log.error("cannot write the JSON mirrors", { dir, error: e });
    }
  };

  // A run that failed because nothing could be written is kept here, shown on the page, and stored before
  // the next run (the first moment the database may take it again).
  const unrecorded: RunSummary[] = [];
  const recordPending = async () => {
    while (unrecorded.length) {
      try {
        await recordRun(db, unrecorded[0]);
      } catch (e) {
        if (storageProblem(e)) return;
        throw e;
      }
      unrecorded.shift();
    }
  };

  // After realtime runs the mirrors are rewritten at most once a minute: a storm of changes to a big tree
  // must not rewrite a mirror of all its items each time.
  const mirrorLater = new Set<string>();
  const mirrorTimer = opts.realtime && setInterval(() => {
    const dir = opts.mirrorDir;
    if (!dir) return;
    for (const name of mirrorLater) void mirror(name, 1, dir);
    mirrorLater.clear();
  }, opts.mirrorAfterRealtimeMs ?? 60_000);

  /** The change records each runNow waiting wants kept (the runs keep as many as the most of them). */
  const wantChanges: number[] = [];
  /** The spills runNow callers wait with: every run meanwhile puts its change records in each. */
  const wantSpills: ChangeSpill[] = [];
  let runs = 0;
  // A big run's garbage goes back when it ends, not when V8's raised limit is reached (heap.ts), and with the
  // trim the pages the database connection keeps cached.
  const heap = heapCollector({ beforeTrim: () => releaseCache(opened.raw) });
  let realtime: Realtime | undefined;
  const scheduler = createScheduler({
    paused: opts.paused,
    collectors: opts.collectors,
    os: host.os,
    settings: config.settings,
    collectorSettings: opts.collectorSettings,
    log,
    run: async (collector, settings, signal, partial) => {
      await recordPending();
      // What a scheduled run finds is checked against what realtime saw meanwhile ("missed by realtime").
      const changed: { key: string }[] | undefined = realtime && !partial ? [] : undefined;
      if (changed) realtime!.wholeRunStarting(collector.name);
      const spills = [...wantSpills];
      const spillRun = spills.length ? `${collector.name}.${++runs}` : undefined;
      const ended = heap.running();
      const summary = await runCollector({
        db,
        raw: opened.raw,
        collector,
        settings,
        host,
        log,
        signal,
        outboxMax: opts.outboxMax,
        // The daemon needs only the counts, unless someone waits for this run's changes (runNow).
        keepChanges: Math.max(0, ...wantChanges),
        spill: spillRun
          ? {
            add: (key, record) => spills.forEach((s) => s.add(spillRun, key, record)),
            commit: () => spills.forEach((s) => s.flush()),
          }
          : undefined,
        fields: opts.ama ? recordFields(opts.ama) : "la",
        scope: partial?.scope,
        origin: partial?.origin,
        onChange: changed && ((c) => void changed.push({ key: c.key })),
        mirrorDir: opts.mirrorDir,
      }).finally(ended);
      if (spillRun) summary.spillRun = spillRun;
      if (changed) {
        const failed = summary.status === "failed" || summary.status === "aborted";
        realtime!.wholeRunDone(collector.name, failed ? null : changed);
      }
      if (!summary.runId && (summary.status === "failed" || summary.status === "aborted")) {
        unrecorded.push(summary);
        if (unrecorded.length > MAX_UNRECORDED) unrecorded.shift();
      }
      delivery?.notify();
      if (opts.mirrorDir && partial) {
        if (summary.itemsWritten) mirrorLater.add(collector.name);
      } else if (opts.mirrorDir) {
        mirrorLater.delete(collector.name);
        await mirror(collector.name, summary.itemsWritten, opts.mirrorDir, summary.mirrored);
      }
      heap.afterRun();
      return summary;
    },
  });
  if (opts.realtime) {
    realtime = startRealtime({
      ...opts.realtime,
      collectors: opts.collectors,
      host,
      log,
      scheduler,
      settings: config.settings,
      // The agent's own writes are never followed (they would feed back).
      ignore: opened.path === ":memory:" ? [] : [dirname(opened.path)],
      onState: (s) =>
        setState(db, "realtime", JSON.stringify(s)).catch((e) =>
          log.warn("cannot store the realtime status", { error: e })
        ),
    });
  } else {
    // `ctagent status` must not show what an earlier daemon watched.
    await setState(db, "realtime", JSON.stringify(realtimeOff())).catch((e) =>
      log.warn("cannot store the realtime status", { error: e })
    );
  }

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
      realtime?.apply(config.settings);
    },
  });

  const retentionDays = opts.retentionDays ?? DEFAULT_RETENTION_DAYS;
  const prune = () =>
    pruneHistory(opened, retentionDays).then(
      (p) => {
        if (p.chainBroken) {
          log.error("history not pruned: its hash chain is broken there (kept as evidence)", {
            at: p.chainBroken.message,
          });
        } else if (p.changes || p.acks || p.runs || p.contents) {
          log.info("history pruned", { ...p, days: retentionDays });
        }
      },
      (e) => log.error("history pruning failed", { error: e }),
    );
  const pruneTimer = setInterval(prune, 3_600_000);
  void prune();

  // The history's hash chain is verified at start and every day; status and the page show the last result.
  const stopVerifying = new AbortController();
  let verifying: Promise<void> | undefined;
  const verify = () => {
    verifying ??= (async () => {
      try {
        const report = await verifySnapshot(opened, stopVerifying.signal);
        await recordVerification(db, report);
        if (!report.ok) log.error("the history's hash chain is broken", { at: report.broken!.message });
      } catch (e) {
        if (!stopVerifying.signal.aborted) log.error("cannot verify the history's hash chain", { error: e });
      } finally {
        verifying = undefined;
      }
    })();
  };
  const verifyTimer = setInterval(verify, opts.verifyIntervalMs ?? 86_400_000);
  verify();

  return {
    scheduler,
    delivery,
    config: () => config,
    unrecorded: () => [...unrecorded],
    realtime: () => realtime?.status() ?? realtimeOff(),
    async runNow(keepChanges = Infinity, spill?: ChangeSpill) {
      wantChanges.push(keepChanges);
      if (spill) wantSpills.push(spill);
      try {
        return (await scheduler.scanNow()).filter((r): r is RunSummary => !!r);
      } finally {
        wantChanges.splice(wantChanges.indexOf(keepChanges), 1);
        if (spill) wantSpills.splice(wantSpills.indexOf(spill), 1);
      }
    },
    async stop() {
      clearInterval(pruneTimer);
      clearInterval(verifyTimer);
      stopVerifying.abort();
      // Runs are aborted first: a baseline holds the database connection until it ends (pipeline/run.ts), and
      // the verification waits for it to store its result.
      const stopping = scheduler.stop();
      await verifying;
      stopWatching();
      if (mirrorTimer) clearInterval(mirrorTimer);
      await realtime?.stop();
      await stopping;
      heap.stop();
      await recordPending().catch((e) =>
        log.error("cannot store the failed runs kept in memory", { error: e })
      );
      await delivery?.stop();
    },
  };
}
