// The subtrees a files run saw whole and stored whole, kept for the next run: a directory's path, the digest of its
// subtree as the walk's read-ahead thread read it, or as a walk without one made it (listing_ring.ts SubtreeDigest:
// names and stats, ctime included),
// and how many items the run reported under it. A rescan whose thread reads the same digest again reports those
// items the same without reading, comparing or even naming them (walk_posix.ts SubtreeHooks): an unchanged rescan
// costs about the reading of the tree. A subtree is kept only when every item under it was stored without error
// (an unreadable file is tried again next time), and only for the walk of the same rule, settings, owner and group
// names and fingerprint scheme (`context`): anything else that shapes an item but is not in a stat.
import { keyOrder } from "../../key_order.ts";
import type { SubtreeHooks } from "../../host/files/walk_posix.ts";

/** A kept subtree: its directory's path, its digest, the items the run reported under it. */
export type Subtree = [path: string, digest: string, items: number];

/** The kept subtrees of each walk, by its context: what Collected.ahead carries to the next run. */
export type KeptSubtrees = Record<string, Subtree[]>;

/**
 * The fewest items under a directory for its subtree to be kept: going past a smaller one saves less than looking
 * ahead for it and marking its stored items costs.
 */
export const SUBTREE_MIN_ITEMS = 32;

/** Sorted as the walk meets their contents: by the key prefix of each directory. */
const byPrefix = (a: Subtree, b: Subtree) => keyOrder(a[0] + "/", b[0] + "/");

/** Whether `v` (parsed from text kept between runs) holds kept subtrees. */
function isKept(v: unknown): v is KeptSubtrees {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  return Object.values(v).every((list) =>
    Array.isArray(list) &&
    list.every((s) =>
      Array.isArray(s) && s.length === 3 && typeof s[0] === "string" && typeof s[1] === "string" &&
      Number.isSafeInteger(s[2]) && s[2] >= 0
    )
  );
}

export class Subtrees {
  /** The last run's, by context, sorted byPrefix. */
  readonly #last = new Map<string, Subtree[]>();
  /** This run's, by context, by path. */
  readonly #next = new Map<string, Map<string, Subtree>>();
  /** Paths of items not stored whole: no subtree that holds one is kept. */
  readonly #unclean: string[] = [];

  /** From what the last run kept (anything else: none). */
  constructor(last: unknown) {
    if (!isKept(last)) return;
    for (const [context, list] of Object.entries(last)) this.#last.set(context, [...list].sort(byPrefix));
  }

  /**
   * The hooks of one walk whose items depend on nothing but their stats and `context`. `same(prefix, items)` says
   * the stored items under the key prefix the same (false: it cannot, and the walk reads the subtree).
   */
  walk(context: string, same: (prefix: string, items: number) => boolean): SubtreeHooks {
    const last = this.#last.get(context) ?? [];
    const byPath = new Map(last.map((s) => [s[0], s]));
    const kept = this.#next.get(context) ?? new Map<string, Subtree>();
    this.#next.set(context, kept);
    return {
      kept(path) {
        const s = byPath.get(path);
        return s && [s[1], s[2]];
      },
      all: () => last.map((s) => [s[0], s[2]]),
      skipped(path, items) {
        const prefix = path + "/";
        if (!same(prefix, items)) return false;
        // It and every subtree kept under it stand as they were.
        kept.set(path, byPath.get(path)!);
        for (let i = firstFrom(last, prefix); i < last.length && (last[i][0] + "/").startsWith(prefix); i++) {
          kept.set(last[i][0], last[i]);
        }
        return true;
      },
      walked(path, digest, items) {
        if (items >= SUBTREE_MIN_ITEMS) kept.set(path, [path, digest, items]);
      },
      minItems: SUBTREE_MIN_ITEMS,
    };
  }

  /** Every subtree the last run kept, of any context: paths and items under each. */
  all(): [string, number][] {
    return [...this.#last.values()].flat().map((s) => [s[0], s[2]]);
  }

  /** The item at `path` was not stored whole (an error): no subtree holding it is kept. */
  unclean(path: string): void {
    this.#unclean.push(path);
  }

  /** What this run keeps for the next, sorted; null when nothing. */
  kept(): KeptSubtrees | null {
    for (const path of this.#unclean) {
      for (let i = path.lastIndexOf("/"); i > 0; i = path.lastIndexOf("/", i - 1)) {
        const dir = path.slice(0, i);
        for (const next of this.#next.values()) next.delete(dir);
      }
    }
    const out: KeptSubtrees = {};
    let any = false;
    for (const [context, next] of this.#next) {
      if (!next.size) continue;
      out[context] = [...next.values()].sort(byPrefix);
      any = true;
    }
    return any ? out : null;
  }
}

/** The index of the first subtree in `sorted` whose prefix is `prefix` or sorts after it. */
function firstFrom(sorted: Subtree[], prefix: string): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keyOrder(sorted[mid][0] + "/", prefix) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
