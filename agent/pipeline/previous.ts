// A collector's stored fingerprints (or checksums) as a run asks for them: a window of rows in key order, so a
// run of any size holds a window of them, never every key. A collector that reports in key order (the files
// walk) reads the stored rows once, front to back; any other order is answered too, at the cost of re-reading.
import { keyOrder } from "../key_order.ts";

/** Reads up to `limit` stored rows [key, value] in key order: keys after `after`, or from `from` (inclusive). */
export type LoadRows = (start: { after: string } | { from: string }, limit: number) => [string, string][];

/** Reads up to `limit` stored keys in key order strictly between `after` and `before` (null: no bound). */
export type LoadKeys = (after: string | null, before: string | null, limit: number) => string[];

/** What a key's value reads as once it was reported this run (a real value is never empty). */
export const REPORTED = "";

/** Rows read at a time. */
export const WINDOW = 1024;

/** Key ranges read, both ends included; hi null: to the last stored key. */
type Range = [lo: string, hi: string | null];

export class StoredWindow {
  /** The window's rows: key → stored value, or REPORTED. */
  #rows = new Map<string, string>();
  /** Where the range being read began (inclusive); null before the first read. */
  #rangeLo: string | null = null;
  /** The window holds the keys after this one (null: from #rangeLo on) … */
  #after: string | null = null;
  /** … up to this one (null: to the last stored key). */
  #hi: string | null = null;
  /** Ranges read before the current one. */
  #closed: Range[] = [];
  /** Stored rows read and passed without being reported: gone, unless asked for later. */
  #passed = new Map<string, string>();
  /** Rows read in all. */
  loaded = 0;

  constructor(
    private readonly load: LoadRows,
    private readonly loadKeys: LoadKeys,
    private readonly size = WINDOW,
  ) {}

  #inWindow(key: string): boolean {
    if (this.#rangeLo === null) return false;
    if (this.#after === null ? keyOrder(key, this.#rangeLo) < 0 : keyOrder(key, this.#after) <= 0) {
      return false;
    }
    return this.#hi === null || keyOrder(key, this.#hi) <= 0;
  }

  /** Whether `key` lies in what was read before the window (so its row, if any, was seen already). */
  #readBefore(key: string): boolean {
    const within = (lo: string, hi: string | null) =>
      keyOrder(key, lo) >= 0 && (hi === null || keyOrder(key, hi) <= 0);
    if (this.#rangeLo !== null && this.#after !== null && within(this.#rangeLo, this.#after)) return true;
    return this.#closed.some(([lo, hi]) => within(lo, hi));
  }

  /** The stored value of `key`: undefined when none is stored, REPORTED once reported this run. */
  get(key: string): string | undefined {
    if (this.#inWindow(key)) return this.#rows.get(key);
    const passed = this.#passed.get(key);
    if (passed !== undefined) return passed;
    if (this.#readBefore(key)) {
      // Read and not passed: reported already, if it is stored at all.
      const row = this.load({ from: key }, 1);
      this.loaded += row.length;
      return row[0]?.[0] === key ? REPORTED : undefined;
    }
    this.#move(key);
    return this.#rows.get(key);
  }

  /** Marks `key` reported: it is not gone. */
  report(key: string): void {
    if (this.#inWindow(key)) {
      if (this.#rows.has(key)) this.#rows.set(key, REPORTED);
    } else this.#passed.delete(key);
  }

  /** Moves the window to hold `key`: onwards when `key` lies ahead of it, else a new range from `key`. */
  #move(key: string): void {
    const ahead = this.#rangeLo !== null && this.#hi !== null && keyOrder(key, this.#hi) > 0;
    this.#retire();
    if (!ahead) {
      this.#close();
      this.#rangeLo = key;
      this.#after = null;
    } else this.#after = this.#hi;
    for (;;) {
      const rows = this.load(this.#after === null ? { from: key } : { after: this.#after }, this.size);
      this.loaded += rows.length;
      this.#hi = rows.length === this.size ? rows[rows.length - 1][0] : null;
      for (const [k, v] of rows) {
        const passed = this.#passed.get(k);
        if (passed !== undefined) {
          this.#passed.delete(k);
          this.#rows.set(k, passed);
        } else this.#rows.set(k, this.#readBefore(k) ? REPORTED : v);
      }
      if (this.#hi === null || keyOrder(key, this.#hi) <= 0) return;
      // `key` lies beyond these rows: they were passed (the walk went on without them).
      this.#retire();
      this.#after = this.#hi;
    }
  }

  /** The window's rows not reported go to the passed ones. */
  #retire(): void {
    for (const [k, v] of this.#rows) if (v !== REPORTED) this.#passed.set(k, v);
    this.#rows.clear();
  }

  /** The range being read is done with. */
  #close(): void {
    if (this.#rangeLo !== null) this.#closed.push([this.#rangeLo, this.#hi]);
    this.#rangeLo = this.#after = this.#hi = null;
  }

  /**
   * The stored keys not reported this run, `page` at a time: the ones read and passed, and the ones never read
   * (outside every range the run read). Call once the run has reported everything.
   */
  *unreported(page: number): Generator<string[]> {
    this.#retire();
    this.#close();
    let out: string[] = [];
    for (const k of this.#passed.keys()) {
      out.push(k);
      if (out.length === page) yield out, out = [];
    }
    for (const [after, before] of gaps(this.#closed)) {
      for (let from = after;;) {
        const keys = this.loadKeys(from, before, page);
        this.loaded += keys.length;
        for (const k of keys) {
          out.push(k);
          if (out.length === page) yield out, out = [];
        }
        if (keys.length < page) break;
        from = keys[keys.length - 1];
      }
    }
    if (out.length) yield out;
  }

  clear(): void {
    this.#rows.clear();
    this.#passed.clear();
    this.#closed = [];
  }
}

/** What lies outside `ranges`: the keys strictly between `after` and `before` of each gap (null: no bound). */
export function gaps(ranges: readonly Range[]): [after: string | null, before: string | null][] {
  const sorted = [...ranges].sort((a, b) => keyOrder(a[0], b[0]));
  const out: [string | null, string | null][] = [];
  let after: string | null = null;
  let first = true;
  for (const [lo, hi] of sorted) {
    if (first || keyOrder(lo, after!) > 0) out.push([after, lo]);
    first = false;
    if (hi === null) return out;
    if (after === null || keyOrder(hi, after) > 0) after = hi;
  }
  out.push([after, null]);
  return out;
}
