// Windows DCR paths: %VAR% expansion the way ExpandEnvironmentStrings does it (SPEC §1.3, §7.4), pure for any OS to test.

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
