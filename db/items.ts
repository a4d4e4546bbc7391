// The items table's one owner: the current inventory, one row per (collector, key). Runs write it inside their
// transaction; --once, the mirrors, status and retention read it here. (The page's search and sort read model is
// ui/queries.ts and ui/inventory_index.ts; a run's staging joins are pipeline/stage.ts.)
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import type { Db } from "./open.ts";
import { statement } from "./statements.ts";
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

/**
 * Rows [key, value] of a collector's item_rows that match `where` (on its columns), in key order, through `index`
 * if named. Read from the table, not the items view: a rescan reads every stored fingerprint, and a condition on
 * the view's columns cannot use the table's partial indexes (a whole scan for the few items without a
 * fingerprint).
 */
function storedRows(
  raw: DatabaseSync,
  collector: string,
  value: string,
  where: string,
  scope?: Scope,
  index?: string,
): StoredRows {
  const q = (sql: string) => statement(raw, sql, true);
  const base = `FROM item_rows${index ? ` INDEXED BY ${index}` : ""} WHERE collector = ? AND ${where}`;
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

/** What a collector has stored from one key (included) to another (excluded): see storedRange. */
export interface StoredRange {
  /** Items, and how many of them have a fingerprint. */
  items: number;
  printed: number;
  /** The last key; undefined when there is none. */
  last: string | undefined;
}

/** Counts a collector's stored items from `from` (included) to `to` (excluded), and finds the last key. */
export function storedRange(raw: DatabaseSync, collector: string): (from: string, to: string) => StoredRange {
  const q = statement(
    raw,
    "SELECT count(*), count(fingerprint), max(key) FROM item_rows WHERE collector = ? AND key >= ? AND key < ?",
    true,
  );
  return (from, to) => {
    const [items, printed, last] = all<[number, number, string | null]>(q, collector, from, to)[0];
    return { items, printed, last: last ?? undefined };
  };
}

/** The fingerprints of a collector's stored items (of `scope`: a realtime run's); an item with an error has none. */
export function storedFingerprints(raw: DatabaseSync, collector: string, scope?: Scope): StoredRows {
  return storedRows(raw, collector, FINGERPRINT, "fingerprint IS NOT NULL", scope);
}

/**
 * The checksums of a collector's stored items (of `scope`) that have no fingerprint and no error: through the
 * partial index of those (items_unprinted), which SQLite's planner passed over for the primary key, reading every
 * item of the collector to find none (49 ms at the end of each /usr rescan, 119k items with fingerprints).
 */
export function storedChecksums(raw: DatabaseSync, collector: string, scope?: Scope): StoredRows {
  return storedRows(
    raw,
    collector,
    "checksum",
    "fingerprint IS NULL AND error IS NULL",
    scope,
    "items_unprinted",
  );
}

/**
 * A collector's unreadable stored items (an error, no fingerprint) whose row (as `r`) also matches `also`, up to
 * `limit` in key order after a key (null: from the first). Read through the items_errors index, which holds
 * only them: the condition on the items view was a scan of every item, computing each fingerprint.
 */
export function storedUnreadable(
  raw: DatabaseSync,
  collector: string,
  also: string,
  limit: number,
): (after: string | null) => StoredItem[] {
  const q = (after: string) =>
    statement(
      raw,
      `SELECT ${STORED} FROM items WHERE collector = ?1 AND key IN (SELECT r.key FROM item_rows r
         INDEXED BY items_errors WHERE r.collector = ?1${after} AND r.error IS NOT NULL
         AND r.fingerprint IS NULL AND ${also} ORDER BY r.key LIMIT ${limit}) ORDER BY key`,
      true,
    );
  const first = q(""), next = q(" AND r.key > ?2");
  return (after) =>
    all<StoredRow>(after === null ? first : next, collector, ...(after === null ? [] : [after])).map(stored);
}

/** How many items a collector has stored, counted up to `upTo` and no further. */
export function countItems(raw: DatabaseSync, collector: string, upTo: number): number {
  const sql = "SELECT count(*) AS n FROM (SELECT 1 FROM item_rows WHERE collector = ? LIMIT ?)";
  return Number((statement(raw, sql).get(collector, upTo) as { n: number | bigint }).n);
}

/** Most fields an item row keeps in columns (migration 010: v0 … v19); an item with more keeps its JSON. */
export const SLOTS = 20;

/**
 * A row's fingerprint as the items view gives it, read from item_rows itself: a compact one (migration 010:
 * its first character says which value it began with) gets that value back. Slots are tried from the last, as
 * compactFingerprint tries them: a file's StatKey is its last value.
 */
const FINGERPRINT = `CASE WHEN shape IS NOT NULL AND unicode(fingerprint) <= ${SLOTS}
  THEN CASE unicode(fingerprint) ${
  Array.from({ length: SLOTS }, (_, i) => SLOTS - 1 - i).map((i) => `WHEN ${i + 1} THEN v${i}`).join(" ")
} END || ':' || substr(fingerprint, 2) ELSE fingerprint END`;

/**
 * A value as an item row keeps it (migration 010's view writes it back as JSON): a string as its JSON without
 * the quotes, a safe integer as a bigint (SQLite's integer), an ISO time as ms (a number: SQLite's real),
 * a SHA-256 in lowercase hex as its 32 bytes, the item's key as no bytes, null as null.
 */
export type Slot = string | bigint | number | Uint8Array | null;

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const KEY = new Uint8Array(0);

/** The value of a hex digit (lowercase only: the view writes lowercase back), or -1. */
function hexDigit(c: number): number {
  return c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
}

/** Days of each month in a common year. */
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The number the two digits at `i` of `s` write. */
const twoDigits = (s: string, i: number) => (s.charCodeAt(i) - 48) * 10 + s.charCodeAt(i + 1) - 48;

/** The last two ISO times looked at and their ms (or NaN: not one the view writes back): a tree shares a few. */
let iso0 = "", iso1 = "";
let ms0 = NaN, ms1 = NaN;

/**
 * The ms of `text` when it is a time as Date.toISOString writes it, from 1970 on (what the view writes back),
 * else NaN. Read field by field: Date.parse and a toISOString to check it took half a microsecond each, twice a
 * file in a baseline.
 */
export function isoMs(text: string): number {
  if (text === iso0) return ms0;
  if (text === iso1) return ms1;
  let ms = NaN;
  if (ISO.test(text)) {
    const year = twoDigits(text, 0) * 100 + twoDigits(text, 2), month = twoDigits(text, 5);
    const day = twoDigits(text, 8),
      h = twoDigits(text, 11),
      m = twoDigits(text, 14),
      sec = twoDigits(text, 17);
    const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
    if (
      year >= 1970 && month >= 1 && month <= 12 && day >= 1 &&
      day <= MONTH_DAYS[month - 1] + (month === 2 && leap ? 1 : 0) && h < 24 && m < 60 && sec < 60
    ) {
      ms = Date.UTC(year, month - 1, day, h, m, sec, twoDigits(text, 20) * 10 + text.charCodeAt(22) - 48);
    }
  }
  iso1 = iso0;
  ms1 = ms0;
  iso0 = text;
  ms0 = ms;
  return ms;
}

/**
 * The bytes of the SHA-256s of the item compactItem read last, reused: a buffer per file made the garbage
 * collector run a third more often in a baseline. SQLite copies a value when it is bound.
 */
const DIGESTS = 4;
const digests = Array.from({ length: DIGESTS }, () => new Uint8Array(32));
let digestAt = 0;

function stringSlot(text: string, key: string): Slot {
  // `text` is a string's JSON: it is the key's only without escapes (the view writes the key with json_quote).
  if (text === key && !text.includes("\\")) return KEY;
  if (text.length === 64 && digestAt < DIGESTS) {
    const bytes = digests[digestAt];
    for (let i = 0; i < 32; i++) {
      const hi = hexDigit(text.charCodeAt(2 * i)), lo = hexDigit(text.charCodeAt(2 * i + 1));
      if (hi < 0 || lo < 0) return text;
      bytes[i] = hi * 16 + lo;
    }
    digestAt++;
    return bytes;
  }
  if (text.length === 24) {
    const ms = isoMs(text);
    if (ms === ms) return ms;
  }
  return text;
}

/** A number's JSON as a row keeps it: a safe integer written as String() writes it, as a bigint; else undefined. */
function integerSlot(text: string): bigint | undefined {
  const n = Number(text);
  return Number.isSafeInteger(n) && String(n) === text ? BigInt(n) : undefined;
}

/**
 * An item's JSON (as JSON.stringify wrote it) as a row keeps it: its field names (a JSON array, the row's
 * shape) and its values; null when it does not fit (more than SLOTS fields, a field name with an escape, a
 * value not a string, safe integer or null), so the row keeps the JSON. The view of migration 010 writes
 * the values back to the very same JSON text. SHA-256s are in buffers the next call reuses: bind the values
 * before compacting another item.
 */
export function compactItem(json: string, key: string): { fields: string; values: Slot[] } | null {
  if (json.charCodeAt(0) !== 123 || json.length < 3) return null;
  digestAt = 0;
  // The names (each in its quotes: none has an escape, so each is its JSON), read only where they are not
  // the last item's: a collector's items share a shape.
  const last = lastShape.names;
  let names: string[] | null = null;
  const values: Slot[] = [];
  for (let i = 1;;) {
    const k = values.length;
    if (json.charCodeAt(i) !== 34 || k === SLOTS) return null;
    let close: number;
    if (
      names === null && k < last.length && json.startsWith(last[k], i) &&
      json.charCodeAt(i + last[k].length) === 58
    ) {
      close = i + last[k].length - 1;
    } else {
      close = json.indexOf('"', i + 1);
      if (close < 0 || json.charCodeAt(close + 1) !== 58) return null;
      const name = json.slice(i, close + 1);
      if (name.includes("\\")) return null;
      names ??= last.slice(0, k);
      names.push(name);
    }
    let j = close + 2;
    if (json.charCodeAt(j) === 34) {
      // A string's JSON ends at the first quote not escaped (JSON.stringify escapes every quote inside).
      for (j++; j < json.length; j++) {
        const c = json.charCodeAt(j);
        if (c === 92) j++;
        else if (c === 34) break;
      }
      if (j >= json.length) return null;
      values.push(stringSlot(json.slice(close + 3, j), key));
      j++;
    } else {
      let end = j;
      while (end < json.length && json.charCodeAt(end) !== 44 && json.charCodeAt(end) !== 125) end++;
      const text = json.slice(j, end);
      const n = text === "null" ? null : integerSlot(text);
      if (n === undefined) return null;
      values.push(n);
      j = end;
    }
    const c = json.charCodeAt(j);
    if (c === 125) {
      if (j !== json.length - 1) return null;
      return shaped(names, values);
    }
    if (c !== 44) return null;
    i = j + 1;
  }
}

/** What JSON.stringify writes with an escape in a string: a quote, a backslash, a control character, a surrogate. */
// deno-lint-ignore no-control-regex -- control characters are what is looked for
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * compactItem(JSON.stringify(item), key), made from `item` itself: a run that has the item at hand (a baseline
 * writing its items as it finds them) does not read its JSON back. `plain`: that JSON has no backslash, so no
 * string of the item is written with an escape (the usual case: then no string is looked at for one). Null
 * where the item holds what compactItem would have to read from the JSON (a value not a string, safe integer
 * or null; more fields than a row keeps): the caller compacts the JSON then. Valid until the next call of
 * either (SHA-256 buffers).
 */
export function compactObject(
  item: Record<string, unknown>,
  key: string,
  plain: boolean,
): { fields: string; values: Slot[] } | null {
  // JSON.stringify's members: the own enumerable keys, in Object.keys order, which for…in follows for an item's
  // (no integer-like names, nothing enumerable inherited) without an array of them per item.
  digestAt = 0;
  const last = lastShape.names;
  let names: string[] | null = null;
  const values: Slot[] = [];
  let k = -1;
  for (const name in item) {
    if (!Object.hasOwn(item, name)) return null;
    if (++k === SLOTS) return null;
    // The last shape's name (in its quotes) when it is this one, compared without making the quoted text.
    const q = last[k];
    if (names !== null || q === undefined || q.length !== name.length + 2 || !q.startsWith(name, 1)) {
      if (!plain && ESCAPED.test(name)) return null;
      names ??= last.slice(0, k);
      names.push(`"${name}"`);
    }
    const v = item[name];
    if (v === null) values.push(null);
    else if (typeof v === "string") {
      values.push(stringSlot(!plain && ESCAPED.test(v) ? JSON.stringify(v).slice(1, -1) : v, key));
    } else if (typeof v === "number" && Number.isSafeInteger(v)) values.push(BigInt(v));
    else return null;
  }
  return k < 0 ? null : shaped(names, values);
}

/**
 * An item's compacted values with its shape: the last shape's when `names` is null (they matched it all along)
 * and there are as many values, else `names` (or the last shape's first ones), which become the last shape.
 */
function shaped(names: string[] | null, values: Slot[]): { fields: string; values: Slot[] } {
  if (names === null && values.length === lastShape.names.length) return { fields: lastShape.fields, values };
  names ??= lastShape.names.slice(0, values.length);
  lastShape = { names, fields: `[${names.join(",")}]` };
  return { fields: lastShape.fields, values };
}

/** The shape of the item compactItem compacted last: names in their quotes, and as a JSON array. */
let lastShape: { names: string[]; fields: string } = { names: [], fields: "[]" };

/**
 * A compact row's fingerprint: one that starts with a string value of the item and ":" (a file's StatKey) keeps
 * only the rest, after a character whose code is 1 + that value's slot; the view puts the value back.
 * Undefined when a compact row cannot keep it (it starts with such a character itself): the row keeps the
 * JSON then.
 */
export function compactFingerprint(fp: string | null, values: Slot[]): string | null | undefined {
  if (fp === null) return null;
  if (fp.charCodeAt(0) <= SLOTS) return undefined;
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (typeof v === "string" && v.length >= 8 && fp.charCodeAt(v.length) === 58 && fp.startsWith(v)) {
      return String.fromCharCode(1 + i) + fp.slice(v.length + 1);
    }
  }
  return fp;
}

/** What goes before each value of a shape (`fields`, a JSON array of names) in the item's JSON. */
export function shapePrefixes(fields: string): string[] {
  return (JSON.parse(fields) as string[]).map((n, i) => `${i ? "," : "{"}"${n}":`);
}

const COLUMNS = "collector, key, checksum, data, error, first_seen, changed_at, fingerprint, shape, " +
  Array.from({ length: SLOTS }, (_, i) => `v${i}`).join(", ");
const PLACES = Array(9 + SLOTS).fill("?").join(", ");

/**
 * The statement that writes item rows (`conflict`: what to do with a row stored already), and the values of
 * an item's row. Shapes not stored yet are stored in the same transaction, so they go or stay with the rows.
 */
function rowWriter(raw: DatabaseSync, collector: string, conflict: string) {
  const stmt = statement(
    raw,
    `INSERT INTO item_rows (${COLUMNS}) VALUES (${PLACES}) ON CONFLICT (collector, key) ${conflict}`,
  );
  const shapes = new Map(
    (statement(raw, "SELECT fields, id FROM item_shapes").all() as { fields: string; id: number }[])
      .map((r) => [r.fields, r.id]),
  );
  const shapeOf = (fields: string): number => {
    let id = shapes.get(fields);
    if (id === undefined) {
      const prefixes = shapePrefixes(fields);
      const p = prefixes.map((_, i) => `p${i}`).join(", ");
      id = Number(
        statement(
          raw,
          `INSERT INTO item_shapes (fields, ${p}) VALUES (?, ${prefixes.map(() => "?").join(", ")})`,
        )
          .run(fields, ...prefixes).lastInsertRowid,
      );
      shapes.set(fields, id);
    }
    return id;
  };
  const args: (Slot | string | number)[] = Array(9 + SLOTS).fill(null);
  return (
    key: string,
    checksum: string | null,
    json: string,
    error: string | null,
    fp: string | null,
    firstSeen: number,
    changedAt: number,
    item?: Record<string, unknown>,
  ) => {
    let c = (item && compactObject(item, key, !json.includes("\\"))) ?? compactItem(json, key);
    const print = c && compactFingerprint(fp, c.values);
    if (print === undefined) c = null;
    args[0] = collector;
    args[1] = key;
    args[2] = checksum;
    args[3] = c ? null : json;
    args[4] = error;
    args[5] = firstSeen;
    args[6] = changedAt;
    args[7] = c ? print! : fp;
    args[8] = c ? shapeOf(c.fields) : null;
    for (let i = 0; i < SLOTS; i++) args[9 + i] = c?.values[i] ?? null;
    return stmt.run(...args as SQLInputValue[]);
  };
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
  const upsert = rowWriter(
    raw,
    collector,
    `DO UPDATE SET checksum = excluded.checksum, data = excluded.data, error = excluded.error,
       fingerprint = excluded.fingerprint, changed_at = excluded.changed_at, shape = excluded.shape, ${
      Array.from({ length: SLOTS }, (_, i) => `v${i} = excluded.v${i}`).join(", ")
    }`,
  );
  return {
    write(rows) {
      for (const u of rows) {
        const changedAt = u.changed || u.changedAt === undefined ? at : u.changedAt;
        upsert(u.key, u.checksum, u.json, u.error, u.fingerprint, at, changedAt);
      }
    },
  };
}

/**
 * Writes new items of `collector` one by one inside a run's transaction (a baseline with nothing stored writes
 * its items as it finds them). `insert` returns false for a key written already (a duplicate), leaving it.
 * `item`, when given, is the object `json` is JSON.stringify of: its row is made from it (compactObject).
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
    item?: Record<string, unknown>,
  ): boolean;
} {
  const insert = rowWriter(raw, collector, "DO NOTHING");
  return {
    insert: (key, checksum, json, error, fp, item) =>
      insert(key, checksum, json, error, fp, at, at, item).changes !== 0,
  };
}

/**
 * Deletes items of `collector` by key, inside a run's transaction (on its connection `raw`). One prepared
 * statement a key: an `IN (…)` list has a text per length, and each compiled length stayed in the statement
 * cache (about 100 KB at 400 keys).
 */
export function deleteItems(raw: DatabaseSync, collector: string, keys: readonly string[]): void {
  // The table under the items view (migration 010).
  const del = statement(raw, "DELETE FROM item_rows WHERE collector = ? AND key = ?");
  for (const key of keys) del.run(collector, key);
}

/** An item as JSON.parse gives it from the items view's `data`: its field names and values, in order. */
export interface ItemFields {
  key: string;
  error: string | null;
  /** The names of its fields (shared by the items of a shape: never change them). */
  names: readonly string[];
  /** The values, one per name: strings, numbers, booleans, null, or what JSON.parse made of an object. */
  values: unknown[];
}

/**
 * Value column `i` as itemFieldPages and itemValuePages read it, as a string's JSON without its quotes where the
 * items view writes a string: a SHA-256's bytes as their hex, and the key's mark as the key's JSON by json_quote,
 * as the view writes them (reading 119k files' SHA-256s as buffers made V8's collector a third of the read). A
 * time (a real: compactItem writes whole ms from 1970 on, and only times) comes plus 0.5, told so from an integer
 * without reading every integer as a bigint.
 */
const valueColumn = (i: number) => {
  const v = `v${i}`;
  const key = "substr(json_quote(key), 2, length(json_quote(key)) - 2)";
  return `iif(typeof(${v}) = 'blob', iif(length(${v}), lower(hex(${v})), ${key}), iif(typeof(${v}) = 'real', ${v} + 0.5, ${v}))`;
};

type Value = string | number | null;

/** A value as valueColumn reads it, as JSON.parse makes it from the items view's JSON. */
function fieldValue(v: Value): unknown {
  // A string's JSON without its quotes: only an escape makes it differ from the string.
  if (typeof v === "string") return v.includes("\\") ? JSON.parse(`"${v}"`) : v;
  if (typeof v === "number") return Number.isInteger(v) ? v : new Date(v - 0.5).toISOString();
  return null;
}

/**
 * The stored shapes by id: their field names, and whether an object of the names and values is what JSON.parse
 * makes of the JSON (`plain`: no name twice, none `__proto__`).
 */
function readShapes(raw: DatabaseSync): Map<number, { names: string[]; plain: boolean }> {
  const out = new Map<number, { names: string[]; plain: boolean }>();
  for (const { id, fields } of statement(raw, "SELECT id, fields FROM item_shapes").all() as ShapeRow[]) {
    const names = JSON.parse(fields) as string[];
    out.set(id, { names, plain: new Set(names).size === names.length && !names.includes("__proto__") });
  }
  return out;
}

type ShapeRow = { id: number; fields: string };

/** One item's JSON as the items view writes it. */
const viewData = (raw: DatabaseSync, collector: string, key: string) =>
  (statement(raw, "SELECT data FROM items WHERE collector = ? AND key = ?").get(collector, key) as {
    data: string;
  }).data;

/**
 * Items read at a time by the readers of every item of a collector: with 500 (and Kysely) reading /usr's 119k
 * files took 1.6-2.2 s under --optimize-for-size, with 100 on the connection itself 0.85-0.9 s, decoded by
 * itemFieldPages 0.55-0.6 s (its young generation is small: a bigger page outlived it and was copied on).
 */
const PAGE = 100;

/** Pages of `sql` (its rows as arrays, the key first) from the start and after a key, in key order. */
function* keyPages<T extends [string, ...unknown[]]>(
  raw: DatabaseSync,
  sql: (after: string) => string,
  collector: string,
): Generator<T[]> {
  const first = statement(raw, sql(""), true), next = statement(raw, sql(" AND key > ?"), true);
  for (let after: string | null = null;;) {
    const rows = (after === null ? first.all(collector) : next.all(collector, after)) as unknown as T[];
    if (!rows.length) return;
    after = rows[rows.length - 1][0];
    yield rows;
  }
}

/**
 * A collector's items with their fields, in key order a page at a time: what JSON.parse makes of the items
 * view's `data` (db/items_test.ts holds the two side by side), read from item_rows rather than through the view,
 * which writes each item's JSON in SQL only for it to be parsed here again (a third of the read of /usr). A
 * shape whose names an object would not keep as they are (one twice, `__proto__`) is read through the view.
 */
export function* itemFieldPages(raw: DatabaseSync, collector: string): Generator<ItemFields[]> {
  const columns = `key, error, data, shape, ${
    Array.from({ length: SLOTS }, (_, i) => valueColumn(i)).join(", ")
  }`;
  let shapes = readShapes(raw);
  // A shape stored after the read began (a run between two pages) is read then.
  const shape = (id: number) => shapes.get(id) ?? (shapes = readShapes(raw)).get(id)!;
  type Row = [key: string, error: string | null, data: string | null, shape: number | null, ...Value[]];
  const sql = (after: string) =>
    `SELECT ${columns} FROM item_rows WHERE collector = ?${after} ORDER BY key LIMIT ${PAGE}`;
  for (const rows of keyPages<Row>(raw, sql, collector)) {
    yield rows.map((r) => {
      const [key, error, data, id] = r;
      const s = id === null ? null : shape(id);
      if (!s?.plain) {
        const item = JSON.parse(s === null ? data! : viewData(raw, collector, key)) as Record<
          string,
          unknown
        >;
        return { key, error, names: Object.keys(item), values: Object.values(item) };
      }
      const values = new Array<unknown>(s.names.length);
      for (let i = 0; i < values.length; i++) values[i] = fieldValue(r[4 + i]);
      return { key, error, names: s.names, values };
    });
  }
}

/**
 * Each item's value of one field, in key order a page at a time: what JSON.parse makes of the items view's `data`
 * (undefined where the item has no such field), the field's column alone read from each row's shape.
 */
export function* itemValuePages(
  raw: DatabaseSync,
  collector: string,
  field: string,
): Generator<[key: string, value: unknown][]> {
  // Per shape: where the field is (-1: not in it), or null where an object would not keep the names as written.
  const slots = new Map<number, number | null>();
  for (const [id, { names, plain }] of readShapes(raw)) slots.set(id, plain ? names.indexOf(field) : null);
  const cases = [...slots].filter(([, at]) => at !== null && at >= 0).map(([id, at]) =>
    `WHEN ${id} THEN ${valueColumn(at!)}`
  );
  const value = cases.length ? `CASE shape ${cases.join(" ")} END` : "NULL";
  const sql = (after: string) =>
    `SELECT key, shape, iif(shape IS NULL, data, NULL), ${value} FROM item_rows WHERE collector = ?${after}
       ORDER BY key LIMIT ${PAGE}`;
  const own = (item: Record<string, unknown>) => Object.hasOwn(item, field) ? item[field] : undefined;
  type Row = [key: string, shape: number | null, data: string | null, value: Value];
  for (const rows of keyPages<Row>(raw, sql, collector)) {
    yield rows.map(([key, shape, data, v]) => {
      if (shape === null) return [key, own(JSON.parse(data!))];
      const at = slots.get(shape);
      // A shape stored after the read began, or one the view must write: the item's JSON from the view.
      if (at === undefined || at === null) return [key, own(JSON.parse(viewData(raw, collector, key)))];
      return [key, at < 0 ? undefined : fieldValue(v)];
    });
  }
}

/** A collector's items as the items view's rows, in key order a page at a time. */
export function* itemTextPages(
  raw: DatabaseSync,
  collector: string,
): Generator<{ key: string; data: string; error: string | null }[]> {
  const sql = (after: string) =>
    `SELECT key, data, error FROM items WHERE collector = ?${after} ORDER BY key LIMIT ${PAGE}`;
  for (const rows of keyPages<[string, string, string | null]>(raw, sql, collector)) {
    yield rows.map(([key, data, error]) => ({ key, data, error }));
  }
}

/** An item's fields as an object, as JSON.parse makes it (`__proto__` too as a field of its own). */
export function itemObject(f: ItemFields): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = 0; i < f.names.length; i++) {
    const name = f.names[i];
    if (name === "__proto__") {
      Object.defineProperty(o, name, {
        value: f.values[i],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else o[name] = f.values[i];
  }
  return o;
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
