// In-memory search and sort index over one collector's items, rebuilt when a run changes them; idle ones are
// dropped, and all of them together stay within a memory budget.
import { sql } from "kysely";
import { connectionOf, type Db } from "../db/open.ts";
import { itemFieldPages, itemValuePages } from "../db/items.ts";
import { breather } from "../agent/breathe.ts";
import {
  inventory,
  type InventoryQuery,
  isField,
  type ItemRow,
  MAX_LIMIT,
  type Page,
  withChangeTimes,
} from "./queries.ts";

interface Index {
  version: string;
  keys: string[];
  /**
   * Every item's lower-cased field values (never field names) and key, items separated by "\n", in strings of
   * a page of items each (read so; joined, they would be there twice while joining): one indexOf over a string
   * is much faster than an includes() per item.
   */
  hay: string[];
  /** Where each string of `hay` starts in their concatenation. */
  hayStarts: number[];
  /** Where each item's part of the concatenation of `hay` starts (plus one past the end). */
  starts: Int32Array;
  errors: Uint8Array;
  /** Permutations of item positions in ascending order, per sort field, built on first use (most recent last). */
  orders: Map<string, Int32Array>;
  /** How many items at the end of a field's order have no value there (they stay last, descending too). */
  blanks: Map<string, number>;
  /** Each item's value of a field, per field filtered on, loaded on first use (most recent last). */
  values: Map<string, unknown[]>;
  /** What the index holds, estimated: its text, keys and arrays. */
  bytes: number;
  usedAt: number;
}

export interface IndexLimits {
  /** Drop an index unused this long (default 5 min). */
  idleMs?: number;
  /** The estimated bytes all indexes may hold together (default 256 MiB); the least recently used go first. */
  maxBytes?: number;
  /** Sort orders and filter value lists kept per index (default 16): the fields the specs offer fit. */
  maxFields?: number;
}

/** A field's values among the items a query keeps (its own filter aside), the most frequent first. */
export interface Facet {
  field: string;
  values: { value: string; n: number }[];
  /** Items with a value not listed (past the most frequent ones). */
  others: number;
}

export interface InventoryIndex {
  /** An inventory page: search, exact-value `where` filters, sort, paging. */
  query(q: InventoryQuery): Promise<Page<ItemRow>>;
  /**
   * The values of `fields` among the items `q` keeps, each counted with the other fields' filters only (so
   * another value of a field filtered on stays in reach); null when the collector's index is over the budget.
   */
  facets(q: InventoryQuery, fields: readonly string[], top?: number): Promise<Facet[] | null>;
  /** Forgets every cached index (tests, or after a bulk import). */
  clear(): void;
  /** What the cache holds now. */
  stats(): { indexes: number; bytes: number; fields: number };
}

const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

/**
 * An item's search text: its values and its key. A key that is one of the values (a file's path) is there once: the
 * index of /usr's 119k files held 48.6 MB of heap with each path twice, 40.4 MB with it once.
 */
function searchText(values: unknown[], key: string): string {
  if (!values.includes(key)) values.push(key);
  return values.filter((v) => v !== null && v !== "").join("\u0001").toLowerCase().replaceAll("\n", " ");
}

/** A field's value as SQLite's json_extract gives it: true and false as 1 and 0, an object or array as its JSON. */
function extracted(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === "boolean") return v ? 1 : 0;
  return v !== null && typeof v === "object" ? JSON.stringify(v) : v;
}

/**
 * The index is keyed by a fingerprint that every pipeline run moves (its run row, the change rows; items are
 * written only by runs), so a stale index is never served; both are index lookups, not scans.
 */
async function fingerprint(db: Db, collector: string): Promise<string> {
  const r = await sql<{ r: number | null; c: number | null }>`select
    (select max(id) from runs where collector = ${collector}) as r,
    (select max(id) from changes) as c`.execute(db);
  const row = r.rows[0];
  return `${row.r}:${row.c}`;
}

/** Bytes a list of values holds, estimated (strings as their length, other values 16 bytes). */
function valueBytes(values: readonly unknown[]): number {
  let n = values.length * 8;
  for (const v of values) n += typeof v === "string" ? v.length : 16;
  return n;
}

export function inventoryIndex(db: Db, opts: IndexLimits & { now?: () => number } = {}): InventoryIndex {
  const idleMs = opts.idleMs ?? 5 * 60_000;
  const maxBytes = opts.maxBytes ?? 256 << 20;
  const maxFields = opts.maxFields ?? 16;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, Index>();
  const building = new Map<string, Promise<Index>>();

  /**
   * The index of a collector's items, read a page at a time: what it holds, never every item's row at once (an
   * index of /usr's 119k files took the page's worker from 60 to 300 MB). A run that commits meanwhile is in
   * part of it; its fingerprint no longer matches `version` then, so the next query builds it again.
   */
  async function build(collector: string, version: string): Promise<Index> {
    const keys: string[] = [];
    const begins: number[] = [];
    const failed: number[] = [];
    const hay: string[] = [];
    const hayStarts: number[] = [];
    let at = 0;
    // The page's other requests (the plain list a first visit asks for) are answered meanwhile: the thread is
    // given back every few ms of the build (seconds at 100,000 items).
    const breathe = breather();
    for (const rows of itemFieldPages(connectionOf(db), collector)) {
      await breathe();
      const parts = rows.map((r) => searchText(r.values, r.key));
      hayStarts.push(at);
      rows.forEach((r, i) => {
        keys.push(r.key);
        begins.push(at);
        at += parts[i].length + 1;
        failed.push(r.error === null ? 0 : 1);
      });
      hay.push(parts.join("\n") + "\n");
    }
    begins.push(at);
    const starts = Int32Array.from(begins);
    const errors = Uint8Array.from(failed);
    const bytes = at + valueBytes(keys) + keys.length * 5;
    return {
      version,
      keys,
      hay,
      hayStarts,
      starts,
      errors,
      orders: new Map(),
      blanks: new Map(),
      values: new Map(),
      bytes,
      usedAt: now(),
    };
  }

  const total = () => [...cache.values()].reduce((n, ix) => n + ix.bytes, 0);

  const sizeOf = (v: Int32Array | unknown[]) => v instanceof Int32Array ? v.byteLength : valueBytes(v);

  /** Drops the least recently used order or value list of `ix` other than `keep`; false when there is none. */
  function dropField(ix: Index, keep?: Int32Array | unknown[]): boolean {
    const maps: Map<string, Int32Array | unknown[]>[] = ix.orders.size >= ix.values.size
      ? [ix.orders, ix.values]
      : [ix.values, ix.orders];
    for (const map of maps) {
      for (const [f, v] of map) {
        if (v === keep) continue;
        map.delete(f);
        ix.bytes -= sizeOf(v);
        return true;
      }
    }
    return false;
  }

  /**
   * Keeps the cache within maxBytes: the least recently used indexes go first, then the fields of the one in
   * use (all but the one just made); if even that is too much, that index is not kept either.
   */
  function trim(current: Index, made?: Int32Array | unknown[]) {
    for (const [c, ix] of [...cache].sort((a, b) => a[1].usedAt - b[1].usedAt)) {
      if (total() <= maxBytes) return;
      if (ix !== current) cache.delete(c);
    }
    while (total() > maxBytes && dropField(current, made));
    if (total() > maxBytes) {
      for (const [c, ix] of cache) if (ix === current) cache.delete(c);
    }
  }

  /** Remembers a field's order or values in `ix`, dropping the least recently used past maxFields. */
  function keepField<T extends Int32Array | unknown[]>(
    ix: Index,
    map: Map<string, T>,
    field: string,
    v: T,
  ): T {
    map.set(field, v);
    ix.bytes += sizeOf(v);
    while (ix.orders.size + ix.values.size > maxFields && dropField(ix, v));
    trim(ix, v);
    return v;
  }

  /** A cached field's entry, marked as the most recently used. */
  function used<T>(map: Map<string, T>, field: string): T | undefined {
    const v = map.get(field);
    if (v !== undefined) {
      map.delete(field);
      map.set(field, v);
    }
    return v;
  }

  /** Marks the items whose text contains `needle`; returns how many. */
  function search(ix: Index, needle: string, match: Uint8Array): number {
    let found = 0;
    ix.hay.forEach((hay, c) => {
      const base = ix.hayStarts[c];
      let pos = hay.indexOf(needle);
      while (pos >= 0) {
        // The item holding `pos`: the last start <= it.
        let lo = 0, hi = ix.keys.length - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if (ix.starts[mid] <= base + pos) lo = mid;
          else hi = mid - 1;
        }
        match[lo] = 1;
        found++;
        pos = hay.indexOf(needle, ix.starts[lo + 1] - base);
      }
    });
    return found;
  }

  /** The collector's index, or null when it alone would be more than the budget (then SQL answers). */
  async function get(collector: string): Promise<Index | null> {
    for (const [c, ix] of cache) if (now() - ix.usedAt > idleMs) cache.delete(c);
    const version = await fingerprint(db, collector);
    const have = cache.get(collector);
    if (have?.version === version) {
      have.usedAt = now();
      return have;
    }
    const pending = building.get(collector + "\0" + version);
    if (pending) return pending;
    const p = build(collector, version).finally(() => building.delete(collector + "\0" + version));
    building.set(collector + "\0" + version, p);
    const ix = await p;
    if (ix.bytes > maxBytes) return null;
    cache.set(collector, ix);
    trim(ix);
    return ix;
  }

  /** Each item's value of `field` (a column of the items table, or a field of their JSON), in key order. */
  async function fieldValues(collector: string, ix: Index, field: string): Promise<unknown[]> {
    const byKey = new Map<string, unknown>();
    if (field === "first_seen" || field === "changed_at") {
      // changed_at only of items that changed: the items row holds the first-seen time for the others.
      const col = field === "first_seen"
        ? sql.ref(field)
        : sql`case when changed_at > first_seen or exists (select 1 from changes c where c.collector = items.collector
          and c.key = items.key) then changed_at end`;
      const rows = await db.selectFrom("items").where("collector", "=", collector)
        .select(["key", col.as("v")]).orderBy("key").execute() as { key: string; v: unknown }[];
      for (const r of rows) byKey.set(r.key, r.v);
    } else {
      // Decoded from the items' rows, as the index itself, the thread given back as the build gives it.
      const breathe = breather();
      for (const rows of itemValuePages(connectionOf(db), collector, field)) {
        await breathe();
        for (const [key, v] of rows) byKey.set(key, extracted(v));
      }
    }
    return ix.keys.map((k) => byKey.get(k) ?? null);
  }

  async function order(collector: string, ix: Index, field: string): Promise<Int32Array> {
    const have = used(ix.orders, field);
    if (have) return have;
    // Keys were loaded in SQLite's key order: the same order the primary key gives before the index exists.
    if (field === "key") return keepField(ix, ix.orders, field, Int32Array.from(ix.keys.keys()));
    const values = used(ix.values, field) ?? await fieldValues(collector, ix, field);
    const perm = Int32Array.from(ix.keys.keys());
    perm.sort((a, b) => {
      const x = values[a], y = values[b];
      if (x === y) return a - b;
      if (x === null || x === undefined) return 1; // empty values last
      if (y === null || y === undefined) return -1;
      if (typeof x === "number" && typeof y === "number") return x - y || a - b;
      return collator.compare(String(x), String(y)) || a - b;
    });
    let blank = 0;
    while (blank < perm.length && (values[perm[perm.length - 1 - blank]] ?? null) === null) blank++;
    ix.blanks.set(field, blank);
    return keepField(ix, ix.orders, field, perm);
  }

  async function plainPage(
    collector: string,
    desc: boolean,
    offset: number,
    limit: number,
  ): Promise<Page<ItemRow>> {
    const { total } = await db.selectFrom("items").where("collector", "=", collector)
      .select(sql<number>`count(*)`.as("total")).executeTakeFirstOrThrow();
    const rows = await db.selectFrom("items").where("collector", "=", collector)
      .select(["collector", "key", "data", "error", "first_seen", "changed_at"])
      .orderBy("key", desc ? "desc" : "asc").limit(limit).offset(offset).execute();
    const parsed = rows.map((r) => ({ ...r, data: JSON.parse(r.data) }));
    return { total, capped: false, offset, rows: await withChangeTimes(db, collector, parsed) };
  }

  /** The field's values in key order, cached. */
  async function valuesOf(collector: string, ix: Index, field: string): Promise<unknown[]> {
    return used(ix.values, field) ?? keepField(ix, ix.values, field, await fieldValues(collector, ix, field));
  }

  /** Marks the items `q` keeps (text, key pattern, errors, `where`); null when it keeps them all. */
  async function matching(
    collector: string,
    ix: Index,
    q: InventoryQuery,
    where: [string, string][],
  ): Promise<Uint8Array | null> {
    const needle = q.q?.trim().toLowerCase() ?? "";
    if (!needle && !q.keys && !q.errors && !where.length) return null;
    const n = ix.keys.length;
    const match = new Uint8Array(n);
    if (needle) search(ix, needle.replaceAll("\n", " "), match);
    else match.fill(1);
    if (q.keys) { for (let i = 0; i < n; i++) if (match[i] && !q.keys(ix.keys[i])) match[i] = 0; }
    if (q.errors) { for (let i = 0; i < n; i++) if (!ix.errors[i]) match[i] = 0; }
    for (const [field, want] of where) {
      const values = await valuesOf(collector, ix, field);
      for (let i = 0; i < n; i++) if (match[i] && String(values[i] ?? "") !== want) match[i] = 0;
    }
    return match;
  }

  /**
   * A key pattern's page without an index (over the budget): the keys the other filters keep are read and
   * tested, in key order (the search box holds a pattern or words, never both).
   */
  async function patternPage(q: InventoryQuery, limit: number, offset: number): Promise<Page<ItemRow>> {
    let sel = db.selectFrom("items").where("collector", "=", q.collector).select("key");
    if (q.errors) sel = sel.where("error", "is not", null);
    for (const [f, want] of Object.entries(q.where ?? {})) {
      sel = sel.where(sql`cast(json_extract(data, ${"$." + f}) as text)`, "=", want);
    }
    const keys = (await sel.orderBy("key", q.dir === "desc" ? "desc" : "asc").execute()).map((r) => r.key)
      .filter(q.keys!);
    const picked = keys.slice(offset, offset + limit);
    const rows = picked.length
      ? await db.selectFrom("items").where("collector", "=", q.collector).where("key", "in", picked)
        .select(["collector", "key", "data", "error", "first_seen", "changed_at"]).execute()
      : [];
    const byKey = new Map(rows.map((r) => [r.key, { ...r, data: JSON.parse(r.data) }]));
    const out = picked.flatMap((k) => byKey.get(k) ?? []);
    return { total: keys.length, capped: false, offset, rows: await withChangeTimes(db, q.collector, out) };
  }

  return {
    clear: () => cache.clear(),
    async facets(q, fields, top = 12) {
      const ix = await get(q.collector);
      if (!ix) return null;
      const where = Object.entries(q.where ?? {});
      for (const f of fields) if (!isField(f)) throw new RangeError(`Cannot count ${JSON.stringify(f)}`);
      const out: Facet[] = [];
      for (const field of fields) {
        const match = await matching(q.collector, ix, q, where.filter(([f]) => f !== field));
        const values = await valuesOf(q.collector, ix, field);
        const counts = new Map<string, number>();
        for (let i = 0; i < values.length; i++) {
          if (match && !match[i]) continue;
          const v = values[i];
          if (v === null || v === undefined || v === "") continue;
          const k = String(v);
          counts.set(k, (counts.get(k) ?? 0) + 1);
        }
        const sorted = [...counts].sort((a, b) => b[1] - a[1] || collator.compare(a[0], b[0]));
        // A value filtered on stays listed, however rare.
        const chosen = q.where?.[field];
        const shown = sorted.slice(0, top);
        if (chosen !== undefined && !shown.some(([v]) => v === chosen)) {
          shown.push([chosen, counts.get(chosen) ?? 0]);
        }
        const others = sorted.slice(top).reduce((n, [v, c]) => v === chosen ? n : n + c, 0);
        out.push({ field, values: shown.map(([value, n]) => ({ value, n })), others });
      }
      return out;
    },
    stats: () => ({
      indexes: cache.size,
      bytes: total(),
      fields: [...cache.values()].reduce((n, ix) => n + ix.orders.size + ix.values.size, 0),
    }),
    async query(q) {
      const limit = Math.min(Math.max(q.limit ?? 100, 1), MAX_LIMIT);
      const offset = Math.max(q.offset ?? 0, 0);
      const sortField = q.sort ?? "key";
      const where = Object.entries(q.where ?? {});
      // The API offers only the spec's fields; this guards anyone else asking (a field names a JSON path).
      for (const f of [sortField, ...where.map(([f]) => f)]) {
        if (!isField(f)) throw new RangeError(`Cannot sort or filter on ${JSON.stringify(f)}`);
      }
      const needle = q.q?.trim().toLowerCase() ?? "";
      if (!needle && !q.keys && !q.errors && !where.length && sortField === "key") {
        // The plain list in key order is what a first visit asks for: the primary key answers it at once,
        // so nobody waits for a cold index (seconds at 100,000 items); build it meanwhile for what comes next.
        const version = await fingerprint(db, q.collector);
        if (cache.get(q.collector)?.version !== version) {
          get(q.collector).catch(() => {});
          return await plainPage(q.collector, q.dir === "desc", offset, limit);
        }
      }
      const ix = await get(q.collector);
      // Too big to keep in memory: SQLite answers (slower, but within the budget); a key pattern over the keys.
      if (!ix && q.keys) return await patternPage(q, limit, offset);
      if (!ix) {
        const page = await inventory(db, { ...q, limit, offset });
        return { ...page, rows: await withChangeTimes(db, q.collector, page.rows) };
      }
      const n = ix.keys.length;
      const match = await matching(q.collector, ix, q, where);
      let total = n;
      if (match) {
        total = 0;
        for (let i = 0; i < n; i++) total += match[i];
      }
      const perm = await order(q.collector, ix, sortField);
      const picked: string[] = [];
      let seen = 0;
      const desc = q.dir === "desc";
      // Descending: the valued items from the last, then the ones without a value (in key order).
      const filled = n - (ix.blanks.get(sortField) ?? 0);
      for (let j = 0; j < n && picked.length < limit; j++) {
        const i = perm[!desc ? j : j < filled ? filled - 1 - j : j];
        if (match && !match[i]) continue;
        if (seen++ >= offset) picked.push(ix.keys[i]);
      }
      if (!picked.length) return { total, capped: false, offset, rows: [] };
      const rows = await db.selectFrom("items").where("collector", "=", q.collector).where(
        "key",
        "in",
        picked,
      )
        .select(["collector", "key", "data", "error", "first_seen", "changed_at"]).execute();
      const byKey = new Map(rows.map((r) => [r.key, r]));
      const out: ItemRow[] = [];
      for (const k of picked) {
        const r = byKey.get(k);
        if (r) out.push({ ...r, data: JSON.parse(r.data) });
      }
      return { total, capped: false, offset, rows: await withChangeTimes(db, q.collector, out) };
    },
  };
}
