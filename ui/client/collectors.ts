// The collectors as the server describes them (their specs, in a meta tag of the page): names, labels, columns.
import type { PageCollector } from "../collectors.ts";
import type { FieldSpec } from "../../agent/collectors/types.ts";
export type { PageCollector };

const meta = document.querySelector<HTMLMetaElement>('meta[name="ctagent-collectors"]');

/** Every collector, in the order the page lists them. */
export const COLLECTORS: readonly PageCollector[] = JSON.parse(meta?.content ?? "[]");

/** The collector named `name`, or undefined (a name the page does not know). */
export function collectorNamed(name: string): PageCollector | undefined {
  return COLLECTORS.find((c) => c.name === name);
}

/** A collector's title ("Software"), or its name when the page does not know it. */
export function label(name: string): string {
  return collectorNamed(name)?.label ?? name;
}

/** What the collector's spec says of a field (its column, or its entry in `fields`), or undefined. */
export function fieldSpec(collector: string, field: string): FieldSpec | undefined {
  const c = collectorNamed(collector);
  return c?.columns.find((x) => x.field === field) ?? c?.fields?.[field];
}
