// The page's read model: inventory search and sort, changes, histograms, item history, DCRs (the tables' own
// modules in db/ answer runs, outbox, contents and counts).
import { type Expression, type RawBuilder, type Selectable, sql, type SqlBool } from "kysely";
import type { Db } from "../db/open.ts";
import type { ChangesTable, ConfigTable, ItemsTable } from "../db/schema.ts";
import { itemCounts as countItems } from "../db/items.ts";
import { captured } from "../db/contents.ts";
import type { LineSummary } from "./diff.ts";

export type { RunRow } from "../db/runs.ts";

export const CATEGORIES = ["Added", "Removed", "Modified"] as const;
/**
 * Counting stops this many rows past the page asked for: beyond it the page says "1,100+" instead of visiting
 * a million rows (each counted row of a text search costs a row lookup).
 */
export const COUNT_CAP = 1_000;
export const MAX_LIMIT = 500;

/** A record field name as the collectors write it (Log Analytics column names and a few extras). */
const FIELD = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export function isField(name: string): boolean {
  return FIELD.test(name);
}

/** LIKE pattern matching `text` anywhere, with LIKE's own wildcards escaped (ESCAPE '\'). */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The columns of an item the page reads. */
type StoredItemRow = Pick<
  Selectable<ItemsTable>,
  "collector" | "key" | "data" | "error" | "first_seen" | "changed_at"
>;

/** An item as the page reads it: its data parsed. */
export interface ItemRow extends Omit<StoredItemRow, "data" | "changed_at"> {
  data: Record<string, unknown>;
  /** When its diffed fields last changed; null when they never did since it was first seen. */
  changed_at: number | null;
}

export interface Page<T> {
  total: number;
  /** True when `total` is a lower bound (counting stopped COUNT_CAP rows past the page). */
  capped: boolean;
  offset: number;
  rows: T[];
}

export interface InventoryQuery {
  collector: string;
  q?: string;
  /** A field name of the items, or "key" | "first_seen" | "changed_at". */
  sort?: string;
  dir?: "asc" | "desc";
  offset?: number;
  limit?: number;
  /** Only items whose last read failed. */
  errors?: boolean;
  /** field → exact value. */
  where?: Record<string, string>;
  /** Only items whose key this says yes to (a path glob or regex of the search box: ui/search.ts). */
  keys?: (key: string) => boolean;
}

function parseRow(r: StoredItemRow): ItemRow {
  return { ...r, data: JSON.parse(r.data) };
}

/**
 * Text match over the values of a JSON object column: a cheap LIKE on the whole text first (it also matches
 * field names), then the exact check over values only, so "Version" does not match every row.
 */
function jsonValuesMatch(column: string, pattern: string): Expression<SqlBool> {
  const col = sql.ref(column);
  return sql<
    SqlBool
  >`(${col} like ${pattern} escape '\\' and exists (select 1 from json_each(${col}) j where j.value like ${pattern} escape '\\'))`;
}

export async function inventory(db: Db, q: InventoryQuery): Promise<Page<ItemRow>> {
  const limit = Math.min(Math.max(q.limit ?? 100, 1), MAX_LIMIT);
  const offset = Math.max(q.offset ?? 0, 0);
  let base = db.selectFrom("items").where("collector", "=", q.collector);
  const text = q.q?.trim();
  if (text) {
    const pattern = containsPattern(text);
    base = base.where((eb) => eb.or([eb("key", "like", pattern), jsonValuesMatch("data", pattern)]));
  }
  if (q.errors) base = base.where("error", "is not", null);
  for (const [field, value] of Object.entries(q.where ?? {})) {
    if (!isField(field)) throw new RangeError(`Cannot filter on field ${JSON.stringify(field)}`);
    base = base.where(sql`json_extract(data, ${"$." + field})`, "=", value);
  }
  const { total } = await base.select(sql<number>`count(*)`.as("total")).executeTakeFirstOrThrow();
  const dir = q.dir === "desc" ? sql`desc` : sql`asc`;
  const sort = q.sort ?? "key";
  let order;
  if (sort === "key" || sort === "first_seen" || sort === "changed_at") order = sql`${sql.ref(sort)} ${dir}`;
  else if (isField(sort)) {
    // Case-insensitive for text, numeric order for numbers; the key breaks ties so paging is stable.
    order = sql`json_extract(data, ${"$." + sort}) collate nocase ${dir}, key ${dir}`;
  } else throw new RangeError(`Cannot sort on ${JSON.stringify(sort)}`);
  const rows = await base.select(["collector", "key", "data", "error", "first_seen", "changed_at"])
    .orderBy(order).limit(limit).offset(offset).execute();
  return { total, capped: false, offset, rows: rows.map(parseRow) };
}

/** A change as stored (the columns the page reads: not its chain link). */
type RawChange = Pick<Selectable<ChangesTable>, typeof CHANGE_COLUMNS[number]>;

/** A change as the page reads it: its fields and items parsed. */
export interface ChangeRow extends Omit<RawChange, "fields_changed" | "previous" | "current" | "origin"> {
  fields_changed: string[];
  previous: Record<string, unknown> | null;
  current: Record<string, unknown> | null;
  /** Who made it (realtime's record fields: ProcessId, ProcessCommandLine, UserName …); null when unknown. */
  origin: Record<string, string> | null;
  /** Its acknowledgement (the latest, its own or its run's), when it was reviewed. */
  ack?: { at: number; reviewer: string; note: string; id: number; group?: string } | null;
  /** A timestamp-only change (shown only when asked for). */
  quiet?: true;
  /** The run's mass change this row stands for (its other changes are not listed). */
  group?: FoldedRun;
  /** A text file's content change by its lines, when both versions were captured and may be shown. */
  lines?: LineSummary;
}

export interface ChangesQuery {
  since?: number;
  until?: number;
  collectors?: string[];
  categories?: string[];
  /** Only changes acknowledged (true) or not yet (false). */
  reviewed?: boolean;
  /** Only changes whose key holds this text (exports; the list's `q` searches the trigram index). */
  keyLike?: string;
  /**
   * Only changes whose key this says yes to (a glob or regex typed in the change list's search box:
   * ui/search.ts); counted up to COUNT_CAP past the page, as a text search is.
   */
  keys?: (key: string) => boolean;
  /**
   * Timestamp-only changes (their stored field sets, per collector: readable.ts): left out, or (`only`) the only
   * ones kept.
   */
  quiet?: { sets: QuietSets; only?: boolean };
  /** Only the changes of this run (its collector and time: the index finds them). */
  run?: { id: number; collector: string; at: number };
  /** Mass changes shown as one row each: every change of these runs but `rep` is left out (readable.ts). */
  folded?: readonly FoldedRun[];
  q?: string;
  offset?: number;
  limit?: number;
}

/**
 * Whether the change `c` was acknowledged: on its own, or with its whole run (group `run:<id>`); two index
 * lookups (acks by change, acks by group).
 */
const REVIEWED = sql`(exists (select 1 from acks a where a.change_id = c.id)
  or exists (select 1 from acks a where a.group_key = 'run:' || c.run_id))`;

/** The latest acknowledgement of the change `c` (its own or its run's), as JSON, or null. */
const ACK_OF = sql`coalesce(
  (select json_object('at', a.at, 'reviewer', a.reviewer, 'note', a.note, 'id', a.id) from acks a
    where a.change_id = c.id order by a.id desc limit 1),
  (select json_object('at', a.at, 'reviewer', a.reviewer, 'note', a.note, 'id', a.id, 'group', a.group_key)
    from acks a where a.group_key = 'run:' || c.run_id order by a.id desc limit 1))`;

/** Per collector, the stored `fields_changed` texts of its timestamp-only changes (ui/readable.ts). */
export type QuietSets = Record<string, string[]>;

/** The SQL condition "the change `c` is timestamp-only", or null when no stored change can be. */
export function quietCondition(sets: QuietSets) {
  const parts = Object.entries(sets).filter(([, f]) => f.length)
    .map(([c, f]) => sql`(c.collector = ${c} and c.fields_changed in (${sql.join(f)}))`);
  return parts.length ? sql`(c.category = 'Modified' and (${sql.join(parts, sql` or `)}))` : null;
}

/** A run whose many changes a list shows as one row: its newest change (`rep`) stands for them all. */
export interface FoldedRun {
  run: number;
  collector: string;
  at: number;
  /** The change shown. */
  rep: number;
  /** How many of the run's changes the list's filters keep. */
  n: number;
  /** Of those, how many per category. */
  categories: Record<string, number>;
  /** The folder they all are under (collectors whose items are paths), or null. */
  under: string | null;
}

/** The SQL condition "the change `c` is not one a folded run hides" (all of its changes but the one shown). */
export function foldedCondition(folded: readonly FoldedRun[]) {
  const runs = sql.join(folded.map((f) => f.run));
  const hidden = folded.map((f) => sql`(c.run_id = ${f.run} and c.at = ${f.at} and c.id <> ${f.rep})`);
  return sql`not (c.run_id in (${runs}) and (${sql.join(hidden, sql` or `)}))`;
}

/** The WHERE clause of a change query (without the text search), over the table aliased `c`. */
export function changesWhere(q: ChangesQuery) {
  const parts = [sql`1 = 1`];
  if (q.since !== undefined) parts.push(sql`c.at >= ${q.since}`);
  if (q.until !== undefined) parts.push(sql`c.at < ${q.until}`);
  if (q.collectors?.length) parts.push(sql`c.collector in (${sql.join(q.collectors)})`);
  if (q.categories?.length) parts.push(sql`c.category in (${sql.join(q.categories)})`);
  if (q.reviewed !== undefined) parts.push(q.reviewed ? sql`${REVIEWED}` : sql`not ${REVIEWED}`);
  if (q.keyLike) parts.push(sql`c.key like ${containsPattern(q.keyLike)} escape '\\'`);
  if (q.quiet) {
    const quiet = quietCondition(q.quiet.sets);
    if (q.quiet.only) parts.push(quiet ?? sql`0`);
    else if (quiet) parts.push(sql`not ${quiet}`);
  }
  if (q.run) {
    parts.push(sql`c.collector = ${q.run.collector} and c.at = ${q.run.at} and c.run_id = ${q.run.id}`);
  }
  if (q.folded?.length) parts.push(foldedCondition(q.folded));
  return sql.join(parts, sql` and `);
}

function parseChange(r: RawChange & { ack?: string | null }): ChangeRow {
  return {
    ...r,
    ack: r.ack ? JSON.parse(r.ack) : null,
    fields_changed: JSON.parse(r.fields_changed),
    previous: r.previous === null ? null : JSON.parse(r.previous),
    current: r.current === null ? null : JSON.parse(r.current),
    origin: r.origin === null || r.origin === undefined ? null : JSON.parse(r.origin),
  };
}

const CHANGE_COLUMNS = [
  "id",
  "run_id",
  "at",
  "collector",
  "key",
  "category",
  "fields_changed",
  "previous",
  "current",
  "origin",
] as const;

/**
 * How many changes match `q` (its text search aside), exactly: whole hours from the hourly counts, the parts of
 * hours at either end from the changes themselves (a million changes count in a few milliseconds).
 */
export async function countChanges(db: Db, q: ChangesQuery): Promise<number> {
  const since = q.since ?? 0;
  const until = q.until ?? Number.MAX_SAFE_INTEGER;
  if (until <= since) return 0;
  const from = Math.ceil(since / HOUR), to = Math.floor(until / HOUR);
  const exact = async (a: number, b: number) =>
    a >= b
      ? 0
      : (await sql<{ n: number }>`select count(*) as n from changes c where ${
        changesWhere({ ...q, since: a, until: b })
      }`.execute(db)).rows[0].n;
  // One run's changes are one time: the index counts them. Folded runs are the caller's to subtract. The hourly
  // tables know nothing of acknowledgements: a reviewed filter counts the changes themselves.
  if (q.run || q.reviewed !== undefined) return await exact(since, until);
  if (from >= to) return await exact(since, until);
  const quiet = await quietHours(db, q, from, to);
  let whole = 0;
  if (!q.quiet?.only) {
    let hours = db.selectFrom("changes_hourly").where("hour", ">=", from).where("hour", "<", to);
    if (q.collectors?.length) hours = hours.where("collector", "in", q.collectors);
    if (q.categories?.length) hours = hours.where("category", "in", q.categories);
    whole = Number((await hours.select(sql<number | null>`sum(n)`.as("n")).executeTakeFirstOrThrow()).n ?? 0);
  }
  const edges = (await exact(since, from * HOUR)) +
    (q.until === undefined ? 0 : await exact(to * HOUR, until));
  return (q.quiet?.only ? quiet : whole - quiet) + edges;
}

/** Timestamp-only changes of whole hours `from` to `to` (hour numbers) that `q` keeps (0 without `q.quiet`). */
async function quietHours(db: Db, q: ChangesQuery, from: number, to: number): Promise<number> {
  if (!q.quiet || (q.categories?.length && !q.categories.includes("Modified"))) return 0;
  const sets = Object.entries(q.quiet.sets).filter(([c, f]) =>
    f.length && (!q.collectors?.length || q.collectors.includes(c))
  );
  if (!sets.length) return 0;
  const r = await db.selectFrom("changes_fields_hourly").where("hour", ">=", from).where("hour", "<", to)
    .where((eb) =>
      eb.or(sets.map(([c, f]) => eb.and([eb("collector", "=", c), eb("fields_changed", "in", f)])))
    )
    .select(sql<number | null>`sum(n)`.as("n")).executeTakeFirstOrThrow();
  return Number(r.n ?? 0);
}

/**
 * Newest first. Without a text search the total is exact (countChanges); with one it is counted up to
 * COUNT_CAP rows past the page only (see changesFrom for how a text search walks).
 */
export async function changes(db: Db, q: ChangesQuery): Promise<Page<ChangeRow>> {
  const limit = Math.min(Math.max(q.limit ?? 100, 1), MAX_LIMIT);
  const offset = Math.max(q.offset ?? 0, 0);
  const text = q.q?.trim() ?? "";
  const cols = sql`${sql.raw(CHANGE_COLUMNS.map((c) => `c.${c}`).join(", "))}, ${ACK_OF} as ack`;
  if (q.keys) {
    const match = await keyCondition(db, q, q.keys);
    if (!match) return { total: 0, capped: false, offset, rows: [] };
    const rows = (await sql<RawChange>`select ${cols} from changes c where ${changesWhere(q)} and ${match}
      order by c.at desc, c.id desc limit ${limit} offset ${offset}`.execute(db)).rows;
    const { n, capped } = offset === 0 && rows.length < limit
      ? { n: rows.length, capped: false }
      : await countCapped(db, q, "", offset + COUNT_CAP, match);
    return { total: n, capped, offset, rows: rows.map(parseChange) };
  }
  const { from, order } = changesFrom(q, text);
  const rows =
    (await sql<RawChange>`select ${cols} from ${from} order by ${order} limit ${limit} offset ${offset}`
      .execute(db)).rows;
  let total: number;
  let capped = false;
  if (offset === 0 && rows.length < limit) total = rows.length;
  else if (!text && q.reviewed === undefined) {
    // Each folded run shows as one row: its others are not counted.
    const folded = (q.folded ?? []).reduce((n, f) => n + f.n - 1, 0);
    total = (await countChanges(db, { ...q, folded: undefined })) - folded;
  } else ({ n: total, capped } = await countCapped(db, q, text, offset + COUNT_CAP));
  return { total, capped, offset, rows: rows.map(parseChange) };
}

/**
 * Where a change list's rows come from, and their order: with a text of 3+ characters the trigram index of keys
 * newest id first (ids grow with time), so a broad term stops at the first page instead of sorting every
 * match; shorter texts scan keys with LIKE.
 */
function changesFrom(q: ChangesQuery, text: string, match?: RawBuilder<unknown>) {
  const where = match ? sql`${changesWhere(q)} and ${match}` : changesWhere(q);
  if (text.length >= 3) {
    const phrase = `"${text.replaceAll('"', '""')}"`;
    return {
      from:
        sql`changes_fts f join changes c on c.id = f.rowid where changes_fts match ${phrase} and ${where}`,
      order: sql`f.rowid desc`,
    };
  }
  const like = text ? sql` and c.key like ${containsPattern(text)} escape '\\'` : sql``;
  return { from: sql`changes c where ${where}${like}`, order: sql`c.at desc, c.id desc` };
}

/** How many changes match `q` and the text search `text`, counting up to `cap` (then `capped`). */
export async function countCapped(
  db: Db,
  q: ChangesQuery,
  text = "",
  cap = COUNT_CAP,
  match?: RawBuilder<unknown> | null,
): Promise<{ n: number; capped: boolean }> {
  if (q.keys) match ??= await keyCondition(db, q, q.keys);
  if (match === null) return { n: 0, capped: false };
  const { from } = changesFrom(q, text.trim(), match);
  const counted = await sql<{ n: number }>`select count(*) as n from (select 1 from ${from} limit ${cap + 1})`
    .execute(db);
  const n = counted.rows[0].n;
  return { n: Math.min(n, cap), capped: n > cap };
}

/**
 * The SQL condition "the change `c` is of a key `test` says yes to", or null when no key in `q`'s range does:
 * the range's distinct keys are read from the (collector, key, time) index and tested here (a pattern has no
 * index of its own), then the changes of the matching keys are found through that index.
 */
async function keyCondition(db: Db, q: ChangesQuery, test: (key: string) => boolean) {
  const range = changesWhere({ since: q.since, until: q.until, collectors: q.collectors });
  const keys =
    (await sql<{ collector: string; key: string }>`select distinct c.collector, c.key from changes c
    where ${range}`.execute(db)).rows;
  const hit = keys.filter((k) => test(k.key)).map((k) => [k.collector, k.key]);
  if (!hit.length) return null;
  return sql`(c.collector, c.key) in (select json_extract(value, '$[0]'), json_extract(value, '$[1]')
    from json_each(${JSON.stringify(hit)}))`;
}

/** Moves whenever an acknowledgement is written: keys caches of what the review filter answers. */
export async function ackVersion(db: Db): Promise<number> {
  return (await sql<{ n: number | null }>`select max(id) as n from acks`.execute(db)).rows[0].n ?? 0;
}

export interface Histogram {
  since: number;
  until: number;
  bucket: number;
  /** One entry per non-empty (bucket, collector, category). `t` is the bucket's start. */
  points: { t: number; collector: string; category: string; n: number }[];
}

const HOUR = 3600_000;

/**
 * An integer as an SQL literal: node:sqlite binds every JS number as a REAL, which turns `/` into float
 * division, so bucket arithmetic needs literals (safe: whole numbers only).
 */
function int(n: number) {
  const v = Math.floor(n);
  if (!Number.isSafeInteger(v)) throw new RangeError(`Cannot use ${n} as a time`);
  return sql.lit(v);
}

/**
 * Change counts per bucket. Buckets that are whole hours read the hourly table (migration 003); others count
 * the changes themselves (short ranges).
 */
export async function histogram(
  db: Db,
  q: {
    since: number;
    until: number;
    bucket: number;
    collectors?: string[];
    categories?: string[];
    quiet?: ChangesQuery["quiet"];
  },
): Promise<Histogram> {
  const bucket = Math.max(Math.floor(q.bucket), 1000);
  if (bucket % HOUR === 0) {
    const since = Math.floor(q.since / HOUR) * HOUR;
    let base = db.selectFrom("changes_hourly")
      .where("hour", ">=", since / HOUR).where("hour", "<", Math.ceil(q.until / HOUR));
    if (q.collectors?.length) base = base.where("collector", "in", q.collectors);
    if (q.categories?.length) base = base.where("category", "in", q.categories);
    const t = sql<number>`(hour * ${int(HOUR)} - ${int(since)}) / ${int(bucket)} * ${int(bucket)} + ${
      int(since)
    }`;
    const points = await base.select([t.as("t"), "collector", "category", sql<number>`sum(n)`.as("n")])
      .groupBy([sql`1`, "collector", "category"]).having(sql`sum(n)`, ">", 0).orderBy(sql`1`).execute();
    // Timestamp-only changes left out: their hourly counts come off the Modified ones.
    const sets = Object.entries(q.quiet?.sets ?? {}).filter(([c, f]) =>
      f.length && (!q.collectors?.length || q.collectors.includes(c))
    );
    if (!sets.length || (q.categories?.length && !q.categories.includes("Modified"))) {
      return { since, until: q.until, bucket, points };
    }
    const quiet = await db.selectFrom("changes_fields_hourly")
      .where("hour", ">=", since / HOUR).where("hour", "<", Math.ceil(q.until / HOUR))
      .where((eb) =>
        eb.or(sets.map(([c, f]) => eb.and([eb("collector", "=", c), eb("fields_changed", "in", f)])))
      )
      .select([t.as("t"), "collector", sql<number>`sum(n)`.as("n")]).groupBy([sql`1`, "collector"]).execute();
    const off = new Map(quiet.map((p) => [`${p.t}|${p.collector}`, Number(p.n)]));
    const kept = points.map((p) =>
      p.category === "Modified" ? { ...p, n: p.n - (off.get(`${p.t}|${p.collector}`) ?? 0) } : p
    ).filter((p) => p.n > 0);
    return { since, until: q.until, bucket, points: kept };
  }
  const where = changesWhere({ ...q, since: q.since, until: q.until });
  const points = (await sql<Histogram["points"][number]>`select
    (c.at - ${int(q.since)}) / ${int(bucket)} * ${int(bucket)} + ${
    int(q.since)
  } as t, c.collector, c.category,
    count(*) as n
    from changes c where ${where} group by 1, 2, 3 order by 1`.execute(db)).rows;
  return { since: q.since, until: q.until, bucket, points };
}

/**
 * Moves whenever a run stores anything (its run row, change rows; items are written only by runs): keys caches of
 * counts.
 */
export async function dataVersion(db: Db): Promise<string> {
  const r = await sql<{ r: number | null; c: number | null }>`select
    (select max(id) from runs) as r, (select max(id) from changes) as c`.execute(db);
  const row = r.rows[0];
  return `${row.r}:${row.c}`;
}

/** Per collector: items now, items whose last read failed, items changed and changes (since a time). */
export type Counts = Record<
  string,
  { items: number; errors: number; changed: number; changes?: number; unreviewed?: number }
>;

/**
 * Per collector (`names`, and any other with items): how many items and how many failed reads (counting 100,000
 * items: cache by dataVersion).
 */
export async function itemCounts(db: Db, names: readonly string[]): Promise<Counts> {
  const out: Counts = {};
  for (const c of names) out[c] = { items: 0, errors: 0, changed: 0 };
  for (const [c, n] of Object.entries(await countItems(db))) out[c] = { ...n, changed: 0 };
  return out;
}

/**
 * Adds, per collector, how many of its items changed since `since` (each item once, however often it changed)
 * and how many changes that was: the same changes the change list counts for that range (timestamp-only ones
 * left out when `quiet` says which they are, as the list folds them).
 */
export async function withChanged(db: Db, base: Counts, since: number, quiet?: QuietSets): Promise<Counts> {
  const out: Counts = structuredClone(base);
  const changed = await sql<{ collector: string; items: number; changes: number }>`select c.collector,
    count(distinct c.key) as items, count(*) as changes from changes c
    where ${changesWhere({ since, quiet: quiet && { sets: quiet } })} group by c.collector`
    .execute(db);
  for (const r of changed.rows) {
    const c = out[r.collector] ??= { items: 0, errors: 0, changed: 0 };
    c.changed = r.items;
    c.changes = r.changes;
  }
  return out;
}

/**
 * Per collector, how many of its changes since `since` were acknowledged (on their own or with their run):
 * the work is in proportion to the acknowledgements, not to the changes. The run part starts from the run
 * acknowledgements (a range of the `acks_group` index) and reaches each run's changes through its time: joined
 * the other way round (`'run:' || r.id`), SQLite scanned every change (138 ms at 1M changes, no acks at all).
 */
export async function reviewedCounts(
  db: Db,
  since: number,
  quiet?: QuietSets,
): Promise<Record<string, number>> {
  const rows = await sql<{ collector: string; n: number }>`select c.collector, count(*) as n from changes c
    where ${changesWhere({ since, quiet: quiet && { sets: quiet } })} and c.id in (
      select change_id from acks where change_id is not null
      union
      select c2.id from acks a join runs r on r.id = cast(substr(a.group_key, 5) as integer)
        join changes c2 on c2.collector = r.collector and c2.at = r.finished_at and c2.run_id = r.id
        where a.group_key >= 'run:' and a.group_key < 'run;')
    group by c.collector`.execute(db);
  return Object.fromEntries(rows.rows.map((r) => [r.collector, Number(r.n)]));
}

export interface ItemHistory {
  item: ItemRow | null;
  history: ChangeRow[];
  /** Checksums among the history's file versions whose content was captured. */
  contents: string[];
  /**
   * When the item was first seen, through removals and re-additions (the items row of an item added again is
   * new): `exact` false when the history does not reach back that far (only "before `at`" is known).
   */
  firstSeen: { at: number; exact: boolean } | null;
}

/**
 * When an item was first seen: its first change if that was its addition; else (it was there before any
 * change) the collector's first stored run, the baseline; the items row alone when it never changed.
 */
async function firstSeenOf(
  db: Db,
  collector: string,
  key: string,
  item: ItemRow | null,
): Promise<ItemHistory["firstSeen"]> {
  const first = await db.selectFrom("changes").where("collector", "=", collector).where("key", "=", key)
    .select(["category", "at"]).orderBy("at").orderBy("id").limit(1).executeTakeFirst();
  if (!first) return item ? { at: item.first_seen, exact: true } : null;
  if (first.category === "Added") return { at: first.at, exact: true };
  const base = await db.selectFrom("runs").where("collector", "=", collector).where("status", "=", "baseline")
    .select("finished_at").orderBy("id").limit(1).executeTakeFirst();
  return base && base.finished_at <= first.at
    ? { at: base.finished_at, exact: true }
    : { at: first.at, exact: false };
}

/** Which of `keys` (items of `collector`) have any change recorded. */
export async function changedKeys(db: Db, collector: string, keys: readonly string[]): Promise<Set<string>> {
  if (!keys.length) return new Set();
  const rows = await db.selectFrom("changes").where("collector", "=", collector).where("key", "in", [...keys])
    .select("key").distinct().execute();
  return new Set(rows.map((r) => r.key));
}

/**
 * Items as the page shows them: `changed_at` null for an item that never changed since it was first seen
 * (the items row gives its first-seen time there, which is no change).
 */
export async function withChangeTimes(db: Db, collector: string, rows: ItemRow[]): Promise<ItemRow[]> {
  const same = rows.filter((r) => r.changed_at === r.first_seen).map((r) => r.key);
  const changed = await changedKeys(db, collector, same);
  return rows.map((r) =>
    r.changed_at === r.first_seen && !changed.has(r.key) ? { ...r, changed_at: null } : r
  );
}

/**
 * An item, its changes, and which of its versions' contents were captured (`checksumField`: the field holding the
 * content's checksum, for a collector that captures content).
 */
export async function itemHistory(
  db: Db,
  collector: string,
  key: string,
  opts: { checksumField?: string; limit?: number } = {},
): Promise<ItemHistory> {
  const limit = opts.limit ?? 200;
  const field = opts.checksumField;
  const row = await db.selectFrom("items").where("collector", "=", collector).where("key", "=", key)
    .select(["collector", "key", "data", "error", "first_seen", "changed_at"]).executeTakeFirst();
  const history =
    (await sql<RawChange & { ack: string | null }>`select ${
      sql.raw(CHANGE_COLUMNS.map((c) => `c.${c}`).join(", "))
    }, ${ACK_OF} as ack from changes c where c.collector = ${collector} and c.key = ${key}
    order by c.at desc, c.id desc limit ${limit}`.execute(db)).rows.map(parseChange);
  const sums = new Set<string>();
  const add = (v: unknown) => typeof v === "string" && /^[0-9a-f]{64}$/i.test(v) && sums.add(v.toLowerCase());
  const item = row ? parseRow(row) : null;
  if (field) {
    add(item?.data[field]);
    for (const h of history) {
      add(h.previous?.[field]);
      add(h.current?.[field]);
    }
  }
  const contents = await captured(db, [...sums]);
  return { item, history, contents, firstSeen: await firstSeenOf(db, collector, key, item) };
}

/** A DCR seen, as the page reads it: validity as a boolean, problems and normalized settings parsed. */
export interface ConfigRow extends Omit<RawConfig, "valid" | "errors" | "normalized"> {
  valid: boolean;
  errors: { path: string; message: string }[];
  normalized: unknown;
}
type RawConfig = Pick<
  Selectable<ConfigTable>,
  "id" | "source" | "origin" | "received_at" | "raw" | "valid" | "errors" | "normalized"
>;

function parseConfig(r: RawConfig): ConfigRow {
  return {
    ...r,
    valid: r.valid === 1,
    errors: JSON.parse(r.errors),
    normalized: r.normalized === null ? null : JSON.parse(r.normalized),
  };
}

/** The DCR in force (the last valid one seen) and the rejected ones, newest first. */
export async function configs(
  db: Db,
  rejectedLimit = 20,
): Promise<{ current: ConfigRow | null; rejected: ConfigRow[] }> {
  const cols = ["id", "source", "origin", "received_at", "raw", "valid", "errors", "normalized"] as const;
  const current = await db.selectFrom("config").where("valid", "=", 1).select(cols).orderBy(
    "received_at",
    "desc",
  )
    .orderBy("id", "desc").executeTakeFirst();
  const rejected = await db.selectFrom("config").where("valid", "=", 0).select(cols).orderBy(
    "received_at",
    "desc",
  )
    .orderBy("id", "desc").limit(rejectedLimit).execute();
  return { current: current ? parseConfig(current) : null, rejected: rejected.map(parseConfig) };
}
/**
 * The stored versions of item `key` (of `collector`) whose `field` was `checksum`: the item and either side of
 * its changes (the facts the page's content gate judges). None: that content was never a version of that item.
 */
export async function contentVersions(
  db: Db,
  collector: string,
  field: string,
  key: string,
  checksum: string,
): Promise<Record<string, unknown>[]> {
  const sum = checksum.toLowerCase();
  const rows = [
    ...(await db.selectFrom("items").where("collector", "=", collector).where("key", "=", key).select("data")
      .execute()).map((r) => r.data),
    ...(await db.selectFrom("changes").where("collector", "=", collector).where("key", "=", key)
      .select(["previous", "current"]).execute()).flatMap((r) => [r.previous, r.current]),
  ];
  const out: Record<string, unknown>[] = [];
  for (const text of rows) {
    if (text === null || !text.toLowerCase().includes(sum)) continue;
    const v = JSON.parse(text) as Record<string, unknown>;
    if (typeof v[field] === "string" && (v[field] as string).toLowerCase() === sum) out.push(v);
  }
  return out;
}
