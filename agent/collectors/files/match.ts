// DCR path rules (SPEC §7.4), pure: split a fileInfo path into a base directory and a last-segment matcher.
//
// Linux: only the last segment may hold a pattern. A segment with no wildcard character other than `.` is a
// literal name (`hosts.allow` means that file, not `hosts?allow`). Otherwise, if the segment is a valid
// regular expression it is matched as an anchored regex (`.*.conf`), else as a glob (`*.conf`: `*`, `?`,
// `[...]`). Windows: `%VAR%` expanded, `\` or `/` separators, glob only, case-insensitive, and `*.*` means
// every name (DOS habit).
import type { Platform } from "../../platform.ts";
import type { WalkRule } from "../../host/files/walk_limits.ts";

/** A DCR path as the walkers take it (base separators normalized to "/" on Linux), and how it was read. */
export interface PathRule extends WalkRule {
  /** How the pattern was read: "literal" | "regex" | "glob". */
  kind: "literal" | "regex" | "glob";
  /** Problems worth a warning (wildcards outside the last segment). */
  warnings: string[];
}

const WILDCARDS = /[*?[\](){}+|^$\\]/;

/** Converts a glob (`*`, `?`, `[...]`, `[!...]`) to an anchored RegExp source. */
export function globToRegex(glob: string): string {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const close = glob.indexOf("]", i + 2);
      if (close < 0) {
        re += "\\[";
        continue;
      }
      let body = glob.slice(i + 1, close);
      if (body.startsWith("!")) body = "^" + body.slice(1);
      re += `[${body.replace(/\\/g, "\\\\")}]`;
      i = close;
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return `^(?:${re})$`;
}

function regexOrNull(source: string, flags: string): RegExp | null {
  try {
    return new RegExp(`^(?:${source})$`, flags);
  } catch {
    return null;
  }
}

/** Expands `%VAR%` (Windows). An unknown variable is left as written and reported. */
export function expandWindowsEnv(path: string, env: (name: string) => string | undefined): {
  path: string;
  unknown: string[];
} {
  const unknown: string[] = [];
  const out = path.replace(/%([^%\\/]+)%/g, (all, name: string) => {
    const v = env(name) ?? env(name.toUpperCase());
    if (v === undefined) {
      unknown.push(name);
      return all;
    }
    return v;
  });
  return { path: out, unknown };
}

/** Compiles one last segment per the OS's rules. */
export function compileSegment(segment: string, os: Platform): Pick<PathRule, "kind" | "test"> {
  if (os === "windows") {
    if (!/[*?[]/.test(segment)) {
      const lower = segment.toLowerCase();
      return { kind: "literal", test: (n) => n.toLowerCase() === lower };
    }
    if (segment === "*.*" || segment === "*") return { kind: "glob", test: () => true };
    const re = new RegExp(globToRegex(segment), "is");
    return { kind: "glob", test: (n) => re.test(n) };
  }
  if (!WILDCARDS.test(segment)) return { kind: "literal", test: (n) => n === segment };
  const re = regexOrNull(segment, "su");
  if (re) return { kind: "regex", test: (n) => re.test(n) };
  const glob = new RegExp(globToRegex(segment), "su");
  return { kind: "glob", test: (n) => glob.test(n) };
}

/** Splits a DCR path into base directory + last-segment matcher. Throws RangeError for an unusable path. */
export function parseRule(path: string, os: Platform): PathRule {
  const warnings: string[] = [];
  let p = path.trim();
  if (os === "windows") p = p.replace(/\//g, "\\");
  const sep = os === "windows" ? "\\" : "/";
  const absolute = os === "windows" ? /^([A-Za-z]:\\|\\\\)/.test(p) : p.startsWith("/");
  if (!absolute) throw new RangeError(`fileInfo path must be absolute, got ${JSON.stringify(path)}`);
  // Trailing separators mean the directory itself ("/etc/" = "/etc").
  while (p.length > 1 && p.endsWith(sep) && !(os === "windows" && /^[A-Za-z]:\\$/.test(p))) {
    p = p.slice(0, -1);
  }
  const cut = p.lastIndexOf(sep);
  let base = p.slice(0, cut) || sep;
  if (os === "windows" && /^[A-Za-z]:$/.test(base)) base += "\\";
  const segment = p.slice(cut + 1);
  if (segment === "") {
    // The root itself: everything in it.
    return { base: p, segment: "", pattern: true, kind: "glob", test: () => true, warnings };
  }
  const wild = os === "windows" ? /[*?]/ : /[*?[\]]/;
  if (base.split(sep).some((s) => wild.test(s))) {
    warnings.push(
      `${JSON.stringify(path)}: only the last path segment may hold a pattern; earlier segments are literal`,
    );
  }
  const { kind, test } = compileSegment(segment, os);
  return { base, segment, pattern: kind !== "literal", kind, test, warnings };
}

/**
 * For each base directory, whether another one is the same or lies above or below it: only entries whose
 * directories overlap can find the same path twice, so only they need to remember what they reported.
 */
export function overlapping(bases: readonly string[], sep: string, ignoreCase = false): boolean[] {
  const norm = bases.map((b) => {
    const n = ignoreCase ? b.toLowerCase() : b;
    return n.endsWith(sep) ? n : n + sep;
  });
  return norm.map((a, i) => norm.some((b, j) => j !== i && (a.startsWith(b) || b.startsWith(a))));
}
