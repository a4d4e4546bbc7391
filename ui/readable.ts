// What makes a change list readable: timestamp-only changes told apart (to fold them away), a run's mass change
// shown as one row ("100 files modified under /etc/nginx/conf.d"), and a text file's change said by its lines
// ("+1 −1 lines: workers = 8 → 16"). All of it from the collectors' specs: nothing here names a collector.
import { sql } from "kysely";
import type { Db } from "../db/open.ts";
import { timestampOnly } from "../agent/collectors/spec.ts";
import type { CollectorSpec } from "../agent/collectors/types.ts";
import {
  type ChangeRow,
  type ChangesQuery,
  changesWhere,
  type FoldedRun,
  type QuietSets,
} from "./queries.ts";
import { diffLines, type LineSummary, lineSummary } from "./diff.ts";
import type { ContentGate } from "./privacy.ts";

/**
 * The timestamp-only field sets among those stored: the few distinct sets of fields changed (migration 008
 * counts them per hour) judged by each collector's spec.
 */
export async function quietSets(
  db: Db,
  specs: readonly Pick<CollectorSpec, "name" | "columns" | "fields" | "volatile">[],
): Promise<QuietSets> {
  const rows = await db.selectFrom("changes_fields_hourly").where("n", ">", 0)
    .select(["collector", "fields_changed"]).distinct().orderBy("collector").orderBy("fields_changed")
    .execute();
  const out: QuietSets = {};
  for (const r of rows) {
    const spec = specs.find((s) => s.name === r.collector);
    if (spec && timestampOnly(spec, JSON.parse(r.fields_changed))) {
      (out[r.collector] ??= []).push(r.fields_changed);
    }
  }
  return out;
}

/** A run's changes the list keeps are folded into one row from this many on. */
export const MASS = 10;
/** Most runs folded in one list (the newest ones of its range): the condition grows with each. */
const MAX_FOLDED = 200;

/** The folder both paths are under ("/etc/nginx/conf.d"), or null when they share none but the root. */
export function commonFolder(a: string, b: string): string | null {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  const cut = Math.max(a.lastIndexOf("/", n - 1), a.lastIndexOf("\\", n - 1));
  // Both keys whole up to a separator that follows: the shared part ends there.
  const whole = n === a.length && n === b.length;
  const end = whole ? Math.max(a.lastIndexOf("/"), a.lastIndexOf("\\")) : cut;
  if (end <= 0) return end === 0 ? a[0] : null;
  return a.slice(0, end).replace(/[\\/]+$/, "");
}

/**
 * The runs of the list's range whose changes (under its filters) are a mass change: at least MASS of them. The
 * runs table says which runs stored that many; each one's changes are counted through the index on (collector,
 * at), so the work follows the mass runs, never the whole range.
 */
export async function massRuns(
  db: Db,
  q: ChangesQuery,
  isPath: (collector: string) => boolean,
): Promise<FoldedRun[]> {
  if (q.run) return [];
  let runs = db.selectFrom("runs").select(["id", "collector", "finished_at"])
    .where(
      sql`coalesce(json_extract(counts, '$.added'), 0) + coalesce(json_extract(counts, '$.removed'), 0) +
        coalesce(json_extract(counts, '$.modified'), 0)`,
      ">=",
      MASS,
    );
  if (q.since !== undefined) runs = runs.where("finished_at", ">=", q.since);
  if (q.until !== undefined) runs = runs.where("finished_at", "<", q.until);
  if (q.collectors?.length) runs = runs.where("collector", "in", q.collectors);
  const candidates = await runs.orderBy("finished_at", "desc").orderBy("id", "desc").limit(MAX_FOLDED)
    .execute();
  const out: FoldedRun[] = [];
  for (const r of candidates) {
    const run = { id: r.id, collector: r.collector, at: r.finished_at };
    const s = (await sql<
      { n: number; rep: number; lo: string; hi: string; added: number; removed: number; modified: number }
    >`select count(*) as n, max(c.id) as rep, min(c.key) as lo, max(c.key) as hi,
      sum(c.category = 'Added') as added, sum(c.category = 'Removed') as removed,
      sum(c.category = 'Modified') as modified
      from changes c where ${changesWhere({ ...q, run, folded: undefined })}`.execute(db)).rows[0];
    if (s.n < MASS) continue;
    const categories: Record<string, number> = {};
    if (s.added) categories.Added = s.added;
    if (s.removed) categories.Removed = s.removed;
    if (s.modified) categories.Modified = s.modified;
    out.push({
      run: r.id,
      collector: r.collector,
      at: r.finished_at,
      rep: s.rep,
      n: s.n,
      categories,
      under: isPath(r.collector) ? commonFolder(s.lo, s.hi) : null,
    });
  }
  return out;
}

/** The largest side of a text change summarized by its lines (larger ones keep their field diff). */
const MAX_SIDE = 1 << 20;
/** The content read for summaries in one request, at most: a page of big files costs no more than this. */
const REQUEST_BYTES = 8 << 20;
/** Summaries kept (small objects), keyed by both versions' checksums. */
const CACHE = 4096;

export interface LineSummaries {
  /**
   * Sets `lines` on the Modified changes of `rows` whose content changed and whose two versions were captured
   * and may be shown: `+1 −1 lines: workers = 8 → 16`.
   */
  add(rows: ChangeRow[]): Promise<void>;
}

/** Line summaries of `holder`'s content changes (the collector that captures content), cached by version pair. */
export function lineSummaries(
  db: Db,
  holder: { name: string; checksumField: string } | undefined,
  gate: ContentGate,
): LineSummaries {
  const cache = new Map<string, LineSummary>();
  const sumOf = (v: Record<string, unknown> | null, field: string) => {
    const s = v?.[field];
    return typeof s === "string" && /^[0-9a-f]{64}$/i.test(s) ? s.toLowerCase() : undefined;
  };
  return {
    async add(rows) {
      if (!holder) return;
      const field = holder.checksumField;
      const wanted: { row: ChangeRow; a: string; b: string }[] = [];
      for (const row of rows) {
        if (row.collector !== holder.name || row.category !== "Modified") continue;
        if (!row.fields_changed.includes(field)) continue;
        const a = sumOf(row.previous, field), b = sumOf(row.current, field);
        if (!a || !b) continue;
        // What the page may not show in full it does not show a line of either.
        if (gate.withheld(row.key, [row.previous ?? {}, row.current ?? {}])) continue;
        wanted.push({ row, a, b });
      }
      const need = [...new Set(wanted.filter((w) => !cache.has(`${w.a}:${w.b}`)).flatMap((w) => [w.a, w.b]))];
      const texts = new Map<string, string>();
      if (need.length) {
        const sizes = await db.selectFrom("contents").where("checksum", "in", need).where(
          "size",
          "<=",
          MAX_SIDE,
        )
          .select(["checksum", "size"]).execute();
        let budget = REQUEST_BYTES;
        const take = sizes.filter((s) => (budget -= s.size) >= 0).map((s) => s.checksum);
        if (take.length) {
          for (
            const r of await db.selectFrom("contents").where("checksum", "in", take)
              .select(["checksum", "text"]).execute()
          ) texts.set(r.checksum, r.text);
        }
      }
      for (const w of wanted) {
        const k = `${w.a}:${w.b}`;
        let s = cache.get(k);
        if (!s) {
          const x = texts.get(w.a), y = texts.get(w.b);
          if (x === undefined || y === undefined) continue;
          s = lineSummary(diffLines(x, y, { context: 0 }));
          cache.set(k, s);
          if (cache.size > CACHE) cache.delete(cache.keys().next().value!);
        }
        w.row.lines = s;
      }
    },
  };
}
