// What the last runs did, the DCR in force, the outbox and the history chain, read from the database (for `status` and the page).
import { type ChainState, chainState, chainSummary } from "../db/chain.ts";
import type { Db } from "../db/open.ts";
import { getState } from "../db/state.ts";

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
  outbox: {
    depth: number;
    byStream: Record<string, number>;
    oldestAt: number | null;
    dropped: number;
    droppedAt: number | null;
    /** Records delivered to AMA / the forward receiver, ever, and when last. */
    delivered: number;
    deliveredAt: number | null;
  };
  items: Record<string, number>;
  rejectedDcrs: number;
  /** The history's hash chain: its head and the last verification (`ctagent verify`, or the daemon's). */
  chain: ChainState;
}

export async function readStatus(db: Db): Promise<StatusReport> {
  const inForce = await getState(db, "config.in_force");
  const latest = await db.selectFrom("runs").selectAll()
    .where("id", "in", db.selectFrom("runs").select((eb) => eb.fn.max("id").as("id")).groupBy("collector"))
    .orderBy("collector").execute();
  const runs: LastRun[] = [];
  for (const r of latest) {
    const run: LastRun = {
      collector: r.collector,
      status: r.status,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      counts: JSON.parse(r.counts),
      warnings: JSON.parse(r.warnings),
      error: r.error,
    };
    if (!r.error) {
      const failed = await db.selectFrom("runs").select(["finished_at", "error"]).where(
        "collector",
        "=",
        r.collector,
      )
        .where("error", "is not", null).orderBy("id", "desc").limit(1).executeTakeFirst();
      if (failed) run.lastError = { at: failed.finished_at, error: failed.error! };
    }
    runs.push(run);
  }
  const byStream: Record<string, number> = {};
  let depth = 0;
  for (
    const r of await db.selectFrom("outbox").select(["stream", (eb) => eb.fn.countAll<number>().as("n")])
      .groupBy("stream").execute()
  ) {
    byStream[r.stream] = Number(r.n);
    depth += Number(r.n);
  }
  const oldest = await db.selectFrom("outbox").select("created_at").orderBy("id").limit(1).executeTakeFirst();
  const items: Record<string, number> = {};
  for (
    const r of await db.selectFrom("items").select(["collector", (eb) => eb.fn.countAll<number>().as("n")])
      .groupBy("collector").execute()
  ) {
    items[r.collector] = Number(r.n);
  }
  const rejected = await db.selectFrom("config").select((eb) => eb.fn.countAll<number>().as("n")).where(
    "valid",
    "=",
    0,
  )
    .executeTakeFirstOrThrow();
  const droppedAt = await getState(db, "outbox.dropped_at");
  const deliveredAt = await getState(db, "outbox.delivered_at");
  return {
    config: inForce ? JSON.parse(inForce) : null,
    runs,
    outbox: {
      depth,
      byStream,
      oldestAt: oldest?.created_at ?? null,
      dropped: Number(await getState(db, "outbox.dropped") ?? 0),
      droppedAt: droppedAt ? Number(droppedAt) : null,
      delivered: Number(await getState(db, "outbox.delivered") ?? 0),
      deliveredAt: deliveredAt ? Number(deliveredAt) : null,
    },
    items,
    rejectedDcrs: Number(rejected.n),
    chain: await chainState(db),
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
  return lines.join("\n");
}
