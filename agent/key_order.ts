// The order of item keys as the items table holds them (SQLite's BINARY collation of UTF-8 text: code point order).

/** A UTF-16 code unit where JavaScript's order and code point order can part: a surrogate or U+E000–U+FFFF. */
const HIGH = /[\ud800-\uffff]/;

/**
 * Compares two keys in code point order, as SQLite orders them. JavaScript's `<` compares UTF-16 code units,
 * which puts characters above U+FFFF (surrogate pairs) before U+E000–U+FFFF; here they come after, as in UTF-8.
 * The two orders differ only where both keys hold such units, so other keys take JavaScript's own compare.
 */
export function keyOrder(a: string, b: string): number {
  if (a === b) return 0;
  if (!HIGH.test(a) || !HIGH.test(b)) return a < b ? -1 : 1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i), y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** Whether `s` holds a unit where the two orders can part: a key without one compares as JavaScript compares it. */
export function hasHighUnits(s: string): boolean {
  return HIGH.test(s);
}

/** keyOrder for keys none of which holds such a unit (hasHighUnits): JavaScript's own compare, the same order. */
export function plainKeyOrder(a: string, b: string): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

/**
 * A key compared against many (a bound of a window of keys): whether it holds a high unit is looked at once, not
 * at each compare. `order(k)` is keyOrder(k, key).
 */
export class KeyBound {
  readonly #high: boolean;
  constructor(readonly key: string) {
    this.#high = hasHighUnits(key);
  }
  order(k: string): number {
    return this.#high ? keyOrder(k, this.key) : plainKeyOrder(k, this.key);
  }
}
