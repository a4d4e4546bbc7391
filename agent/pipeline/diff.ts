// Pure change detection: previous items vs a new collection, by natural key.
import { createHash } from "node:crypto";
import type { Item, Value } from "../collectors/types.ts";

export type Category = "Added" | "Removed" | "Modified";

export interface StoredItem {
  key: string;
  /** Checksum of the diffed fields; null while the item has never been read without error. */
  checksum: string | null;
  data: Item;
  error: string | null;
  changedAt: number;
}

export interface Change {
  key: string;
  category: Category;
  /** Names of the fields whose values differ (Modified); every field for Added/Removed is implied. */
  fieldsChanged: string[];
  previous?: Item;
  current?: Item;
  /** When the previous version was first seen (for LastSnapshotAge); undefined for Added. */
  previousChangedAt?: number;
}

/** A row to write to the items table. */
export interface Upsert {
  key: string;
  checksum: string | null;
  data: Item;
  error: string | null;
  /** The diffed fields changed (so changed_at moves); false for error-only or volatile-only updates. */
  changed: boolean;
}

export interface DiffResult {
  changes: Change[];
  upserts: Upsert[];
  /** Keys to delete from the items table. */
  removed: string[];
  /** Keys that appeared more than once in the collection (first one kept). */
  duplicates: string[];
  /** Items of the new collection, deduplicated, with their keys, in collection order. */
  current: Map<string, Item>;
}

export interface DiffOptions {
  key(item: Item): string;
  volatile?: readonly string[];
  /** Key prefixes whose previous items are kept because they could not be seen this time. */
  unseen?: readonly string[];
  /** First run of the collector: store everything, report nothing. */
  baseline?: boolean;
}

const NEVER_DIFFED = new Set(["error"]);

function diffedEntries(item: Item, volatile: ReadonlySet<string>): [string, Value][] {
  return Object.entries(item)
    .filter(([k, v]) => !volatile.has(k) && !NEVER_DIFFED.has(k) && v !== undefined)
    .sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
}

/** SHA-256 over the diffed fields in key order: equal checksums mean nothing worth reporting changed. */
export function itemChecksum(item: Item, volatile: readonly string[] = []): string {
  const v = new Set(volatile);
  return createHash("sha256").update(JSON.stringify(diffedEntries(item, v))).digest("hex");
}

function changedFields(before: Item, after: Item, volatile: ReadonlySet<string>): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  const out: string[] = [];
  for (const n of names) {
    if (volatile.has(n) || NEVER_DIFFED.has(n)) continue;
    if ((before[n] ?? null) !== (after[n] ?? null)) out.push(n);
  }
  return out.sort();
}

function withoutError(item: Item): Item {
  if (!("error" in item)) return item;
  const { error: _e, ...rest } = item;
  return rest;
}

/**
 * Compares the previous items of a collector with a complete new collection.
 * - Items carrying an `error` are never reported: the last good data is kept with the error beside it.
 * - Previous items whose key falls under an `unseen` prefix are kept, never reported Removed.
 * - A baseline run reports nothing.
 */
export function diffItems(
  previous: ReadonlyMap<string, StoredItem>,
  next: readonly Item[],
  opts: DiffOptions,
): DiffResult {
  const volatile = new Set(opts.volatile ?? []);
  const res: DiffResult = { changes: [], upserts: [], removed: [], duplicates: [], current: new Map() };
  for (const raw of next) {
    const key = opts.key(raw);
    if (res.current.has(key)) {
      res.duplicates.push(key);
      continue;
    }
    res.current.set(key, raw);
    const prev = previous.get(key);
    const err = typeof raw.error === "string" && raw.error ? raw.error : null;
    const data = withoutError(raw);
    if (err) {
      if (prev && prev.checksum !== null) {
        if (prev.error !== err) {
          res.upserts.push({ key, checksum: prev.checksum, data: prev.data, error: err, changed: false });
        }
      } else if (!prev || prev.error !== err) {
        res.upserts.push({ key, checksum: null, data, error: err, changed: false });
      }
      continue;
    }
    const checksum = itemChecksum(data, opts.volatile);
    if (!prev || prev.checksum === null) {
      res.upserts.push({ key, checksum, data, error: null, changed: true });
      if (!opts.baseline) res.changes.push({ key, category: "Added", fieldsChanged: [], current: data });
    } else if (prev.checksum !== checksum) {
      res.upserts.push({ key, checksum, data, error: null, changed: true });
      if (!opts.baseline) {
        res.changes.push({
          key,
          category: "Modified",
          fieldsChanged: changedFields(prev.data, data, volatile),
          previous: prev.data,
          current: data,
          previousChangedAt: prev.changedAt,
        });
      }
    } else if (prev.error !== null || JSON.stringify(prev.data) !== JSON.stringify(data)) {
      // Readable again, or only volatile fields moved: refresh the row without reporting.
      res.upserts.push({ key, checksum, data, error: null, changed: false });
    }
  }
  const unseen = opts.unseen ?? [];
  for (const [key, prev] of previous) {
    if (res.current.has(key) || unseen.some((p) => key.startsWith(p))) continue;
    res.removed.push(key);
    if (prev.checksum !== null && !opts.baseline) {
      res.changes.push({
        key,
        category: "Removed",
        fieldsChanged: [],
        previous: prev.data,
        previousChangedAt: prev.changedAt,
      });
    }
  }
  res.changes.sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  return res;
}
