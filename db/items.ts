// The items table's one owner: the current inventory, one row per (collector, key). Runs write it inside their
// transaction; --once, the mirrors, status and retention read it here. (The page's search and sort read model is
// ui/queries.ts and ui/inventory_index.ts; a run's staging joins are pipeline/stage.ts.)
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { Selectable, Transaction } from "kysely";
import type { Db } from "./open.ts";
import type { Database, ItemsTable } from "./schema.ts";
import { arrays } from "./sqlite_dialect.ts";
import type { Scope } from "../agent/collectors/types.ts";
import { prefixRange } from "../agent/collectors/scope.ts";
import { keyOrder } from "../agent/key_order.ts";

/** A stored item as the diff reads it (its JSON left unparsed). */
export interface StoredItem {
  key: string;
  /** itemChecksum of `json` (pipeline/diff.ts); null while the item has never been read without error. */
  checksum: string | null;
  /** The item as stored (JSON), parsed only when needed. */
  json: string;
  error: string | null;
  changedAt: number;
  /** The collector's fingerprint of the stored version (null: none). */
  fingerprint?: string | null;
}

/** A row to write to the items table. */
export interface Upsert {
  key: string;
  checksum: string | null;
  /** JSON of the item. */
  json: string;
  error: string | null;
  /** The diffed fields changed (so changed_at moves); false for error-only or volatile-only updates. */
  changed: boolean;
  fingerprint: string | null;
  /** changed_at of the row: now when `changed` or new, else the stored one. */
  changedAt?: number;
}

/** The columns of a StoredItem, in the order `stored()` reads them from a row of arrays. */
export const STORED = "key, checksum, data, error, changed_at, fingerprint";
/** A row of `SELECT ${STORED}`, as arrays (node:sqlite reads big results much faster so). */
export type StoredRow = [string, string | null, string, string | null, number, string | null];
export const stored = (r: StoredRow): StoredItem => ({
  key: r[0],
  checksum: r[1],
  json: r[2],
  error: r[3],
  changedAt: r[4],
  fingerprint: r[5],
});

function all<T>(stmt: StatementSync, ...params: (string | number)[]): T[] {
  return stmt.all(...params) as unknown[] as T[];
}

/** The stored items of a collector, by key (JSON left unparsed): for readers that want them all (--once --json). */
export function loadItems(raw: DatabaseSync, collector: string): Map<string, StoredItem> {
  const rows = all<StoredRow>(
    arrays(raw.prepare(`SELECT ${STORED} FROM items WHERE collector = ?`)),
    collector,
  );
  return new Map(rows.map((r) => [r[0], stored(r)]));
}

/**
 * A collector's stored items of one kind, read in key order a page at a time (pipeline/previous.ts): rows
 * [key, value] from a key (or after one), and keys strictly between two (null: no bound).
 */
export interface StoredRows {
  rows(start: { after: string } | { from: string }, limit: number): [string, string][];
  keys(after: string | null, before: string | null, limit: number): string[];
}

/** A scope's keys as key ranges [from, to) (`to` excluded), in key order, overlapping ones merged. */
export function scopeRanges(scope: Scope): [from: string, to: string][] {
  // The key itself and nothing after it: the next text is the key with NUL after it, which no key holds.
  const ranges = [
    ...scope.keys.map((k): [string, string] => [k, k + "\0"]),
    ...scope.prefixes.map(prefixRange),
  ].sort((a, b) => keyOrder(a[0], b[0]));
  const out: [string, string][] = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last && keyOrder(r[0], last[1]) <= 0) {
      if (keyOrder(r[1], last[1]) > 0) last[1] = r[1];
    } else out.push([...r]);
  }
  return out;
}

function storedRows(
  raw: DatabaseSync,
  collector: string,
  value: string,
  where: string,
  scope?: Scope,
): StoredRows {
  const q = (sql: string) => arrays(raw.prepare(sql));
  const base = `FROM items WHERE collector = ? AND ${where}`;
  if (scope) return scopedRows(q, base, collector, value, scopeRanges(scope));
  const after = q(`SELECT key, ${value} ${base} AND key > ? ORDER BY key LIMIT ?`);
  const from = q(`SELECT key, ${value} ${base} AND key >= ? ORDER BY key LIMIT ?`);
  const between = [
    q(`SELECT key ${base} ORDER BY key LIMIT ?`),
    q(`SELECT key ${base} AND key > ? ORDER BY key LIMIT ?`),
    q(`SELECT key ${base} AND key < ? ORDER BY key LIMIT ?`),
    q(`SELECT key ${base} AND key > ? AND key < ? ORDER BY key LIMIT ?`),
  ];
  return {
    rows: (start, limit) =>
      "after" in start
        ? all<[string, string]>(after, collector, start.after, limit)
        : all<[string, string]>(from, collector, start.from, limit),
    keys(lo, hi, limit) {
      const bounds = [lo, hi].filter((b) => b !== null) as string[];
      const stmt = between[(lo === null ? 0 : 1) + (hi === null ? 0 : 2)];
      return all<[string]>(stmt, collector, ...bounds, limit).map((r) => r[0]);
    },
  };
}

/**
 * Stored rows as storedRows reads them, of a scope's key ranges only (a realtime run's): each range read
 * through the primary key, from where the reader stands.
 */
function scopedRows(
  q: (sql: string) => StatementSync,
  base: string,
  collector: string,
  value: string,
  ranges: [string, string][],
): StoredRows {
  const rowsFrom = q(`SELECT key, ${value} ${base} AND key >= ? AND key < ? ORDER BY key LIMIT ?`);
  const rowsAfter = q(`SELECT key, ${value} ${base} AND key > ? AND key < ? ORDER BY key LIMIT ?`);
  const keysFrom = q(`SELECT key ${base} AND key >= ? AND key < ? ORDER BY key LIMIT ?`);
  const keysAfter = q(`SELECT key ${base} AND key > ? AND key < ? ORDER BY key LIMIT ?`);
  /** Reads the ranges from `lo` (inclusive unless `after`) to `hi` (excluded; null: no end), up to `limit`. */
  function read<T>(
    lo: string | null,
    after: boolean,
    hi: string | null,
    limit: number,
    stmts: [from: StatementSync, after: StatementSync],
  ): T[] {
    const out: T[] = [];
    for (const [from, to] of ranges) {
      if (out.length >= limit) break;
      if (lo !== null && keyOrder(to, lo) <= 0) continue;
      if (hi !== null && keyOrder(from, hi) >= 0) break;
      const end = hi !== null && keyOrder(hi, to) < 0 ? hi : to;
      const inside = lo !== null && keyOrder(lo, from) >= 0;
      const start = inside ? lo! : from;
      out.push(...all<T>(inside && after ? stmts[1] : stmts[0], collector, start, end, limit - out.length));
    }
    return out;
  }
  return {
    rows: (start, limit) =>
      "after" in start
        ? read(start.after, true, null, limit, [rowsFrom, rowsAfter])
        : read(start.from, false, null, limit, [rowsFrom, rowsAfter]),
    keys: (lo, hi, limit) => read<[string]>(lo, true, hi, limit, [keysFrom, keysAfter]).map((r) => r[0]),
  };
}

/** The fingerprints of a collector's stored items (of `scope`: a realtime run's); an item with an error has none. */
export function storedFingerprints(raw: DatabaseSync, collector: string, scope?: Scope): StoredRows {
  return storedRows(raw, collector, "fingerprint", "fingerprint IS NOT NULL", scope);
}

/** The checksums of a collector's stored items (of `scope`) that have no fingerprint and no error. */
export function storedChecksums(raw: DatabaseSync, collector: string, scope?: Scope): StoredRows {
  return storedRows(raw, collector, "checksum", "fingerprint IS NULL AND error IS NULL", scope);
}

/** Whether a collector has any stored item. */
export function hasItems(raw: DatabaseSync, collector: string): boolean {
  return !!raw.prepare("SELECT 1 FROM items WHERE collector = ? LIMIT 1").get(collector);
}

/**
 * Writes item rows inside a run's transaction (which holds the connection), as one prepared statement on the
 * raw connection: a baseline writes hundreds of thousands, and building each through Kysely costs more than
 * SQLite's work. An existing row keeps its first_seen (the conflict update leaves it alone).
 */
export function itemWriter(
  raw: DatabaseSync,
  collector: string,
  at: number,
): { write(rows: Upsert[]): void } {
  const upsert = raw.prepare(
    `INSERT INTO items (collector, key, checksum, data, error, fingerprint, first_seen, changed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (collector, key) DO UPDATE SET checksum = excluded.checksum, data = excluded.data,
       error = excluded.error, fingerprint = excluded.fingerprint, changed_at = excluded.changed_at`,
  );
  return {
    write(rows) {
      for (const u of rows) {
        const changedAt = u.changed || u.changedAt === undefined ? at : u.changedAt;
        upsert.run(collector, u.key, u.checksum, u.json, u.error, u.fingerprint, at, changedAt);
      }
    },
  };
}

/**
 * Writes new items of `collector` one by one inside a run's transaction (a baseline with nothing stored writes
 * its items as it finds them). `insert` returns false for a key written already (a duplicate), leaving it.
 */
export function newItemWriter(
  raw: DatabaseSync,
  collector: string,
  at: number,
): {
  insert(
    key: string,
    checksum: string | null,
    json: string,
    error: string | null,
    fp: string | null,
  ): boolean;
} {
  const insert = raw.prepare(
    `INSERT INTO items (collector, key, checksum, data, error, fingerprint, first_seen, changed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (collector, key) DO NOTHING`,
  );
  return {
    insert: (key, checksum, json, error, fp) =>
      insert.run(collector, key, checksum, json, error, fp, at, at).changes !== 0,
  };
}

/** Deletes items of `collector` by key, inside a run's transaction. */
export async function deleteItems(
  trx: Transaction<Database>,
  collector: string,
  keys: string[],
): Promise<void> {
  await trx.deleteFrom("items").where("collector", "=", collector).where("key", "in", keys).execute();
}

/** Rows read a page at a time. */
const PAGE = 500;

/** A collector's items in key order, a page at a time (a mirror of any size costs a page of memory). */
export async function* itemPages(
  db: Db,
  collector: string,
): AsyncGenerator<Pick<Selectable<ItemsTable>, "key" | "data" | "error">[]> {
  for (let after: string | null = null;;) {
    let q = db.selectFrom("items").select(["key", "data", "error"]).where("collector", "=", collector);
    if (after !== null) q = q.where("key", ">", after);
    const rows = await q.orderBy("key").limit(PAGE).execute();
    if (!rows.length) return;
    after = rows[rows.length - 1].key;
    yield rows;
  }
}

/** Per collector that has items: how many, and how many whose last read failed. */
export async function itemCounts(db: Db): Promise<Record<string, { items: number; errors: number }>> {
  const out: Record<string, { items: number; errors: number }> = {};
  const rows = await db.selectFrom("items")
    .select((eb) => [
      "collector",
      eb.fn.countAll<number>().as("n"),
      eb.fn.count<number>("error").as("errors"),
    ])
    .groupBy("collector").execute();
  for (const r of rows) out[r.collector] = { items: Number(r.n), errors: Number(r.errors) };
  return out;
}
