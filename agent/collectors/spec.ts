// defineCollector() checks a collector's spec where it is written; the pipeline and the page read specs through here.
import type { Settings } from "../config/dcr.ts";
import type { Platform } from "../platform.ts";
import type {
  Collect,
  Collector,
  CollectorSettings,
  CollectorSpec,
  FieldSpec,
  Item,
  WatchTarget,
} from "./types.ts";
import type { Host } from "../host/mod.ts";

/** What a collector may be called: it names SQLite tables, URLs and settings. */
export const COLLECTOR_NAME = /^[a-z][a-z0-9_]*$/;

/** Checks a spec's shape (a mistake fails when the module loads, naming the collector and the field). */
export function defineCollector<I extends Item>(spec: CollectorSpec<I>): CollectorSpec<I> {
  const bad = (field: string, why: string): never => {
    throw new TypeError(`Collector spec ${JSON.stringify(spec.name)}: ${field} ${why}`);
  };
  if (!COLLECTOR_NAME.test(spec.name)) bad("name", "must match [a-z][a-z0-9_]*");
  if (!spec.label) bad("label", "is empty");
  if (!spec.nouns[0] || !spec.nouns[1]) bad("nouns", "needs a singular and a plural");
  if (!spec.platforms.length) bad("platforms", "is empty");
  for (const os of spec.platforms) if (!spec.dataType[os]) bad("dataType", `has no type for ${os}`);
  if (!spec.columns.length) bad("columns", "is empty");
  if (!spec.toAma && spec.changeStream) bad("changeStream", "is AMA's, but toAma is false");
  if (spec.schedule.dcr === null && !(spec.schedule.defaultSeconds > 0)) {
    bad(
      "schedule.defaultSeconds",
      `must be a positive number of seconds, got ${spec.schedule.defaultSeconds}`,
    );
  }
  if ([...spec.page.icon].length !== 1) bad("page.icon", "must be one character");
  if (!/^[a-z]$/.test(spec.page.shortcut)) bad("page.shortcut", "must be one lower-case letter");
  for (const c of spec.page.color) {
    if (!/^#[0-9a-f]{3,8}$/i.test(c)) bad("page.color", `${c} is not #rgb hex`);
  }
  return spec;
}

/** A collector made of its spec and how it collects (and what its settings say to watch). */
export function implement<I extends Item>(
  spec: CollectorSpec<I>,
  collect: Collect<I>,
  more: Pick<Collector<I>, "targets" | "begin"> = {},
): Collector<I> {
  return { ...spec, collect, ...more };
}

/** What a collector watches on `os` with `settings`: its declared paths and keys, then its settings' targets. */
export function watchTargets(collector: Collector, settings: Settings, host: Host): WatchTarget[] {
  const w = collector.watch ?? {};
  const items = (keys?: readonly string[]) => keys ?? null;
  return [
    ...(w.paths?.[host.os] ?? []).map((p) => ({ path: p.path, depth: p.depth ?? 0, items: items(p.keys) })),
    ...(host.os === "windows" ? w.registry ?? [] : []).map((k) => ({
      key: k.key,
      subtree: k.subtree,
      items: items(k.keys),
    })),
    ...(collector.targets?.(settings, host) ?? []),
  ];
}

/** Whether a collector is on and how often it runs (seconds), by the DCR or by ctagent's own settings. */
export function scheduleOf(
  spec: Pick<CollectorSpec, "schedule">,
  settings: Settings,
  own: CollectorSettings = {},
): { enabled: boolean; frequency: number } {
  const s = spec.schedule;
  if (s.dcr !== null) {
    const [section, key] = s.frequency.split(".") as [keyof Settings, string];
    const values: unknown = settings[section];
    return { enabled: settings[s.dcr], frequency: (values as Record<string, number>)[key] };
  }
  const mine = own[s.setting] ?? {};
  return { enabled: mine.enabled ?? true, frequency: mine.frequency ?? s.defaultSeconds };
}

/** Who switches a collector on and off, for messages: "the DCR" or "ctagent's settings". */
export function switchedBy(spec: Pick<CollectorSpec, "schedule">): string {
  return spec.schedule.dcr === null ? "ctagent's settings" : "the DCR";
}

/** The ConfigChangeType / ConfigDataType of a collector's records on `os`. */
export function dataTypeOf(spec: Pick<CollectorSpec, "name" | "dataType">, os: Platform): string {
  const t = spec.dataType[os];
  if (!t) throw new RangeError(`Collector ${spec.name} has no data type for ${os}`);
  return t;
}

/** Fields every inventory can be sorted by, whatever the collector. */
export const ITEM_SORTS = ["key", "first_seen", "changed_at"] as const;

/** What the page's API sorts a collector's inventory by: its columns, `sortable`, and the item's own times. */
export function sortFieldsOf(spec: Pick<CollectorSpec, "columns" | "sortable">): string[] {
  return [...new Set([...ITEM_SORTS, ...spec.columns.map((c) => c.field), ...(spec.sortable ?? [])])];
}

/** What a collector's spec says of `field`: its column's description, else its entry in `fields`. */
export function fieldSpecOf(
  spec: Pick<CollectorSpec, "columns" | "fields">,
  field: string,
): FieldSpec | undefined {
  return spec.columns.find((c) => c.field === field) ?? spec.fields?.[field];
}

/**
 * Whether a Modified change of `fieldsChanged` is timestamp-only: every field changed is one the spec calls a
 * timestamp or volatile (an earlier version may have diffed those), so nothing the item is moved.
 */
export function timestampOnly(
  spec: Pick<CollectorSpec, "columns" | "fields" | "volatile">,
  fieldsChanged: readonly string[],
): boolean {
  return fieldsChanged.length > 0 &&
    fieldsChanged.every((f) => spec.volatile.includes(f) || fieldSpecOf(spec, f)?.timestamp === true);
}
