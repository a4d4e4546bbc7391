// Pure change detection: previous items vs a new collection, by natural key.
import { hash } from "node:crypto";
import type { Item } from "../collectors/types.ts";
import type { StoredItem, Upsert } from "../../db/items.ts";

export type { StoredItem, Upsert };
export type Category = "Added" | "Removed" | "Modified";

/** One item of a new collection, as staged: its JSON (without `error`), its error, its fingerprint. */
export interface SeenItem {
  key: string;
  json: string;
  error: string | null;
  fingerprint: string | null;
  /** itemChecksum(json, fingerprint), when it was computed already. */
  checksum?: string;
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

const skipSets = new WeakMap<readonly string[], ReadonlySet<string>>();
function skipSet(volatile: readonly string[] = []): ReadonlySet<string> {
  if (!volatile.length) return NEVER_DIFFED;
  let set = skipSets.get(volatile);
  if (!set) skipSets.set(volatile, set = new Set([...NEVER_DIFFED, ...volatile]));
  return set;
}

/**
 * The stored checksum of an item: SHA-256 of its JSON as stored, which tells a collector that gives no
 * fingerprints whether an item is the same; "" for an item with a fingerprint, which says that itself (there the
 * checksum only marks the item as read without error once: a baseline of 100,000 files saves a hash and 64 bytes
 * each).
 */
export function itemChecksum(json: string, fingerprint: string | null): string {
  return fingerprint === null ? dataChecksum(json) : "";
}

/** SHA-256 of an item's JSON. */
export function dataChecksum(json: string): string {
  // The one-shot form: a baseline makes one per item, and a Hash object each costs more.
  return hash("sha256", json, "hex");
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

/** The item as staged: JSON without `error`, the error apart. */
export function seenItem(key: string, item: Item, fingerprint: string | null = null): SeenItem {
  const error = typeof item.error === "string" && item.error ? item.error : null;
  return { key, json: JSON.stringify(withoutError(item)), error, fingerprint: error ? null : fingerprint };
}

/**
 * What one item of a new collection means against its stored version (undefined: new key): a row to write
 * and/or a change to report, or nothing at all when it is unchanged.
 * - An item carrying an `error` is never reported: the last good data is kept with the error beside it.
 * - A baseline run stores everything and reports nothing.
 */
export function diffOne(
  prev: StoredItem | undefined,
  next: SeenItem,
  opts: { volatile?: readonly string[]; baseline?: boolean },
): { upsert?: Upsert; change?: Change } {
  const { key, json, error, fingerprint } = next;
  const changedAt = prev?.changedAt;
  if (error) {
    // Unreadable: the last good data (if any) stays, with the error beside it and no fingerprint, so the
    // next run looks at the item again.
    if (prev?.error === error) return {};
    const kept = prev && prev.checksum !== null;
    return {
      upsert: {
        key,
        checksum: kept ? prev.checksum : null,
        json: kept ? prev.json : json,
        error,
        changed: false,
        fingerprint: null,
        changedAt,
      },
    };
  }
  // The stored text is the item's JSON as the collector built it: a collector builds its items the same
  // way every run, so equal text is an unchanged item at the cost of one string comparison, never parsed.
  // Unequal text is compared field by field, so another field order or a volatile field reports nothing.
  if (prev && prev.checksum !== null && prev.error === null && prev.json === json) {
    if ((prev.fingerprint ?? null) === fingerprint) return {};
    return {
      upsert: { key, checksum: prev.checksum, json, error: null, changed: false, fingerprint, changedAt },
    };
  }
  const checksum = next.checksum ?? itemChecksum(json, fingerprint);
  if (!prev || prev.checksum === null) {
    const upsert = { key, checksum, json, error: null, changed: true, fingerprint };
    if (opts.baseline) return { upsert };
    return {
      upsert,
      change: { key, category: "Added", fieldsChanged: [], current: JSON.parse(json) as Item },
    };
  }
  const before = JSON.parse(prev.json) as Item;
  const data = JSON.parse(json) as Item;
  const fieldsChanged = changedFields(before, data, skipSet(opts.volatile));
  if (!fieldsChanged.length) {
    // Readable again, or only volatile fields (or the field order) moved: refresh the row without reporting.
    return { upsert: { key, checksum, json, error: null, changed: false, fingerprint, changedAt } };
  }
  const upsert = { key, checksum, json, error: null, changed: true, fingerprint };
  if (opts.baseline) return { upsert };
  return {
    upsert,
    change: {
      key,
      category: "Modified",
      fieldsChanged,
      previous: before,
      current: data,
      previousChangedAt: changedAt,
    },
  };
}

/** The Removed change of a stored item that is gone (none for one that was never read without error). */
export function removedChange(prev: StoredItem, baseline = false): Change | undefined {
  if (prev.checksum === null || baseline) return undefined;
  return {
    key: prev.key,
    category: "Removed",
    fieldsChanged: [],
    previous: JSON.parse(prev.json) as Item,
    previousChangedAt: prev.changedAt,
  };
}

/** Whether a stored key falls under a prefix the collection could not see (kept, never Removed). */
export function isUnseen(key: string, unseen: readonly string[]): boolean {
  return unseen.some((p) => key.startsWith(p));
}

/**
 * Compares the previous items of a collector with a complete new collection held in memory (the pipeline
 * does the same a page at a time from its staging table; see run.ts).
 * - Previous items whose key falls under an `unseen` prefix are kept, never reported Removed.
 */
export function diffItems(
  previous: ReadonlyMap<string, StoredItem>,
  next: readonly Item[],
  opts: DiffOptions,
): DiffResult {
  const res: DiffResult = { changes: [], upserts: [], removed: [], duplicates: [], current: new Map() };
  for (const raw of next) {
    const key = opts.key(raw);
    if (res.current.has(key)) {
      res.duplicates.push(key);
      continue;
    }
    res.current.set(key, raw);
    const { upsert, change } = diffOne(previous.get(key), seenItem(key, raw), opts);
    if (upsert) res.upserts.push(upsert);
    if (change) res.changes.push(change);
  }
  const unseen = opts.unseen ?? [];
  for (const [key, prev] of previous) {
    if (res.current.has(key) || isUnseen(key, unseen)) continue;
    res.removed.push(key);
    const change = removedChange(prev, opts.baseline);
    if (change) res.changes.push(change);
  }
  res.changes.sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  return res;
}
