// Which captured contents the page may show: the capture rule (collectors/files/capture.ts) applied again at serve time.
import { captureDecision, type CapturePolicy } from "../agent/collectors/files/capture.ts";
import { dirsOpenChecker, realPathOf } from "../agent/host/files/perms.ts";
import type { Platform } from "../agent/platform.ts";

/** The file settings the decision needs: the fileInfo rules in force and ctagent's own list. */
export interface FilePrivacySettings {
  fileInfo: readonly { name: string; path: string; captureRestricted?: boolean }[];
  captureRestrictedPaths?: readonly string[];
}

/** One stored version of a file (an item, or one side of a change) whose content is asked for. */
export interface FileVersion {
  Mode?: unknown;
  RuleName?: unknown;
}

export interface ContentGate {
  /** Why the content of `path` whose versions are `versions` must not be shown, or undefined. */
  withheld(path: string, versions: readonly FileVersion[]): string | undefined;
}

/**
 * The gate of the page's content API. Content captured before this rule existed (or under a DCR since
 * changed) is judged now: each version's mode, the directories above the file as they are now, its name, and
 * the rule of that name in force. Without settings (no agent), nothing private is shown.
 */
export function contentGate(opts: {
  settings: () => FilePrivacySettings | undefined;
  os: Platform;
  /** The path to look at on this machine for a machine path (`--root` applied). */
  hostPath?: (path: string) => string;
}): ContentGate {
  const windows = opts.os === "windows";
  const policyFor = (path: string, ruleName: unknown): CapturePolicy => {
    const s = opts.settings();
    const rules = (s?.fileInfo ?? []).filter((r) => r.name === ruleName);
    const literal = rules.find((r) =>
      windows ? r.path.toLowerCase() === path.toLowerCase() : r.path === path
    );
    return {
      rulePath: literal?.path ?? "",
      // Several rules of that name: each must allow it.
      captureRestricted: literal?.captureRestricted ??
        (rules.length > 0 && rules.every((r) => r.captureRestricted === true)),
      allowed: s?.captureRestrictedPaths ?? [],
      windows,
    };
  };
  return {
    withheld(path, versions) {
      const real = opts.hostPath?.(path) ?? path;
      const realPath = realPathOf(real);
      const dirsOpen = dirsOpenChecker();
      for (const v of versions) {
        const mode = typeof v.Mode === "string" && /^[0-7]{3,4}$/.test(v.Mode) ? parseInt(v.Mode, 8) : null;
        const why = captureDecision({
          path,
          realPath: realPath === real ? undefined : realPath,
          mode: windows ? null : mode,
          dirsOpen: () => dirsOpen(realPath),
        }, policyFor(path, v.RuleName));
        if (why) return why.replace(/capture it$/, "show it");
      }
      return undefined;
    },
  };
}
