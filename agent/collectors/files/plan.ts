// What both files paths (libc and portable) do alike: the DCR's entries made into walks, and the content budget.
import type { FileInfo, Settings } from "../../config/dcr.ts";
import type { Host } from "../../host/mod.ts";
import type { WalkOptionsBase, WalkScope } from "../../host/files/walk_limits.ts";
import type { ScopeTest } from "../scope.ts";
import type { WatchTarget } from "../types.ts";
import { overlapping, parseRule } from "./match.ts";
import { expandWindowsPath } from "../../host/windows_path.ts";

/** One enabled fileInfo entry as a walk. */
export interface WalkPlan {
  rule: FileInfo;
  /** The entry's path as read (%VAR% expanded on Windows). */
  path: string;
  /** Whether it must remember what it reported: its directories overlap another entry's. */
  dedupe: boolean;
  /** Capture the content of files up to this many bytes (0: never). */
  capture: number;
  /** The walk's own options (the caller adds the budget, the file-system calls and the signal). */
  walk: Omit<WalkOptionsBase, "budget" | "signal">;
}

/**
 * The enabled fileInfo entries of `settings` as walks of `host`: each path read the host OS's way (%VAR%
 * expanded on Windows). An entry that cannot be read is skipped; `warnings` says why.
 */
export function planWalks(settings: Settings, host: Host, warnings: string[]): WalkPlan[] {
  const windows = host.os === "windows";
  const fs = settings.fileSettings;
  const parsed = fs.fileInfo.filter((r) => r.enabled).flatMap((rule) => {
    try {
      let path = rule.path;
      if (windows) {
        const x = expandWindowsPath(path, host.environment());
        path = x.path;
        if (x.unresolved.length) {
          warnings.push(
            `fileInfo ${JSON.stringify(rule.name)}: %${
              x.unresolved.join("%, %")
            }% not defined, left as written`,
          );
        }
      }
      const p = parseRule(path, host.os);
      warnings.push(...p.warnings);
      return [{ rule, path, parsed: p }];
    } catch (e) {
      warnings.push(`fileInfo ${JSON.stringify(rule.name)}: ${(e as Error).message}; entry skipped`);
      return [];
    }
  });
  // Only entries whose directories overlap keep a set of the paths they reported (a big tree under one entry
  // costs no set).
  const overlaps = overlapping(parsed.map((r) => r.parsed.base), windows ? "\\" : "/", windows);
  return parsed.map(({ rule, path, parsed }, i) => ({
    rule,
    path,
    dedupe: overlaps[i],
    capture: rule.links === "Manage" ? 0 : rule.maxContentsReturnable,
    walk: {
      rule: parsed,
      realBase: host.path(parsed.base),
      recurse: rule.recurse,
      links: rule.links,
      type: rule.type,
      maxDepth: fs.maxDepth,
    },
  }));
}

/**
 * The run's budget of captured content (fileSettings.maxContentBytes): each checksum once; what goes beyond it
 * is listed in `cut` (said once in the run's warnings).
 */
export function contentBudget(maxBytes: number) {
  const sums = new Set<string>();
  const cut: string[] = [];
  let bytes = 0;
  return {
    cut,
    /** Whether the text of the file at `path` (`checksum`, `size` bytes) is captured now. */
    take(path: string, checksum: string, size: number): boolean {
      if (sums.has(checksum)) return false;
      sums.add(checksum);
      if (bytes + size > maxBytes) {
        cut.push(path);
        return false;
      }
      bytes += size;
      return true;
    },
  };
}

/**
 * What realtime watches for the DCR's entries: each entry's tree, as deep as its walk reads (a pattern's base
 * directory, whose entries at level k lie in a directory entered at depth k - 1; a literal path and what its
 * walk lists below it). The items are keyed by their paths.
 */
export function fileTargets(settings: Settings, host: Host): WatchTarget[] {
  const maxDepth = settings.fileSettings.maxDepth;
  return planWalks(settings, host, []).map(({ rule, walk }) => {
    const r = walk.rule;
    if (r.pattern) return { path: r.base, depth: rule.recurse ? maxDepth + 1 : 1, items: "path" as const };
    const sep = host.os === "windows" ? "\\" : "/";
    const path = r.base.endsWith(sep) ? r.base + r.segment : r.base + sep + r.segment;
    return { path, depth: rule.recurse ? maxDepth : 1, items: "path" as const };
  });
}

/** A realtime re-collection's scope as the walkers take it (item keys are paths), or undefined for all. */
export function walkScope(scope: ScopeTest | undefined, sep: string): WalkScope | undefined {
  if (!scope) return undefined;
  return {
    reports: (path) => scope.has(path),
    descends: (path) => scope.reaches(path.endsWith(sep) ? path : path + sep),
  };
}
