// DCR JSON as untrusted data: parsed into null-prototype objects, its nesting bounded, walked without recursion.
import type { Problem } from "./dcr.ts";

/**
 * Deepest nesting a DCR may have. The deepest real shape (a fileInfo entry in a DCR resource) is 9 levels;
 * beyond this the document is rejected before anything recursive (zod, JSON.stringify) walks it.
 */
export const MAX_DCR_DEPTH = 32;

/**
 * Most bytes of a DCR text (a `--dcr` file, an AMA reply). A CT DCR is kilobytes (Microsoft's sample with both
 * OS entries and the 17 registry entries: 6 KB); ARM takes at most 4 MB for a resource and AMA caps a
 * msgpack str at 10 MiB. 8 MiB leaves room for any real DCR and is parsed in about 0.2 s; a 475 MB file took
 * over 10 s and as much memory again before this limit.
 */
export const MAX_DCR_BYTES = 8 * 1024 * 1024;

/** The JSON path of `key` under `base`, as problems name it: `a.b[0]["odd key"]`. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  const safe = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
  if (!base) return safe;
  return safe.startsWith('"') ? `${base}[${safe}]` : `${base}.${safe}`;
}

interface Pending {
  from: unknown;
  into: Record<string, unknown> | unknown[];
  depth: number;
  parent?: Pending;
  key?: string | number;
}

function pathOf(base: string, p: Pending, key: string | number): string {
  const keys: (string | number)[] = [key];
  for (let q = p; q.parent; q = q.parent) keys.push(q.key!);
  return keys.reverse().reduce<string>(joinPath, base);
}

/**
 * A copy of a parsed JSON value whose objects have no prototype, so that a DCR key such as `constructor`,
 * `toString` or `__proto__` is data like any other and never reaches Object.prototype. Nesting deeper than
 * MAX_DCR_DEPTH is a problem naming the first value too deep (its JSON path under `base`).
 */
export function dataTree(value: unknown, base = ""): { value: unknown } | { problem: Problem } {
  if (typeof value !== "object" || value === null) return { value };
  const top: Pending = { from: value, into: Array.isArray(value) ? [] : Object.create(null), depth: 1 };
  const stack = [top];
  while (stack.length) {
    const p = stack.pop()!;
    const entries: [string | number, unknown][] = Array.isArray(p.from)
      ? p.from.map((v, i) => [i, v])
      : Object.entries(p.from as object);
    for (const [key, v] of entries) {
      if (typeof v !== "object" || v === null) {
        (p.into as Record<string | number, unknown>)[key] = v;
        continue;
      }
      if (p.depth >= MAX_DCR_DEPTH) {
        return {
          problem: {
            path: pathOf(base, p, key),
            message: `nested deeper than ${MAX_DCR_DEPTH} levels (no DCR is); not read further`,
          },
        };
      }
      const into = Array.isArray(v) ? [] : Object.create(null);
      (p.into as Record<string | number, unknown>)[key] = into;
      stack.push({ from: v, into, depth: p.depth + 1, parent: p, key });
    }
  }
  return { value: top.into };
}

/** Parses DCR text found at `base` into a data tree (see dataTree), or the problem: not JSON, too deep. */
export function parseDcrJson(text: string, base = ""): { value: unknown } | { problem: Problem } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { problem: { path: base || "(root)", message: `not valid JSON: ${(e as Error).message}` } };
  }
  return dataTree(value, base);
}
