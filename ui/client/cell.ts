// A cell of an inventory table: an item's value written as its column says (pure: the page and its tests use it).
import type { FieldSpec } from "../../agent/collectors/types.ts";

export function bytes(n: unknown): string {
  if (typeof n !== "number") return "";
  if (n < 1024) return `${n} B`;
  const u = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024, i = 0;
  while (v >= 1024 && i < u.length - 1) v /= 1024, i++;
  return `${v.toFixed(v < 10 ? 1 : 0)} ${u[i]}`;
}

export function show(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

/** A cell's text: the field's format (its column's, or its spec's) applied to the value of an item with `data`. */
export function cell(c: FieldSpec, v: unknown, data: Record<string, unknown> | null = null): string {
  if (c.format === "bytes") {
    const kib = c.kibWhen && data?.[c.kibWhen.field] === c.kibWhen.value;
    return bytes(kib && typeof v === "number" ? v * 1024 : v);
  }
  if (c.format === "hash") return typeof v === "string" ? v.slice(0, 12) : "";
  return show(v);
}

/**
 * A Linux FileSystemPath as the machine names it: `\\` is one backslash. `\xNN` (a byte that is no UTF-8)
 * stays written so: it has no character to show.
 */
export function unescapePath(s: string): string {
  return s.includes("\\\\") ? s.replaceAll("\\\\", "\\") : s;
}
