// What both walkers take and give: the rule of one walk (its base and last-segment matcher), link modes, the report.
import type { ReadAheadStart } from "./read_ahead.ts";
import { keyOrder } from "../../key_order.ts";

/** Which names one walk reports: everything under `base`, or the names its last segment matches. */
export interface WalkRule {
  /** The directory the pattern applies in (for a literal path: its parent), as a machine path. */
  base: string;
  /** The last segment as written. */
  segment: string;
  /** True when the last segment is matched as a pattern; false for a literal name. */
  pattern: boolean;
  /** Whether a name (last segment) matches. */
  test(name: string): boolean;
}

export type Links = "Follow" | "Ignore" | "Manage";

/** The part of a walk's tree wanted (a realtime re-collection): the rest is neither reported nor entered. */
export interface WalkScope {
  /** Whether the entry at `path` may be reported. */
  reports(path: string): boolean;
  /** Whether something wanted lies below the directory at `path`. */
  descends(path: string): boolean;
}

/** What one walk is asked (both walkers). */
export interface WalkOptionsBase {
  rule: WalkRule;
  /** The real directory to open for `rule.base` (the host root applied). */
  realBase: string;
  recurse: boolean;
  links: Links;
  /** "File": non-directories, "Directory": directories, "*": both. */
  type: "File" | "Directory" | "*";
  maxDepth: number;
  /** Shared across rules: how many more entries may be reported (fileSettings.maxFiles). */
  budget: { left: number };
  signal?: AbortSignal;
  /** Only this part of the tree (absent: all of it). */
  scope?: WalkScope;
}

/** What one walk of one fileInfo entry left out (both walkers fill it). */
export interface WalkReport {
  /** Key prefixes not examined this time (unreadable directories, limits): their old items stay. */
  unseen: string[];
  unreadable: { path: string; error: string }[];
  depthCut: string[];
  /** Matching entries (or directories, uncounted inside) not reported because maxFiles was reached. */
  filesCut: number;
  dirsCut: number;
  /** Directories skipped because they were already walked (symlink loops, links to walked trees). */
  loops: number;
  /**
   * Where a thread reading the walk's listings ahead begins (walk_posix.ts: a whole recursive walk), whether this
   * walk had one or not: a later walk of the same rule can begin it before its turn.
   */
  readAheadFrom?: ReadAheadStart;
}

/**
 * `dir` as the beginning of the paths inside it: with `sep` at its end. It is also the directory's place in the
 * walk's order: a walk enters a directory where its contents' keys sort (keyOrderedDescents: "a-b" before "a/").
 */
export const dirPrefix = (dir: string, sep: string): string => (dir.endsWith(sep) ? dir : dir + sep);

/** scoped()'s answers without a scope, made once (it is asked per entry). */
const TAKEN = [false, true].map((matched) => [false, true].map((inside) => ({ matched, inside })));

/**
 * The bookkeeping both walkers share: the budget of entries (fileSettings.maxFiles), the depth limit, loops, and
 * what could not be read, all written into one report. `sep` separates the machine paths of the walk.
 */
export function walkLimits(opts: {
  sep: string;
  maxDepth: number;
  budget: { left: number };
  errText(e: unknown): string;
  scope?: WalkScope;
}) {
  const { sep, budget } = opts;
  const report: WalkReport = { unseen: [], unreadable: [], depthCut: [], filesCut: 0, dirsCut: 0, loops: 0 };
  const visited = new Set<string>();
  const prefixOf = (dir: string) => dirPrefix(dir, sep);
  const join = (dir: string, name: string) => dirPrefix(dir, sep) + name;
  let lastCut = "";
  const scope = opts.scope;
  return {
    report,
    join,
    /**
     * How the walk's scope takes the entry at `path` the full walk would report if `matched` and enter if
     * `inside`: both narrowed to the scope, or null when it is not visited at all.
     */
    scoped(path: string, matched: boolean, inside: boolean): { matched: boolean; inside: boolean } | null {
      if (!scope) return TAKEN[+matched][+inside];
      const m = matched && scope.reports(path), i = inside && scope.descends(path);
      return m || i ? { matched: m, inside: i } : null;
    },
    /** Whether the entry at `path` may be reported (the budget counts it); a cut one's directory is unseen. */
    take(path: string): boolean {
      if (budget.left > 0) {
        budget.left--;
        return true;
      }
      report.filesCut++;
      const p = path.slice(0, path.lastIndexOf(sep) + 1) || sep;
      if (p !== lastCut) report.unseen.push(lastCut = p);
      return false;
    },
    /** Whether `n` more entries fit in the budget. */
    fits(n: number): boolean {
      return budget.left >= n;
    },
    /** Counts `n` entries reported at once (a subtree gone past: they fit). */
    takeAll(n: number): void {
      budget.left -= n;
    },
    /** How many cuts (unseen prefixes, loops) the walk made so far: a subtree walked without one is whole. */
    cuts(): number {
      return report.unseen.length + report.loops;
    },
    /** A directory that could not be read: its items stay as they were. */
    unreadable(path: string, e: unknown): void {
      report.unseen.push(prefixOf(path));
      report.unreadable.push({ path, error: opts.errText(e) });
    },
    /** The base of the walk could not be opened: only what the rule names is unseen. */
    baseUnreadable(rule: WalkRule, error: string): void {
      report.unseen.push(rule.pattern ? prefixOf(rule.base) : join(rule.base, rule.segment));
      report.unreadable.push({ path: rule.base, error });
    },
    /** Marks a directory (by identity) walked; false when it was already (a loop, a link to a walked tree). */
    visit(id: string): boolean {
      if (visited.has(id)) return false;
      visited.add(id);
      return true;
    },
    /**
     * Whether the directory at `path` (identity `id`) may be walked: within maxDepth, not walked already, and
     * entries left in the budget. What it cuts is reported.
     */
    enter(path: string, depth: number, id: string): boolean {
      if (depth > opts.maxDepth) {
        report.depthCut.push(path);
        report.unseen.push(prefixOf(path));
        return false;
      }
      if (visited.has(id)) {
        report.loops++;
        return false;
      }
      visited.add(id);
      if (budget.left <= 0) {
        report.dirsCut++;
        report.unseen.push(prefixOf(path));
        return false;
      }
      return true;
    },
  };
}

/**
 * The directories of one listing, entered where their contents' keys sort: once the siblings whose names sort
 * before the directory's name and the separator are done ("a-b" and "a.c" come before "a/x"). Siblings taken in
 * key order (agent/key_order.ts) and entered so, a walk reports its keys in the order the items table holds
 * them, and the run reads its stored fingerprints front to back (pipeline/previous.ts). `order` may be
 * plainKeyOrder when no name of the listing holds a unit where the orders part (key_order.ts).
 */
export function keyOrderedDescents(sep: string, order: (a: string, b: string) => number = keyOrder) {
  const pending: { key: string; enter: () => Promise<void> }[] = [];
  const due = (name: string | null) =>
    pending.length > 0 && (name === null || order(pending[0].key, name) < 0);
  const enter = async (name: string | null) => {
    while (due(name)) await pending.shift()!.enter();
  };
  return {
    /** Enters `name` (a directory of the listing) when the walk reaches its contents' place. */
    defer(name: string, enter: () => Promise<void>): void {
      const key = name + sep;
      let i = pending.length;
      while (i > 0 && order(pending[i - 1].key, key) > 0) i--;
      pending.splice(i, 0, { key, enter });
    },
    /**
     * Enters the directories whose contents sort before `name` (null: all that are left); undefined when there
     * is none (no promise per entry of a listing).
     */
    before(name: string | null): Promise<void> | undefined {
      if (due(name)) return enter(name);
    },
  };
}

export type KeyOrderedDescents = ReturnType<typeof keyOrderedDescents>;
