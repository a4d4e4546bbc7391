// The program's version, commit and build date: stamped by build/bundle.ts, development fallbacks otherwise.
import denoJson from "../deno.json" with { type: "json" };

export interface BuildInfo {
  version: string;
  commit: string;
  /** ISO-8601 UTC time of the build; "" when run from source. */
  date: string;
}

/**
 * The global build/bundle.ts assigns on the first line of the bundled file (and so of every compiled
 * executable, which embeds the bundle). A global rather than a generated module: running from source needs
 * no generated file, and `deno bundle` has no --define.
 */
export const STAMP_GLOBAL = "__CTAGENT_BUILD__";

/** What the bundle stamped, or deno.json's version with commit "dev" and no date. */
export function buildInfo(stamp: unknown = (globalThis as Record<string, unknown>)[STAMP_GLOBAL]): BuildInfo {
  const s = (stamp && typeof stamp === "object" ? stamp : {}) as Partial<Record<keyof BuildInfo, unknown>>;
  const text = (v: unknown, fallback: string) => typeof v === "string" && v !== "" ? v : fallback;
  return {
    version: text(s.version, denoJson.version),
    commit: text(s.commit, "dev"),
    date: text(s.date, ""),
  };
}

const info = buildInfo();
export const VERSION: string = info.version;
export const COMMIT: string = info.commit;
export const BUILD_DATE: string = info.date;

/** The `--version` line: `ctagent 0.1.0 (commit 1a2b3c4d5e6f, built 2026-11-22T03:00:00Z; deno 2.9.5)`. */
export function versionLine(i: BuildInfo = info): string {
  return `ctagent ${i.version} (commit ${i.commit}${
    i.date ? `, built ${i.date}` : ""
  }; deno ${Deno.version.deno})`;
}
