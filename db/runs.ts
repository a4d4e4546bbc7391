// The runs table's one owner: every collector run, failed ones too. Runs write it; status, the page and
// retention read and prune it here.
import type { Insertable, Selectable, Transaction } from "kysely";
import type { Db } from "./open.ts";
import type { Database, RunsTable } from "./schema.ts";

type Q = Db | Transaction<Database>;

/** A run as the page and `status` read it: counts and warnings parsed. */
export interface RunRow extends Omit<Selectable<RunsTable>, "counts" | "warnings"> {
  counts: Record<string, number>;
  warnings: string[];
}

function parseRun(r: Selectable<RunsTable>): RunRow {
  return { ...r, counts: JSON.parse(r.counts), warnings: JSON.parse(r.warnings) };
}

/** Writes a run (in the run's transaction, or alone for a failed one); returns its id. */
export async function insertRun(q: Q, run: Insertable<RunsTable>): Promise<number> {
  return (await q.insertInto("runs").values(run).returning("id").executeTakeFirstOrThrow()).id;
}

/** Sets a run's counts once its transaction knows them. */
export async function setRunCounts(trx: Q, id: number, counts: object): Promise<void> {
  await trx.updateTable("runs").set({ counts: JSON.stringify(counts) }).where("id", "=", id).execute();
}

/** Whether the collector ever stored a result (baseline or ok): its next run is then no baseline. */
export async function hasStoredRun(db: Db, collector: string): Promise<boolean> {
  return !!(await db.selectFrom("runs").select("id").where("collector", "=", collector)
    .where("status", "in", ["baseline", "ok"]).limit(1).executeTakeFirst());
}

/**
 * The latest `perCollector` runs of each collector, newest first; with `scheduled`, only its whole runs (not the
 * partial runs realtime makes).
 */
export async function recentRuns(
  db: Db,
  perCollector = 10,
  opts: { scheduled?: boolean } = {},
): Promise<Record<string, RunRow[]>> {
  const out: Record<string, RunRow[]> = {};
  const names = await db.selectFrom("runs").select("collector").distinct().execute();
  for (const { collector } of names) {
    let q = db.selectFrom("runs").where("collector", "=", collector);
    if (opts.scheduled) q = q.where("status", "!=", "realtime");
    const rows = (await q.selectAll().orderBy("id", "desc").limit(perCollector).execute()).map(parseRun);
    if (rows.length) out[collector] = rows;
  }
  return out;
}

/** The last run that failed, per collector (its time and error). */
export async function lastErrors(db: Db): Promise<Record<string, { at: number; error: string }>> {
  const rows = await db.selectFrom("runs").where("error", "is not", null)
    .where(
      "id",
      "in",
      (eb) =>
        eb.selectFrom("runs").where("error", "is not", null).select(eb.fn.max("id").as("m")).groupBy(
          "collector",
        ),
    )
    .select(["collector", "finished_at", "error"]).execute();
  return Object.fromEntries(rows.map((r) => [r.collector, { at: r.finished_at, error: r.error ?? "" }]));
}

/** Deletes runs that finished before `cutoff`, but each collector's latest (status and the baseline read it). */
export async function pruneRuns(trx: Transaction<Database>, cutoff: number): Promise<number> {
  const r = await trx.deleteFrom("runs").where("finished_at", "<", cutoff)
    .where(
      "id",
      "not in",
      trx.selectFrom("runs").select((eb) => eb.fn.max("id").as("id")).groupBy("collector"),
    )
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
