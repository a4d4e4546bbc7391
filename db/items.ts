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

/** A stored item as the diff reads it (its JSON left unparsed). */
export interface StoredItem {
  key: string;
  /** SHA-256 of `json`; null while the item has never been read without error. */
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
 * Pairs of `columns` of a collector's items matching `where`, by key: all of them, or those of a scope (each
 * key and each prefix's range read through the (collector, key) index).
 */
function keyed(raw: DatabaseSync, columns: string, where: string, collector: string, scope?: Scope) {
  const sql = `SELECT ${columns} FROM items WHERE collector = ? AND ${where}`;
  if (!scope) return new Map(all<[string, string]>(arrays(raw.prepare(sql)), collector));
  const out = new Map<string, string>();
  const one = arrays(raw.prepare(`${sql} AND key = ?`));
  const range = arrays(raw.prepare(`${sql} AND key >= ? AND key < ?`));
  for (const k of scope.keys) {
    for (const [key, v] of all<[string, string]>(one, collector, k)) out.set(key, v);
  }
  for (const p of scope.prefixes) {
    for (const [key, v] of all<[string, string]>(range, collector, ...prefixRange(p))) out.set(key, v);
  }
  return out;
}

/** The fingerprints of a collector's stored items (of `scope`), by key (an item stored with an error has none). */
export function storedFingerprints(raw: DatabaseSync, collector: string, scope?: Scope): Map<string, string> {
  return keyed(raw, "key, fingerprint", "fingerprint IS NOT NULL", collector, scope);
}

/** The checksums of a collector's stored items (of `scope`) that have no fingerprint and no error, by key. */
export function storedChecksums(raw: DatabaseSync, collector: string, scope?: Scope): Map<string, string> {
  return keyed(raw, "key, checksum", "fingerprint IS NULL AND error IS NULL", collector, scope);
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
 * Writes every row of `staged` (a staging table with `id`, `key`, `checksum`, `data`, `error`, `fingerprint`)
 * as a new item of `collector`, in one statement, inside the run's transaction. Returns how many.
 */
export function insertStagedItems(raw: DatabaseSync, staged: string, collector: string, at: number): number {
  return Number(
    raw.prepare(
      `INSERT INTO main.items (collector, key, checksum, data, error, fingerprint, first_seen, changed_at)
       SELECT ?, key, checksum, data, error, fingerprint, ?, ? FROM ${staged} ORDER BY id`,
    ).run(collector, at, at).changes,
  );
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
