// Display helpers: local times with UTC on hover, relative times, numbers, item names per collector.
import type { Data } from "./api.ts";
import { collectorNamed } from "./collectors.ts";
export { bytes, show } from "./cell.ts";

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

export function localTime(ms: number): string {
  const d = new Date(ms);
  const p = (x: number) => String(x).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${
    p(d.getMinutes())
  }:${p(d.getSeconds())}`;
}

export function utcTime(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

export function relative(ms: number, now = Date.now()): string {
  const s = Math.round((now - ms) / 1000);
  const future = s < 0;
  const a = Math.abs(s);
  let t: string;
  if (a < 45) t = `${a} s`;
  else if (a < 2700) t = `${Math.round(a / 60)} min`;
  else if (a < 36 * 3600) t = `${Math.round(a / 3600)} h`;
  else t = `${Math.round(a / 86400)} d`;
  return future ? `in ${t}` : `${t} ago`;
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
  if (!data || !c) return key;
  const s = (k: string) => typeof data[k] === "string" && data[k] !== "" ? data[k] as string : undefined;
  const [first, ...more] = c.page.title?.fields ?? [c.nameField];
  const head = s(first);
  if (head === undefined) return key;
  return [head, ...more.flatMap((f) => s(f) ?? [])].join(c.page.title?.join ?? "");
}
