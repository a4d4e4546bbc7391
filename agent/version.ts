// The program's version, commit and build date: stamped by build/bundle.ts, dev fallbacks otherwise.
import denoJson from "../deno.json" with { type: "json" };

export interface BuildInfo {
  version: string;
  commit: string;
  /** ISO-8601 UTC time of the build, or "dev" when run from source. */
  date: string;
}

/**
 * The global build/bundle.ts assigns on the first line of the bundled file. A global (not a generated
 * module) so that running from source needs no generated file and the bundle needs no define support.
 */
export const STAMP_GLOBAL = "__CTAGENT_BUILD__";

/** What the bundle stamped, or the source tree's version with commit and date "dev". */
export function buildInfo(stamp: unknown = (globalThis as Record<string, unknown>)[STAMP_GLOBAL]): BuildInfo {
  const s = (stamp && typeof stamp === "object" ? stamp : {}) as Partial<Record<keyof BuildInfo, unknown>>;
  const text = (v: unknown, fallback: string) => typeof v === "string" && v !== "" ? v : fallback;
  return {
    version: text(s.version, denoJson.version),
    commit: text(s.commit, "dev"),
    date: text(s.date, "dev"),
  };
}

/** The `--version` line: `ctagent 0.1.0 (commit 1a2b3c4, built 2026-11-22T03:00:00Z)`. */
export function versionLine(info: BuildInfo = buildInfo()): string {
  return `ctagent ${info.version} (commit ${info.commit}, built ${info.date})`;
}
