// The page's read model: inventory search and sort, changes, histograms, item history, DCRs (the tables' own
// modules in db/ answer runs, outbox, contents and counts).
import { type Expression, type Selectable, sql, type SqlBool } from "kysely";
import type { Db } from "../db/open.ts";
import type { ChangesTable, ConfigTable, ItemsTable } from "../db/schema.ts";
import { itemCounts as countItems } from "../db/items.ts";
import { captured } from "../db/contents.ts";

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
export interface ItemRow extends Omit<StoredItemRow, "data"> {
  data: Record<string, unknown>;
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
}

export interface ChangesQuery {
  since?: number;
  until?: number;
  collectors?: string[];
  categories?: string[];
  q?: string;
  offset?: number;
  limit?: number;
}

/** The WHERE clause of a change query (without the text search), over the table aliased `c`. */
function changesWhere(q: ChangesQuery) {
  const parts = [sql`1 = 1`];
  if (q.since !== undefined) parts.push(sql`c.at >= ${q.since}`);
  if (q.until !== undefined) parts.push(sql`c.at < ${q.until}`);
  if (q.collectors?.length) parts.push(sql`c.collector in (${sql.join(q.collectors)})`);
  if (q.categories?.length) parts.push(sql`c.category in (${sql.join(q.categories)})`);
  return sql.join(parts, sql` and `);
}

function parseChange(r: RawChange): ChangeRow {
  return {
    ...r,
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
 * Newest first. The total is counted up to COUNT_CAP rows past the page only. A text search of 3+ characters walks the trigram
 * index of keys (migration 003) newest id first (ids grow with time), so a broad term stops at the first page
 * instead of sorting every match; shorter terms scan keys with LIKE.
 */
export async function changes(db: Db, q: ChangesQuery): Promise<Page<ChangeRow>> {
  const limit = Math.min(Math.max(q.limit ?? 100, 1), MAX_LIMIT);
  const offset = Math.max(q.offset ?? 0, 0);
  const text = q.q?.trim() ?? "";
  const where = changesWhere(q);
  const cols = sql.raw(CHANGE_COLUMNS.map((c) => `c.${c}`).join(", "));
  let from, order;
  if (text.length >= 3) {
    const phrase = `"${text.replaceAll('"', '""')}"`;
    from = sql`changes_fts f join changes c on c.id = f.rowid where changes_fts match ${phrase} and ${where}`;
    order = sql`f.rowid desc`;
  } else {
    const like = text ? sql` and c.key like ${containsPattern(text)} escape '\\'` : sql``;
    from = sql`changes c where ${where}${like}`;
    order = sql`c.at desc, c.id desc`;
  }
  const rows =
    (await sql<RawChange>`select ${cols} from ${from} order by ${order} limit ${limit} offset ${offset}`
      .execute(db)).rows;
  let total: number;
  let capped = false;
  if (offset === 0 && rows.length < limit) total = rows.length;
  else {
    const cap = offset + COUNT_CAP;
    const counted = await sql<{ n: number }>`select count(*) as n from (select 1 from ${from} limit ${
      cap + 1
    })`
      .execute(db);
    const n = counted.rows[0].n;
    capped = n > cap;
    total = Math.min(n, cap);
  }
  return { total, capped, offset, rows: rows.map(parseChange) };
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
  q: { since: number; until: number; bucket: number; collectors?: string[]; categories?: string[] },
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
    return { since, until: q.until, bucket, points };
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

/** Moves whenever a run stores anything (its run row, change rows, new item rows): keys caches of counts. */
export async function dataVersion(db: Db): Promise<string> {
  const r = await sql<{ r: number | null; c: number | null; i: number | null }>`select
    (select max(id) from runs) as r, (select max(id) from changes) as c, (select max(rowid) from items) as i`
    .execute(db);
  const row = r.rows[0];
  return `${row.r}:${row.c}:${row.i}`;
}

export type Counts = Record<string, { items: number; errors: number; changed: number }>;

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

/** Adds how many changes each collector had since `since` (whole hours: "in 24 h" may include an hour more). */
export async function withChanged(db: Db, base: Counts, since: number): Promise<Counts> {
  const out: Counts = structuredClone(base);
  const changed = await db.selectFrom("changes_hourly").where("hour", ">=", Math.floor(since / HOUR))
    .select(["collector", sql<number>`sum(n)`.as("n")]).groupBy("collector").execute();
  for (const r of changed) (out[r.collector] ??= { items: 0, errors: 0, changed: 0 }).changed = r.n;
  return out;
}

export interface ItemHistory {
  item: ItemRow | null;
  history: ChangeRow[];
  /** Checksums among the history's file versions whose content was captured. */
  contents: string[];
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
  const history = (await db.selectFrom("changes").where("collector", "=", collector).where("key", "=", key)
    .select(CHANGE_COLUMNS).orderBy("at", "desc").orderBy("id", "desc").limit(limit).execute()).map(
      parseChange,
    );
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
  return { item, history, contents };
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
