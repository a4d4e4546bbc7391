// What the last runs did, the DCR in force, the outbox and the history chain, read from the database (for `status` and the page).
import { type ChainState, chainState, chainSummary } from "../db/chain.ts";
import type { Db } from "../db/open.ts";
import { getState } from "../db/state.ts";
import { lastErrors, recentRuns, type RunRow } from "../db/runs.ts";
import { type OutboxStatus, outboxStatus } from "../db/outbox.ts";
import { itemCounts } from "../db/items.ts";
import { rejectedCount } from "./config/load.ts";
import type { RealtimeStatus } from "./pipeline/realtime.ts";

export interface LastRun {
  collector: string;
  status: string;
  startedAt: number;
  finishedAt: number;
  counts: Record<string, number>;
  warnings: string[];
  error: string | null;
  /** Last run that failed, when it is not the last run. */
  lastError?: { at: number; error: string };
}

export interface StatusReport {
  config: { source: string; origin: string; id: string; receivedAt: number } | null;
  runs: LastRun[];
  outbox: OutboxStatus;
  items: Record<string, number>;
  rejectedDcrs: number;
  /** The history's hash chain: its head and the last verification (`ctagent verify`, or the daemon's). */
  chain: ChainState;
  /** What realtime followed and how it went, as the daemon last told it; null before any daemon ran. */
  realtime: RealtimeStatus | null;
}

/**
 * The one status read model: the latest run and last error of each collector, the outbox, the items, the DCR
 * in force and the rejected ones, the history chain. `ctagent status` (readStatus) and the page's /api/status both read it.
 */
export interface StatusModel {
  /** The configuration in force, as the loader noted it. */
  config: StatusReport["config"];
  /** Each collector's latest run, by collector name. */
  runs: RunRow[];
  /** Each collector's last failed run. */
  lastErrors: Record<string, { at: number; error: string }>;
  outbox: OutboxStatus;
  items: Record<string, { items: number; errors: number }>;
  rejectedDcrs: number;
  chain: ChainState;
  realtime: RealtimeStatus | null;
}

export async function statusModel(db: Db): Promise<StatusModel> {
  const inForce = await getState(db, "config.in_force");
  // The latest scheduled run of each collector: a realtime run looks at a few items only.
  const latest = Object.values(await recentRuns(db, 1, { scheduled: true })).map((r) => r[0]);
  const realtime = await getState(db, "realtime");
  return {
    config: inForce ? JSON.parse(inForce) : null,
    runs: latest.sort((a, b) => a.collector < b.collector ? -1 : a.collector > b.collector ? 1 : 0),
    lastErrors: await lastErrors(db),
    outbox: await outboxStatus(db),
    items: await itemCounts(db),
    rejectedDcrs: await rejectedCount(db),
    chain: await chainState(db),
    realtime: realtime ? JSON.parse(realtime) : null,
  };
}

/** What `ctagent status` says (and prints as JSON). */
export async function readStatus(db: Db): Promise<StatusReport> {
  const m = await statusModel(db);
  return {
    config: m.config,
    runs: m.runs.map((r) => {
      const run: LastRun = {
        collector: r.collector,
        status: r.status,
        startedAt: r.started_at,
        finishedAt: r.finished_at,
        counts: r.counts,
        warnings: r.warnings,
        error: r.error,
      };
      const failed = m.lastErrors[r.collector];
      if (!r.error && failed) run.lastError = failed;
      return run;
    }),
    outbox: m.outbox,
    items: Object.fromEntries(Object.entries(m.items).map(([c, n]) => [c, n.items])),
    rejectedDcrs: m.rejectedDcrs,
    chain: m.chain,
    realtime: m.realtime,
  };
}

const ago = (ms: number) => {
  const s = Math.round((Date.now() - ms) / 1000);
  return s < 120
    ? `${s} s ago`
    : s < 7200
    ? `${Math.round(s / 60)} min ago`
    : `${Math.round(s / 3600)} h ago`;
};

export function statusText(s: StatusReport): string {
  const lines: string[] = [];
  lines.push(
    s.config
      ? `DCR in force: ${s.config.id} (${s.config.source}: ${s.config.origin})`
      : "DCR in force: none yet (the agent has not run)",
  );
  if (s.rejectedDcrs) lines.push(`Rejected DCRs seen: ${s.rejectedDcrs}`);
  lines.push("Collectors:");
  if (!s.runs.length) lines.push("  no runs yet");
  for (const r of s.runs) {
    const c = r.counts;
    lines.push(
      `  ${r.collector.padEnd(9)} ${r.status.padEnd(8)} ${ago(r.finishedAt)}, ${
        ((r.finishedAt - r.startedAt) / 1000).toFixed(2)
      } s, ` +
        (r.error
          ? `error: ${r.error}`
          : `${c.items ?? 0} items, +${c.added ?? 0} -${c.removed ?? 0} ~${c.modified ?? 0}`),
    );
    if (r.lastError) lines.push(`            last error ${ago(r.lastError.at)}: ${r.lastError.error}`);
  }
  lines.push(
    `Outbox: ${s.outbox.depth} record(s) waiting${
      s.outbox.oldestAt ? `, oldest ${ago(s.outbox.oldestAt)}` : ""
    }`,
  );
  for (const [stream, n] of Object.entries(s.outbox.byStream)) lines.push(`  ${stream}: ${n}`);
  lines.push(
    `  delivered: ${s.outbox.delivered} record(s)${
      s.outbox.deliveredAt ? `, last ${ago(s.outbox.deliveredAt)}` : ""
    }`,
  );
  if (s.outbox.dropped) {
    lines.push(
      `  DROPPED: ${s.outbox.dropped} record(s) lost to the outbox bound${
        s.outbox.droppedAt ? `, last ${ago(s.outbox.droppedAt)}` : ""
      }`,
    );
  }
  lines.push(`History chain: ${chainSummary(s.chain)}`);
  lines.push(...realtimeLines(s.realtime));
  return lines.join("\n");
}

/** The realtime part of `ctagent status`. */
export function realtimeLines(r: RealtimeStatus | null): string[] {
  if (!r) return ["Realtime: not started yet (the daemon has not run)"];
  if (!r.on) return ["Realtime: off (--no-realtime): changes are seen by the scheduled scans only"];
  const lines = [
    `Realtime: ${r.backend ?? "no file-system watcher"}${
      r.backend ? (r.attribution ? " (names the process and user)" : " (no process attribution)") : ""
    }, ${r.watches} watch(es), ${r.events} event(s), ${r.overflows} overflow(s); as of ${ago(r.at)}`,
  ];
  for (const t of r.tried) lines.push(`  not used: ${t}`);
  for (const c of r.collectors) {
    lines.push(
      `  ${c.name.padEnd(9)} ${
        (c.modes.join(" + ") || "off").padEnd(18)
      } ${c.runs} run(s), ${c.changes} change(s), ` +
        `missed by realtime: ${c.missed}, fallback scans: ${c.fallbacks}`,
    );
    if (c.lastFallback) {
      lines.push(`            last fallback ${ago(c.lastFallback.at)}: ${c.lastFallback.why}`);
    }
    for (const u of c.unwatched) lines.push(`            not watched: ${u.path}: ${u.why}`);
  }
  return lines;
}
