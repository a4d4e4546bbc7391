// Two moments compared: per item, its state at T1 (before its first change in [T1, T2)) against its state at T2
// (after its last one), so what was added and removed again, or modified and put back, is no change at all.
import { type RawBuilder, sql } from "kysely";
import type { Db } from "../db/open.ts";
import type { CollectorSpec } from "../agent/collectors/types.ts";
import { CATEGORIES, type ChangeRow, changesWhere, MAX_LIMIT } from "./queries.ts";

export interface CompareQuery {
  from: number;
  to: number;
  collectors?: string[];
  /** Net categories kept. */
  categories?: string[];
  /** Only keys holding this text. */
  keyLike?: string;
  offset?: number;
  limit?: number;
}

/** An item's net change: a change row whose `previous` is its state at T1 and `current` its state at T2. */
export interface NetChange extends ChangeRow {
  /** How many changes it went through between the two moments. */
  changes: number;
  /** When the first of them was. */
  first_at: number;
}

export interface Comparison {
  from: number;
  to: number;
  /** Net changes per category (the filters but `categories` applied). */
  counts: Record<string, number>;
  /** Changes between the two moments (the same filters), however many items they moved. */
  events: number;
  total: number;
  offset: number;
  rows: NetChange[];
}

type Spec = Pick<CollectorSpec, "name" | "volatile" | "columns" | "fields">;

/** Fields whose change alone is no net change: volatile ones, and those the spec calls timestamps. */
function unstable(spec: Spec): string[] {
  const stamps = [
    ...spec.columns,
    ...Object.entries(spec.fields ?? {}).map(([field, f]) => ({ ...f, field })),
  ]
    .filter((f) => f.timestamp).map((f) => f.field);
  return [...spec.volatile, ...stamps];
}

/**
 * The item's data without its volatile and timestamp fields, as SQL: two states equal but for those (a file
 * put back, its inode and modification time new) are no net change.
 */
function stable(specs: readonly Spec[], json: RawBuilder<unknown>) {
  const cases = specs.filter((s) => unstable(s).length).map((s) =>
    sql`when ${s.name} then json_remove(${json}, ${sql.join(unstable(s).map((f) => `$.${f}`))})`
  );
  return cases.length
    ? sql`(case g.collector ${sql.join(cases, sql` `)} else json(${json}) end)`
    : sql`json(${json})`;
}

/**
 * The net change of every item changed in [from, to), keys in order per collector (a change of timestamp
 * fields alone is none; with others, the timestamps show among the fields changed). Works on the changes of
 * that range only (the index on their time finds them), one row per item changed.
 */
export async function compare(
  db: Db,
  specs: readonly Spec[],
  q: CompareQuery,
): Promise<Comparison> {
  const limit = Math.min(Math.max(q.limit ?? 100, 1), MAX_LIMIT);
  const offset = Math.max(q.offset ?? 0, 0);
  const where = changesWhere({ since: q.from, until: q.to, collectors: q.collectors, keyLike: q.keyLike });
  // Ids grow with time: an item's first change in the range has its smallest id, its last the largest.
  const net = sql`with g as (
      select c.collector, c.key, min(c.id) as f, max(c.id) as l, count(*) as n from changes c where ${where}
      group by c.collector, c.key
    ), net as (
      select g.collector, g.key, g.f, g.l, g.n, a.at as first_at, b.at as at, b.run_id,
        a.previous, b.current,
        case
          when a.category = 'Added' and b.category = 'Removed' then null
          when a.category = 'Added' then 'Added'
          when b.category = 'Removed' then 'Removed'
          when ${stable(specs, sql`a.previous`)} is ${stable(specs, sql`b.current`)} then null
          else 'Modified'
        end as category
      from g join changes a on a.id = g.f join changes b on b.id = g.l
    )`;
  const kept = q.categories?.length
    ? sql`category in (${sql.join(q.categories)})`
    : sql`category is not null`;
  const tally = await sql<{ category: string | null; items: number; n: number }>`${net}
    select category, count(*) as items, sum(n) as n from net group by category`.execute(db);
  const counts: Record<string, number> = {};
  let events = 0;
  for (const t of tally.rows) {
    events += Number(t.n);
    if (t.category) counts[t.category] = Number(t.items);
  }
  const total = CATEGORIES.filter((c) => !q.categories?.length || q.categories.includes(c))
    .reduce((n, c) => n + (counts[c] ?? 0), 0);
  const rows = (await sql<{
    collector: string;
    key: string;
    l: number;
    n: number;
    first_at: number;
    at: number;
    run_id: number;
    previous: string | null;
    current: string | null;
    category: "Added" | "Removed" | "Modified";
  }>`${net} select * from net where ${kept} order by collector, key limit ${limit} offset ${offset}`
    .execute(db)).rows;
  const volatile = new Map(specs.map((s) => [s.name, s.volatile]));
  return {
    from: q.from,
    to: q.to,
    counts,
    events,
    total,
    offset,
    rows: rows.map((r) => {
      const previous = r.category === "Added" || r.previous === null ? null : JSON.parse(r.previous);
      const current = r.category === "Removed" || r.current === null ? null : JSON.parse(r.current);
      return {
        id: r.l,
        run_id: r.run_id,
        at: r.at,
        first_at: r.first_at,
        collector: r.collector,
        key: r.key,
        category: r.category,
        fields_changed: previous && current
          ? differing(previous, current, volatile.get(r.collector) ?? [])
          : [],
        previous,
        current,
        // The net of several changes: no one process made it.
        origin: null,
        changes: Number(r.n),
      };
    }),
  };
}

/** The fields whose values differ between two states of an item (volatile ones aside). */
function differing(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
  volatile: readonly string[],
): string[] {
  const fields = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...fields].filter((f) => !volatile.includes(f) && JSON.stringify(a[f]) !== JSON.stringify(b[f]))
    .sort();
}
