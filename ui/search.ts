// What a search box's text asks for: words to find in field values, or a path glob (`/etc/**/*.conf`,
// `*.conf`) or a regex (`re:…`) matched against item keys on the linear-time pattern engine (never a RegExp
// built from what someone typed: a crafted pattern could make it backtrack for minutes).
import { compilePattern, PatternError } from "../agent/collectors/files/pattern.ts";
import type { Platform } from "../agent/platform.ts";

/** A text a search box turns into a key matcher; null for plain words. */
export interface KeyPattern {
  kind: "glob" | "regex";
  test(key: string): boolean;
}

const REGEX = "re:";

/** Whether `text` is a glob: it holds `*` or `?` (`[` alone is too common in names to mean one). */
function isGlob(text: string): boolean {
  return /[*?]/.test(text);
}

/**
 * A glob over whole paths as a regex source of the engine's subset: `*` and `?` stay within a folder, `**`
 * crosses folders (`/etc/**` + `/x` also matches `/etc/x`), `[abc]`, `[!abc]`. Without a leading separator or drive
 * it may match from any folder on (`*.conf` is every .conf file).
 */
export function pathGlob(glob: string, os: Platform): string {
  const sep = os === "windows" ? "[\\\\/]" : "/";
  const notSep = os === "windows" ? "[^\\\\/]" : "[^/]";
  const anchored = os === "windows" ? /^([a-zA-Z]:|[\\/]|HKEY_)/.test(glob) : glob.startsWith("/");
  let re = anchored ? "" : `(?:.*${sep})?`;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") {
      const atSep = i + 2 < glob.length && /[\\/]/.test(glob[i + 2]) &&
        (os === "windows" || glob[i + 2] === "/");
      re += atSep ? `(?:.*${sep})?` : ".*";
      i += atSep ? 2 : 1;
    } else if (c === "*") re += `${notSep}*`;
    else if (c === "?") re += notSep;
    else if (c === "[" && glob.indexOf("]", i + 2) > 0) {
      const close = glob.indexOf("]", i + 2);
      let body = glob.slice(i + 1, close);
      if (body.startsWith("!")) body = "^" + body.slice(1);
      re += `[${body.replace(/[\\\]]/g, "\\$&")}]`;
      i = close;
    } else if (os === "windows" && (c === "\\" || c === "/")) re += sep;
    else re += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return re;
}

/**
 * The key pattern `text` asks for, or null when it is plain words. Throws RangeError (naming the pattern and
 * where it fails) for a regex outside the engine's subset or a glob class that is none.
 */
export function keyPattern(text: string | undefined, os: Platform): KeyPattern | null {
  const t = text?.trim() ?? "";
  const ignoreCase = os === "windows";
  try {
    if (t.startsWith(REGEX)) {
      const source = t.slice(REGEX.length);
      if (!source) throw new PatternError("the regex is empty", 0);
      // Found anywhere in the key, as a search finds; `^` and `$` anchor it.
      const m = compilePattern(`.*(?:${source}).*`, { ignoreCase });
      return { kind: "regex", test: (k) => m.test(k) };
    }
    if (!isGlob(t)) return null;
    const m = compilePattern(pathGlob(t, os), { ignoreCase });
    return { kind: "glob", test: (k) => m.test(k) };
  } catch (e) {
    if (!(e instanceof PatternError)) throw e;
    // Where in the regex as typed (the engine saw it inside `.*(?:` … `).*`).
    const at = t.startsWith(REGEX) ? ` (at character ${Math.max(e.index - 5, 0) + 1} of the regex)` : "";
    throw new RangeError(`search ${JSON.stringify(t)}: ${e.message}${at}`);
  }
}
