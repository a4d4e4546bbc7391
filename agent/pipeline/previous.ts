// A collector's stored fingerprints (or checksums) as a run asks for them: a window of rows in key order, so a
// run of any size holds a window of them, never every key. A collector that reports in key order (the files
// walk) reads the stored rows once, front to back; any other order is answered too, at the cost of re-reading.
import { hasHighUnits, KeyBound, keyOrder, plainKeyOrder } from "../key_order.ts";

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
  /** The window's keys in key order, and their stored values (REPORTED once reported). */
  #keys: string[] = [];
  #values: string[] = [];
  /** Where the next key asked is looked for first: after the last one found (a run asks in key order). */
  #cursor = 0;
  /** How keys are compared with the window's: plainKeyOrder unless a key of the window holds a high unit. */
  #order: (a: string, b: string) => number = plainKeyOrder;
  /** Where the range being read began (inclusive); null before the first read. */
  #rangeLo: KeyBound | null = null;
  /** The window holds the keys after this one (null: from #rangeLo on) … */
  #after: KeyBound | null = null;
  /** … up to this one (null: to the last stored key). */
  #hi: KeyBound | null = null;
  /** Ranges read before the current one. */
  #closed: Range[] = [];
  /** Stored rows read and passed without being reported: gone, unless asked for later. */
  #passed = new Map<string, string>();
  /** The key asked last when it lay in the window (a run asks a key, then reports it), and where it is (-1: not). */
  #lastKey: string | null = null;
  #lastAt = -1;
  /** Rows read in all. */
  loaded = 0;

  constructor(
    private readonly load: LoadRows,
    private readonly loadKeys: LoadKeys,
    private readonly size = WINDOW,
  ) {}

  #inWindow(key: string): boolean {
    if (this.#rangeLo === null) return false;
    if (this.#after === null ? this.#rangeLo.order(key) < 0 : this.#after.order(key) <= 0) return false;
    return this.#hi === null || this.#hi.order(key) <= 0;
  }

  /** Where `key` (one in the window's range) is among the window's keys; -1 when it is not stored. */
  #find(key: string): number {
    if (key === this.#lastKey) return this.#lastAt;
    const keys = this.#keys, order = this.#order, n = keys.length;
    let i = this.#cursor;
    if (i >= n || keys[i] !== key) {
      if (i > 0 && order(keys[i - 1], key) >= 0) {
        // Behind the cursor (asked out of order): a binary search of the keys before it.
        let lo = 0, hi = i - 1;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (order(keys[mid], key) < 0) lo = mid + 1;
          else hi = mid;
        }
        i = lo;
      } else {
        // Ahead: the keys passed on the way were not asked for (gone, unless asked later).
        while (i < n && order(keys[i], key) < 0) i++;
      }
    }
    const at = i < n && keys[i] === key ? i : -1;
    this.#cursor = at >= 0 ? at + 1 : i;
    this.#lastKey = key;
    this.#lastAt = at;
    return at;
  }

  /** Whether `key` lies in a range read before the current one (so its row, if any, was seen already). */
  #readEarlier(key: string): boolean {
    return this.#closed.length > 0 &&
      this.#closed.some(([lo, hi]) => keyOrder(key, lo) >= 0 && (hi === null || keyOrder(key, hi) <= 0));
  }

  /** Whether `key` lies in what was read before the window (so its row, if any, was seen already). */
  #readBefore(key: string): boolean {
    const lo = this.#rangeLo, after = this.#after;
    if (lo !== null && after !== null && lo.order(key) >= 0 && after.order(key) <= 0) return true;
    return this.#readEarlier(key);
  }

  /** The stored value of `key`: undefined when none is stored, REPORTED once reported this run. */
  get(key: string): string | undefined {
    if (key !== this.#lastKey && !this.#inWindow(key)) {
      const passed = this.#passed.get(key);
      if (passed !== undefined) return passed;
      if (this.#readBefore(key)) {
        // Read and not passed: reported already, if it is stored at all.
        const row = this.load({ from: key }, 1);
        this.loaded += row.length;
        return row[0]?.[0] === key ? REPORTED : undefined;
      }
      this.#move(key);
    }
    const at = this.#find(key);
    return at < 0 ? undefined : this.#values[at];
  }

  /** Marks `key` reported: it is not gone. */
  report(key: string): void {
    if (key === this.#lastKey || this.#inWindow(key)) {
      const at = this.#find(key);
      if (at >= 0) this.#values[at] = REPORTED;
    } else this.#passed.delete(key);
  }

  /**
   * Marks every stored key from `from` to `last` (both included: the last stored key of the range) reported,
   * reading none that the window does not hold yet: the keys of a subtree its collector found unchanged as a whole.
   * As report() of each, the run asking in key order: the keys before `from` are where the window passes them, none
   * in the range is asked after. False when nothing is marked (the range lies where the window has read already).
   */
  reportRange(from: string, last: string): boolean {
    // The window moved to `from`, as for a key asked there: what lies before it is passed as usual.
    this.get(from);
    if (!this.#inWindow(from)) return false;
    const keys = this.#keys, values = this.#values, order = this.#order;
    let i = 0, hi = keys.length;
    while (i < hi) {
      const mid = (i + hi) >> 1;
      if (order(keys[mid], from) < 0) i = mid + 1;
      else hi = mid;
    }
    for (; i < keys.length && order(keys[i], last) <= 0; i++) values[i] = REPORTED;
    if (this.#hi !== null && this.#hi.order(last) > 0) {
      // The range goes on past the window: it goes on after the range's last key, its rows never read.
      this.#retire();
      this.#after = this.#hi = new KeyBound(last);
    }
    return true;
  }

  /** Moves the window to hold `key`: onwards when `key` lies ahead of it, else a new range from `key`. */
  #move(key: string): void {
    const ahead = this.#rangeLo !== null && this.#hi !== null && this.#hi.order(key) > 0;
    this.#retire();
    if (!ahead) {
      this.#close();
      this.#rangeLo = new KeyBound(key);
      this.#after = null;
    } else this.#after = this.#hi;
    for (;;) {
      const rows = this.load(this.#after === null ? { from: key } : { after: this.#after.key }, this.size);
      this.loaded += rows.length;
      this.#hi = rows.length === this.size ? new KeyBound(rows[rows.length - 1][0]) : null;
      let high = false;
      // The rows lie after what this range read before them: only an earlier range can have seen them.
      for (let i = 0; i < rows.length; i++) {
        const k = rows[i][0], v = rows[i][1];
        const passed = this.#passed.size ? this.#passed.get(k) : undefined;
        if (passed !== undefined) this.#passed.delete(k);
        this.#keys.push(k);
        this.#values.push(passed ?? (this.#readEarlier(k) ? REPORTED : v));
        high ||= hasHighUnits(k);
      }
      this.#order = high ? keyOrder : plainKeyOrder;
      if (this.#hi === null || this.#hi.order(key) <= 0) return;
      // `key` lies beyond these rows: they were passed (the walk went on without them).
      this.#retire();
      this.#after = this.#hi;
    }
  }

  /** The window's rows not reported go to the passed ones. */
  #retire(): void {
    const keys = this.#keys, values = this.#values;
    for (let i = 0; i < keys.length; i++) if (values[i] !== REPORTED) this.#passed.set(keys[i], values[i]);
    this.#empty();
  }

  /** The window holds no row. */
  #empty(): void {
    this.#keys = [];
    this.#values = [];
    this.#cursor = 0;
    this.#lastKey = null;
  }

  /** The range being read is done with. */
  #close(): void {
    if (this.#rangeLo !== null) this.#closed.push([this.#rangeLo.key, this.#hi?.key ?? null]);
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
    this.#empty();
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
