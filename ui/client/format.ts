// Display helpers: numbers, durations, item names per collector, paths as the machine names them.
import type { Data } from "./api.ts";
import { collectorNamed } from "./collectors.ts";
import { platform } from "./state.ts";
import { unescapePath } from "./cell.ts";
export { bytes, show } from "./cell.ts";
export { formatTime, relative } from "./time.ts";

/** What one and many items of a collector are called. */
export function nouns(collector: string): readonly [string, string] {
  return collectorNamed(collector)?.nouns ?? ["item", "items"];
}

export function num(n: number): string {
  return n.toLocaleString("en");
}

export function plural(n: number, collector: string): string {
  const [one, many] = nouns(collector);
  return `${num(n)} ${n === 1 ? one : many}`;
}

export function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/**
 * The name people know an item by: its collector's title fields (the first, then each further non-empty one
 * after the join), its name field otherwise, its key when those are empty.
 */
export function itemName(collector: string, data: Data | null | undefined, key: string): string {
  const c = collectorNamed(collector);
  if (!data || !c) return shownPath(collector, key);
  const s = (k: string) => typeof data[k] === "string" && data[k] !== "" ? data[k] as string : undefined;
  const [first, ...more] = c.page.title?.fields ?? [c.nameField];
  const head = s(first);
  if (head === undefined) return shownPath(collector, key);
  return shownPath(collector, [head, ...more.flatMap((f) => s(f) ?? [])].join(c.page.title?.join ?? ""));
}

/**
 * A path of a collector whose items are paths, as the machine names it: Linux file names reach the page with
 * `\` for a backslash (and `\xNN` for a byte that is no UTF-8), so that any name can be stored.
 */
export function shownPath(collector: string, text: string): string {
  return collectorNamed(collector)?.page.path && platform.value === "linux" ? unescapePath(text) : text;
}
