// DCR path rules (SPEC §7.4), pure: split a fileInfo path into a base directory and a last-segment matcher.
//
// Linux: only the last segment may hold a pattern. A segment with no wildcard character other than `.` is a
// literal name (`hosts.allow` means that file, not `hosts?allow`). Otherwise, if the segment is a valid
// regular expression it is matched as an anchored regex (`.*.conf`), else as a glob (`*.conf`: `*`, `?`,
// `[...]`). Windows: `%VAR%` expanded, `\` or `/` separators, glob only, case-insensitive, and `*.*` means
// every name (DOS habit). Patterns run on our linear-time engine (pattern.ts), never on a backtracking RegExp: a
// name is chosen by whoever can write in a watched directory (SPEC §7.25).
import type { Platform } from "../../platform.ts";
import type { WalkRule } from "../../host/files/walk_limits.ts";
import { compilePattern, isRegexSyntax, PatternError } from "./pattern.ts";

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

/**
 * Compiles one last segment per the OS's rules. Throws PatternError for a regex outside the linear-time subset
 * (a backreference, a lookaround …) and for a glob whose class is not one (`[z-a]`).
 */
export function compileSegment(segment: string, os: Platform): Pick<PathRule, "kind" | "test"> {
  if (os === "windows") {
    if (!/[*?[]/.test(segment)) {
      const lower = segment.toLowerCase();
      return { kind: "literal", test: (n) => n.toLowerCase() === lower };
    }
    if (segment === "*.*" || segment === "*") return { kind: "glob", test: () => true };
    const glob = compilePattern(globToRegex(segment), { ignoreCase: true });
    return { kind: "glob", test: (n) => glob.test(n) };
  }
  if (!WILDCARDS.test(segment)) return { kind: "literal", test: (n) => n === segment };
  // Whether it is a regex is JavaScript's syntax (SPEC §7.4, unchanged); how it matches is ours.
  if (isRegexSyntax(segment)) {
    const re = compilePattern(segment);
    return { kind: "regex", test: (n) => re.test(n) };
  }
  const glob = compilePattern(globToRegex(segment));
  return { kind: "glob", test: (n) => glob.test(n) };
}

/** The path trimmed, `/` made `\` on Windows, trailing separators dropped ("/etc/" means "/etc"). */
function tidy(path: string, os: Platform): string {
  let p = path.trim();
  if (os === "windows") p = p.replace(/\//g, "\\");
  const sep = os === "windows" ? "\\" : "/";
  while (p.length > 1 && p.endsWith(sep) && !(os === "windows" && /^[A-Za-z]:\\$/.test(p))) {
    p = p.slice(0, -1);
  }
  return p;
}

/**
 * Why the last segment of a DCR path cannot be matched (outside the linear-time subset, or a broken glob), or
 * undefined. For DCR validation: the same reading as parseRule, without needing the path to be usable yet
 * (Windows `%VAR%`s are expanded only when collecting).
 */
export function segmentProblem(path: string, os: Platform): string | undefined {
  const p = tidy(path, os);
  const segment = p.slice(p.lastIndexOf(os === "windows" ? "\\" : "/") + 1);
  if (!segment) return undefined;
  try {
    compileSegment(segment, os);
    return undefined;
  } catch (e) {
    if (!(e instanceof PatternError)) throw e;
    return `${e.message} in the pattern ${
      JSON.stringify(segment)
    } (path patterns are matched in linear time: ` +
      "literals, escapes, ., classes, * + ? {m,n}, groups, | and ^ $)";
  }
}

/**
 * Splits a DCR path into base directory + last-segment matcher. Throws RangeError for an unusable path,
 * PatternError for a last segment that cannot be matched (see compileSegment).
 */
export function parseRule(path: string, os: Platform): PathRule {
  const warnings: string[] = [];
  const p = tidy(path, os);
  const sep = os === "windows" ? "\\" : "/";
  const absolute = os === "windows" ? /^([A-Za-z]:\\|\\\\)/.test(p) : p.startsWith("/");
  if (!absolute) throw new RangeError(`fileInfo path must be absolute, got ${JSON.stringify(path)}`);
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
