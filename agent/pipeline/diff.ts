// Pure change detection: previous items vs a new collection, by natural key.
import { createHash } from "node:crypto";
import type { Item } from "../collectors/types.ts";

export type Category = "Added" | "Removed" | "Modified";

export interface StoredItem {
  key: string;
  /** Checksum of the diffed fields; null while the item has never been read without error. */
  checksum: string | null;
  /** The item as stored: canonical JSON (see canonicalJson), parsed only when needed. */
  json: string;
  error: string | null;
  changedAt: number;
  /** The parsed item, once something parsed it (the collector through ctx.previous). */
  parsed?: Item;
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
  /** Canonical JSON of the item. */
  json: string;
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

const sortedKeysCache = new Map<string, string[]>();

/** JSON of an item's fields in key order, leaving out `skip`: equal texts mean equal items. */
export function canonicalJson(item: Item, skip: ReadonlySet<string> = NEVER_DIFFED): string {
  // Items of one collector share a handful of shapes: sort each shape's keys once, and let
  // JSON.stringify order the fields by that list (it also drops undefined values).
  const keys = Object.keys(item);
  const sig = skip === NEVER_DIFFED ? keys.join("\0") : `${[...skip].join("\0")}\u0001${keys.join("\0")}`;
  let sorted = sortedKeysCache.get(sig);
  if (!sorted) {
    sorted = keys.filter((k) => !skip.has(k)).sort();
    if (sortedKeysCache.size > 1000) sortedKeysCache.clear();
    sortedKeysCache.set(sig, sorted);
  }
  return JSON.stringify(item, sorted);
}

function skipSet(volatile: readonly string[] = []): ReadonlySet<string> {
  return volatile.length ? new Set([...NEVER_DIFFED, ...volatile]) : NEVER_DIFFED;
}

/** SHA-256 over the diffed fields in key order: equal checksums mean nothing worth reporting changed. */
export function itemChecksum(item: Item, volatile: readonly string[] = []): string {
  return createHash("sha256").update(canonicalJson(item, skipSet(volatile))).digest("hex");
}

function changedFields(before: Item, after: Item, skip: ReadonlySet<string>): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  const out: string[] = [];
  for (const n of names) {
    if (skip.has(n)) continue;
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
  const skip = skipSet(opts.volatile);
  const hasVolatile = skip !== NEVER_DIFFED;
  const res: DiffResult = { changes: [], upserts: [], removed: [], duplicates: [], current: new Map() };
  const parse = (p: StoredItem) => p.parsed ?? JSON.parse(p.json) as Item;
  for (const raw of next) {
    const key = opts.key(raw);
    if (res.current.has(key)) {
      res.duplicates.push(key);
      continue;
    }
    res.current.set(key, raw);
    const prev = previous.get(key);
    // A collector that found nothing new hands back the very object it got in ctx.previous.
    if (prev && prev.parsed === raw && prev.checksum !== null && prev.error === null) continue;
    const err = typeof raw.error === "string" && raw.error ? raw.error : null;
    if (err) {
      if (prev && prev.checksum !== null) {
        if (prev.error !== err) {
          res.upserts.push({ key, checksum: prev.checksum, json: prev.json, error: err, changed: false });
        }
      } else if (!prev || prev.error !== err) {
        res.upserts.push({ key, checksum: null, json: canonicalJson(raw), error: err, changed: false });
      }
      continue;
    }
    // The stored text is the canonical JSON of the whole item: without volatile fields, equal text is
    // equal item, so unchanged items cost one string comparison and are never parsed.
    const json = canonicalJson(raw);
    if (prev && prev.checksum !== null && prev.error === null && prev.json === json) continue;
    const data = withoutError(raw);
    if (!prev || prev.checksum === null) {
      res.upserts.push({
        key,
        checksum: itemChecksum(data, opts.volatile),
        json,
        error: null,
        changed: true,
      });
      if (!opts.baseline) res.changes.push({ key, category: "Added", fieldsChanged: [], current: data });
      continue;
    }
    const before = parse(prev);
    const diffed = hasVolatile
      ? canonicalJson(data, skip) !== canonicalJson(before, skip)
      : prev.json !== json;
    if (diffed) {
      res.upserts.push({
        key,
        checksum: itemChecksum(data, opts.volatile),
        json,
        error: null,
        changed: true,
      });
      if (!opts.baseline) {
        res.changes.push({
          key,
          category: "Modified",
          fieldsChanged: changedFields(before, data, skip),
          previous: before,
          current: data,
          previousChangedAt: prev.changedAt,
        });
      }
    } else {
      // Readable again, or only volatile fields moved: refresh the row without reporting.
      res.upserts.push({ key, checksum: prev.checksum, json, error: null, changed: false });
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
        previous: parse(prev),
        previousChangedAt: prev.changedAt,
      });
    }
  }
  res.changes.sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  return res;
}
