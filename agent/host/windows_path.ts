// Windows DCR file paths: %VAR% expansion and the split into directory and last-segment pattern (SPEC §1.3, §7.4), pure for any OS to test.

export interface ExpandedPath {
  path: string;
  /** Variables named in the path that the environment does not define (left as written, like Windows does). */
  unresolved: string[];
}

/**
 * Expands `%VAR%` references the way ExpandEnvironmentStrings does: names match case-insensitively, an
 * undefined variable stays as written (and is listed in `unresolved`), `%%` and a lone `%` stay.
 * `env` is the environment (e.g. `Deno.env.toObject()`); Windows variable names ignore case.
 */
export function expandWindowsPath(path: string, env: Record<string, string | undefined>): ExpandedPath {
  const byUpper = new Map<string, string>();
  for (const [k, v] of Object.entries(env)) if (v !== undefined) byUpper.set(k.toUpperCase(), v);
  const unresolved: string[] = [];
  const out = path.replace(/%([^%\\/:*?"<>|\r\n]+)%/g, (whole, name: string) => {
    const v = byUpper.get(name.toUpperCase());
    if (v === undefined) {
      unresolved.push(name);
      return whole;
    }
    return v;
  });
  return { path: out, unresolved };
}

/**
 * Splits a Windows path into the directory to list and the last segment's pattern. `pattern` is null when
 * the last segment holds no wildcard (`*`, `?`), i.e. the path names one file or folder.
 */
export function splitWindowsPattern(path: string): { dir: string; pattern: string | null } {
  const norm = path.replaceAll("/", "\\");
  const cut = norm.lastIndexOf("\\");
  const last = norm.slice(cut + 1);
  if (!/[*?]/.test(last)) return { dir: norm, pattern: null };
  const dir = cut < 0 ? "." : norm.slice(0, cut) || "\\";
  return { dir: /^[A-Za-z]:$/.test(dir) ? dir + "\\" : dir, pattern: last };
}
