// The staging area of one run: what a collector finds goes to temporary tables a page at a time, so a run of
// any size holds a page of items in memory, never the whole collection; the run's transaction then reads it
// back against the stored items (run.ts). Temporary tables live in SQLite's temp file, not in the heap. What
// goes from them into the main tables is written by those tables' owners (db/items.ts, outbox.ts, contents.ts);
// the stage's own joins of its tables with the stored items are read here.
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { Content, Item, ItemSink } from "../collectors/types.ts";
import { COLLECTOR_NAME } from "../collectors/spec.ts";
import { prefixRange, type ScopeTest } from "../collectors/scope.ts";
import type { Db } from "../../db/open.ts";
import { dataChecksum, itemChecksum, type SeenItem, seenItem, type StoredItem } from "./diff.ts";
import { inventoryBody, inventoryTableText, type WireRecord } from "./records.ts";
import { exclusive, rawTransaction } from "../../db/transaction.ts";
import { statement } from "../../db/statements.ts";
import {
  newItemWriter,
  STORED,
  stored,
  storedChecksums,
  storedFingerprints,
  type StoredRange,
  storedRange,
  type StoredRow,
  storedUnreadable,
} from "../../db/items.ts";
import { appendStagedInventory, inventoryRecordText, outboxBatchAppender } from "../../db/outbox.ts";
import { REPORTED, StoredWindow } from "./previous.ts";
import { contentWriter, storeStagedContents } from "../../db/contents.ts";
import type { MirrorDraft } from "./mirrors.ts";

/** Rows kept in memory before they are written to the staging tables. */
export const PAGE = 500;
/** Duplicate keys named in the run's warning (all are counted). */
const DUPLICATE_EXAMPLES = 3;

/** How a stage makes the inventory bodies of its items (see inventoryBody). */
export interface BodyOptions {
  dataType: string;
  /** Whether the records are for AMA's streams (a table part is made). */
  toAma: boolean;
  /** Whether the extra part is kept (a full forward endpoint takes the records). */
  extras: boolean;
}

/** A staged item with its stored version (undefined for a new key). */
export interface StagedPair {
  id: number;
  next: SeenItem;
  prev: StoredItem | undefined;
}

/**
 * What one run of a collector found. Items handed over go to a temporary table (one row per key: a unique
 * index drops duplicates); keys said to be the same (fingerprint matched) only mark their entry in
 * `previous`, so an unchanged rescan writes nothing per item and no set of keys is kept beside the map.
 */
export class Stage implements ItemSink {
  /** Staged items that carry an error. */
  errors = 0;
  duplicates = 0;
  readonly duplicateExamples: string[] = [];
  /**
   * The fingerprints of the stored items: what the collector gets as `ctx.previous`, read a window at a time.
   * A key reported this run reads as empty from then on.
   */
  readonly previous: StoredWindow;
  /**
   * The checksums of the stored items that have no fingerprint and no error (items of collectors that give
   * no fingerprints): an item handed over with the same JSON is the same, and is not staged either.
   */
  #sums: StoredWindow;
  /** Counts the stored items of a key range (sameUnder). */
  readonly #range: (from: string, to: string) => StoredRange;
  #staged = 0;
  #same = 0;
  /** How items are staged with their inventory bodies (the run sends a snapshot), or false. */
  #bodies: BodyOptions | false = false;
  /** Whether items are staged with their checksum (made while the collector waits on I/O: a baseline). */
  #checksums = false;
  /** key, data, error, fingerprint, checksum, inventory body (table, extra), inventory RecordId */
  #rows: [
    string,
    string,
    string | null,
    string | null,
    string | null,
    string | null,
    string | null,
    string | null,
  ][] = [];
  #contents: Content[] = [];
  readonly #items: string;
  readonly #contentsTable: string;
  /** Only these items are looked at (a realtime re-collection); undefined: all of the collector's. */
  readonly #scope: ScopeTest | undefined;

  private constructor(
    private readonly db: Db,
    private readonly raw: DatabaseSync,
    private readonly collector: string,
    private readonly key: (item: Item) => string,
    scope?: ScopeTest,
  ) {
    // The name is part of the staging tables' names.
    if (!COLLECTOR_NAME.test(collector)) {
      throw new RangeError(`Cannot stage collector ${JSON.stringify(collector)}: not a collector name`);
    }
    this.#items = `temp.stage_${collector}`;
    this.#contentsTable = `temp.stage_contents_${collector}`;
    this.#scope = scope;
    // A partial run knows only the stored items of its scope: what it does not find there is gone, nothing else.
    const prints = storedFingerprints(raw, collector, scope?.scope);
    const sums = storedChecksums(raw, collector, scope?.scope);
    this.previous = new StoredWindow(prints.rows, prints.keys);
    this.#range = storedRange(raw, collector);
    this.#sums = new StoredWindow(sums.rows, sums.keys);
  }

  /** The prepared statement of `sql` (one per text for the process: db/statements.ts). */
  #prepare(sql: string): StatementSync {
    return statement(this.raw, sql, true);
  }

  /** Fresh staging tables for a run of `collector` (whatever an earlier, interrupted run left is dropped). */
  static async open(
    db: Db,
    raw: DatabaseSync,
    collector: string,
    key: (item: Item) => string,
    opts: { bodies?: BodyOptions | false; checksums?: boolean; scope?: ScopeTest } = {},
  ): Promise<Stage> {
    const s = new Stage(db, raw, collector, key, opts.scope);
    s.#bodies = opts.bodies ?? false;
    s.#checksums = opts.checksums ?? false;
    await s.#locked(() => {
      s.#dropTables();
      raw.exec(
        `CREATE TABLE ${s.#items} (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, data TEXT NOT NULL,
          error TEXT, fingerprint TEXT, checksum TEXT, body TEXT, extra_body TEXT, record_id TEXT)`,
      );
      raw.exec(
        `CREATE TABLE ${s.#contentsTable} (checksum TEXT PRIMARY KEY, text TEXT NOT NULL, size INTEGER NOT NULL)`,
      );
    });
    return s;
  }

  /** Distinct keys found (handed over or said to be the same); staged ones count once written. */
  get count(): number {
    return this.#staged + this.#same;
  }

  #duplicate(key: string): void {
    if (++this.duplicates <= DUPLICATE_EXAMPLES) this.duplicateExamples.push(key);
  }

  add(item: Item, fingerprint?: string): void | Promise<void> {
    const key = this.key(item);
    // Outside the scope of a partial run: not looked at (its stored version is not known here either).
    if (this.#scope && !this.#scope.has(key)) return;
    const s = seenItem(key, item, fingerprint || null);
    const before = this.previous.get(s.key);
    const sum = this.#sums.get(s.key);
    if (before === REPORTED || sum === REPORTED) return this.#duplicate(s.key);
    if (before !== undefined) this.previous.report(s.key);
    let checksum = this.#checksums && s.error === null ? itemChecksum(s.json, s.fingerprint) : null;
    if (sum !== undefined) {
      this.#sums.report(s.key);
      // Stored as it is, without fingerprint: the same as before, nothing to stage.
      if (s.error === null && s.fingerprint === null && (checksum ??= dataChecksum(s.json)) === sum) {
        this.#same++;
        return;
      }
    }
    // What the run's transaction would compute is computed now, while the collector waits on I/O.
    const body = this.#bodies && s.error === null ? inventoryBody(item, this.#bodies) : null;
    this.#rows.push([
      s.key,
      s.json,
      s.error,
      s.fingerprint,
      checksum,
      body?.la ?? null,
      body?.extra ?? null,
      body ? crypto.randomUUID() : null,
    ]);
    if (this.#rows.length >= PAGE) return this.flush();
  }

  same(key: string): void {
    const before = this.previous.get(key);
    // Unknown (not a stored fingerprint) or already reported: nothing to keep twice.
    if (before === undefined || before === REPORTED) return this.#duplicate(key);
    this.previous.report(key);
    this.#same++;
  }

  sameUnder(prefix: string, count: number): boolean {
    // A partial run looks only at its scope's items.
    if (this.#scope) return false;
    const [from, to] = prefixRange(prefix);
    // As many stored there as said, each with its fingerprint (none lost since, none kept with an error).
    const stored = this.#range(from, to);
    if (stored.items !== count || stored.printed !== count || stored.last === undefined) return false;
    if (!this.previous.reportRange(from, stored.last)) return false;
    this.#same += count;
    return true;
  }

  content(c: Content): void | Promise<void> {
    this.#contents.push(c);
    if (this.#contents.length >= 64) return this.flush();
  }

  /** Writes what is buffered. */
  flush(): Promise<void> {
    const rows = this.#rows, contents = this.#contents;
    if (!rows.length && !contents.length) return Promise.resolve();
    this.#rows = [];
    this.#contents = [];
    return this.#locked(() =>
      rawTransaction(this.raw, () => {
        const ins = this.#prepare(
          `INSERT INTO ${this.#items} (key, data, error, fingerprint, checksum, body, extra_body, record_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
        );
        for (const r of rows) {
          if (!ins.run(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]).changes) this.#duplicate(r[0]);
          else {
            this.#staged++;
            if (r[2] !== null) this.errors++;
          }
        }
        const insc = this.#prepare(
          `INSERT INTO ${this.#contentsTable} (checksum, text, size) VALUES (?, ?, ?) ON CONFLICT (checksum) DO NOTHING`,
        );
        for (const c of contents) insc.run(c.checksum, c.text, c.size);
      }, { tempOnly: true })
    );
  }

  /**
   * Staged items after `afterId` with their stored versions, a page at a time. Called inside the run's
   * transaction (it holds the connection). The stored versions are read by the page's keys: a join of the
   * staging table with the items view made SQLite build the collector's whole view for each page (MATERIALIZE),
   * which cost a run that found 17,800 files changed some 5 s and 600 MB of temp files.
   */
  page(afterId: number): StagedPair[] {
    const rows = this.#prepare(
      `SELECT id, key, data, error, fingerprint, checksum FROM ${this.#items} WHERE id > ? ORDER BY id
       LIMIT ${PAGE}`,
    ).all(afterId) as unknown as [number, string, string, string | null, string | null, string | null][];
    if (!rows.length) return [];
    const before = new Map<string, StoredItem>();
    const storedRows = this.#prepare(
      `SELECT ${STORED} FROM main.items WHERE collector = ? AND key IN
         (SELECT key FROM ${this.#items} WHERE id > ? ORDER BY id LIMIT ${PAGE})`,
    ).all(this.collector, afterId) as unknown as StoredRow[];
    for (const r of storedRows) before.set(r[0], stored(r));
    return rows.map((r) => ({
      id: r[0],
      next: { key: r[1], json: r[2], error: r[3], fingerprint: r[4], checksum: r[5] ?? undefined },
      prev: before.get(r[1]),
    }));
  }

  /**
   * The stored items this run did not report (gone, or under a prefix the collector could not see), a page at
   * a time: those known by fingerprint or checksum and not reported, then the unreadable ones (from their
   * index) that were not staged. Deleting a page before asking for the next one is safe.
   */
  *unreported(): Generator<StoredItem[]> {
    const byKeys = this.#prepare(
      `SELECT ${STORED} FROM main.items WHERE collector = ? AND key IN (SELECT value FROM json_each(?))`,
    );
    for (const known of [this.previous, this.#sums]) {
      for (const keys of known.unreported(PAGE)) {
        yield (byKeys.all(this.collector, JSON.stringify(keys)) as unknown as StoredRow[]).map(stored);
      }
    }
    const unread = storedUnreadable(
      this.raw,
      this.collector,
      `NOT EXISTS (SELECT 1 FROM ${this.#items} s WHERE s.key = r.key)`,
      PAGE,
    );
    for (let after: string | null = null;;) {
      const rows = unread(after);
      if (!rows.length) return;
      after = rows[rows.length - 1].key;
      const scope = this.#scope;
      yield scope ? rows.filter((r) => scope.has(r.key)) : rows;
    }
  }

  /**
   * Writes the inventory records of the staged items without error (staged with `bodies`) into the outbox,
   * in one statement: the table part `{` + `head.la` + the body's members + `}` ('' when the records are not
   * for AMA), and, when extras are kept, `{"RecordId":"<its id, drawn when staged>"` + `head.extra` + the
   * extra body's members + `}` (see inventoryHead). Returns how many.
   */
  snapshot(stream: string, head: { la: string | null; extra: string }, at: number): number {
    if (!this.#bodies) throw new Error("snapshot() needs a stage opened with bodies");
    if (head.la === null && !this.#bodies.extras) return 0; // nothing of it goes anywhere
    return appendStagedInventory(this.raw, this.#items, stream, head, at);
  }

  /** Stored items without error that have no staged body (same as before, or not seen), a page at a time. */
  *unstagedGood(): Generator<Item[]> {
    const unstaged =
      `NOT EXISTS (SELECT 1 FROM ${this.#items} s WHERE s.key = i.key AND s.record_id IS NOT NULL)`;
    const first = this.#prepare(
      `SELECT key, data FROM main.items i WHERE collector = ? AND error IS NULL AND ${unstaged}
       ORDER BY key LIMIT ${PAGE}`,
    );
    const next = this.#prepare(
      `SELECT key, data FROM main.items i WHERE collector = ? AND error IS NULL AND key > ? AND ${unstaged}
       ORDER BY key LIMIT ${PAGE}`,
    );
    for (let after: string | null = null;;) {
      const rows =
        (after === null ? first.all(this.collector) : next.all(this.collector, after)) as unknown as [
          string,
          string,
        ][];
      if (!rows.length) return;
      after = rows[rows.length - 1][0];
      yield rows.map((r) => JSON.parse(r[1]) as Item);
    }
  }

  /** Moves the staged contents into `contents` (inside the run's transaction). */
  storeContents(at: number): void {
    storeStagedContents(this.raw, this.#contentsTable, at);
  }

  /** Drops the staging tables (their rows go with them). */
  close(): Promise<void> {
    this.#rows = [];
    this.#contents = [];
    this.previous.clear();
    this.#sums.clear();
    return this.#locked(() => this.#dropTables());
  }

  #dropTables(): void {
    this.raw.exec(`DROP TABLE IF EXISTS ${this.#items}`);
    this.raw.exec(`DROP TABLE IF EXISTS ${this.#contentsTable}`);
  }

  /** Runs `fn` while holding Kysely's connection (see exclusive): these writes never join another's transaction. */
  async #locked(fn: () => void): Promise<void> {
    await exclusive(this.db, fn);
  }
}

/** What a run's store() reads of its sink: the staging area, or the tables themselves (DirectSink). */
export type RunSink =
  & Pick<
    Stage,
    | "count"
    | "errors"
    | "duplicates"
    | "duplicateExamples"
    | "previous"
    | "page"
    | "unreported"
    | "snapshot"
    | "unstagedGood"
    | "storeContents"
    | "close"
  >
  & ItemSink;

/** Nothing stored: what a run with nothing stored gets as `ctx.previous`. */
const NOTHING_STORED = new StoredWindow(() => [], () => []);

/**
 * The sink of a baseline with nothing stored: each item, its inventory record and captured content go straight
 * into their tables, inside the run's transaction, which was opened before collecting (runCollector): nothing is
 * staged, nor copied at the end. The items' times and their records' TimeGenerated are the run's start.
 */
export class DirectSink implements RunSink {
  errors = 0;
  duplicates = 0;
  readonly duplicateExamples: string[] = [];
  readonly previous = NOTHING_STORED;
  #count = 0;
  #records = 0;
  readonly #items: ReturnType<typeof newItemWriter>;
  readonly #outbox: ReturnType<typeof outboxBatchAppender>;
  readonly #contents: ReturnType<typeof contentWriter>;
  /** The records' head as an object, where they are for AMA's table only (inventoryTableText). */
  readonly #tableHead: WireRecord | undefined;

  /** `records`: where and how the inventory records go, when the run sends a snapshot and someone takes it. */
  constructor(
    raw: DatabaseSync,
    collector: string,
    private readonly key: (item: Item) => string,
    private readonly at: number,
    private readonly records?: {
      stream: string;
      head: { la: string | null; extra: string };
      bodies: BodyOptions;
    },
    /** The collector's mirrors, written as the items are stored (pipeline/mirrors.ts). */
    private readonly mirror?: MirrorDraft,
  ) {
    this.#items = newItemWriter(raw, collector, at);
    this.#outbox = outboxBatchAppender(raw);
    this.#contents = contentWriter(raw, at);
    const la = records?.head.la;
    this.#tableHead = la != null && !records!.bodies.extras ? JSON.parse(`{${la}}`) : undefined;
  }

  get count(): number {
    return this.#count;
  }

  /** What the database threw at a write of this sink (the run then fails as a storage failure). */
  writeError: unknown;

  /** Runs a write; an error of the database is kept before it is thrown on. */
  #write<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      this.writeError ??= e;
      throw e;
    }
  }

  add(item: Item, fingerprint?: string): void {
    const s = seenItem(this.key(item), item, fingerprint || null);
    const checksum = s.error === null ? itemChecksum(s.json, s.fingerprint) : null;
    // The row is made from the item itself where s.json is JSON.stringify of it whole (an `error` is left out).
    const whole = "error" in item ? undefined : item;
    if (!this.#write(() => this.#items.insert(s.key, checksum, s.json, s.error, s.fingerprint, whole))) {
      if (++this.duplicates <= DUPLICATE_EXAMPLES) this.duplicateExamples.push(s.key);
      return;
    }
    this.#count++;
    this.mirror?.add(s.key, s.json, s.error);
    if (s.error !== null) {
      this.errors++;
      return;
    }
    const r = this.records;
    if (!r || (r.head.la === null && !r.bodies.extras)) return;
    const table = this.#tableHead && inventoryTableText(item, this.#tableHead, r.bodies.dataType);
    if (table !== undefined) {
      this.#write(() => this.#outbox.append(r.stream, table, null, this.at));
      this.#records++;
      return;
    }
    const body = inventoryBody(item, r.bodies);
    // A RecordId only where the record has its extra part (records for AMA mostly have none).
    const text = inventoryRecordText(
      r.head,
      body.la,
      body.extra,
      body.extra === null ? "" : crypto.randomUUID(),
    );
    this.#write(() => this.#outbox.append(r.stream, text.record, text.extra, this.at));
    this.#records++;
  }

  /** Writes the inventory records still held (the outbox takes them a batch at a time). */
  flush(): Promise<void> {
    this.#write(() => this.#outbox.flush());
    return Promise.resolve();
  }

  same(key: string): void {
    // Nothing is stored, so nothing can be the same.
    if (++this.duplicates <= DUPLICATE_EXAMPLES) this.duplicateExamples.push(key);
  }

  content(c: Content): void {
    this.#write(() => this.#contents.store(c));
  }

  page(): StagedPair[] {
    return [];
  }

  *unreported(): Generator<StoredItem[]> {}

  /** The inventory records were written as they came: how many. */
  snapshot(): number {
    return this.#records;
  }

  *unstagedGood(): Generator<Item[]> {}

  storeContents(): void {}

  close(): Promise<void> {
    return Promise.resolve();
  }
}
