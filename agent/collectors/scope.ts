// A part of a collector's items (a realtime re-collection's): keys named and key prefixes, asked in log time.
import type { Scope } from "./types.ts";

/** The first index of `sorted` whose entry is not below `s`. */
function lowerBound(sorted: readonly string[], s: string): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < s) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** How a scope is asked. */
export interface ScopeTest {
  readonly scope: Scope;
  /** Whether the item under `key` belongs to the scope. */
  has(key: string): boolean;
  /** Whether some key of the scope starts with `prefix` (a directory's path and separator: walk into it). */
  reaches(prefix: string): boolean;
}

/** The scope as a test. Prefixes under another prefix are dropped, so one binary search answers `has`. */
export function scopeTest(scope: Scope): ScopeTest {
  const sorted = [...new Set(scope.prefixes)].sort();
  const prefixes: string[] = [];
  for (const p of sorted) {
    if (!prefixes.length || !p.startsWith(prefixes[prefixes.length - 1])) prefixes.push(p);
  }
  const keys = new Set(scope.keys);
  const all = [...new Set([...scope.keys, ...prefixes])].sort();
  // Of prefix-free sorted prefixes, only the greatest one not above `key` can be its prefix.
  const underPrefix = (key: string) => {
    const i = lowerBound(prefixes, key);
    const p = i < prefixes.length && prefixes[i] === key ? prefixes[i] : prefixes[i - 1];
    return p !== undefined && key.startsWith(p);
  };
  return {
    scope,
    has: (key) => keys.has(key) || underPrefix(key),
    reaches(prefix) {
      if (underPrefix(prefix)) return true;
      const i = lowerBound(all, prefix);
      return i < all.length && all[i].startsWith(prefix);
    },
  };
}

/** The range of keys a prefix covers: from it (inclusive) to the first text above all its extensions. */
export function prefixRange(prefix: string): [from: string, to: string] {
  const last = prefix.charCodeAt(prefix.length - 1);
  // SQLite orders text by its UTF-8 bytes, JavaScript by UTF-16 units: the same order for an ASCII last unit.
  if (!(last < 0x7f)) {
    throw new RangeError(`Scope prefix ${JSON.stringify(prefix)} must end in an ASCII character`);
  }
  return [prefix, prefix.slice(0, -1) + String.fromCharCode(last + 1)];
}
