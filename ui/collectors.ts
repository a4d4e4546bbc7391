// What the page knows of each collector, from the collectors' specs: the JSON it reads at start and their colours.
import type { CollectorSpec, Column, PageSpec } from "../agent/collectors/types.ts";
import type { Platform } from "../agent/platform.ts";

/** A collector as the page sees it (plain JSON: it travels inside the page). */
export interface PageCollector {
  name: string;
  label: string;
  nouns: readonly [string, string];
  platforms: readonly Platform[];
  nameField: string;
  columns: readonly Column[];
  /** Whether it captures content (the drawer offers diffs). */
  content: boolean;
  /** The field holding the captured content's checksum, when it captures content. */
  contentField: string | null;
  /** Fields filtered on by value, shown as facets with counts. */
  filterable: readonly string[];
  /** Formats of fields that are no column. */
  fields?: CollectorSpec["fields"];
  page: Omit<PageSpec, "color">;
}

/** What the page's server reads of a collector's spec: plain data (it crosses to the page's worker). */
export type UiCollector = Pick<
  CollectorSpec,
  | "name"
  | "label"
  | "nouns"
  | "platforms"
  | "nameField"
  | "columns"
  | "sortable"
  | "filterable"
  | "fields"
  | "volatile"
  | "content"
  | "page"
>;

/** The plain-data part of specs (no functions), as the page's worker receives them. */
export function uiCollectors(specs: readonly UiCollector[]): UiCollector[] {
  return specs.map((s) => ({
    name: s.name,
    label: s.label,
    nouns: s.nouns,
    platforms: s.platforms,
    nameField: s.nameField,
    columns: s.columns,
    sortable: s.sortable,
    filterable: s.filterable,
    fields: s.fields,
    volatile: s.volatile,
    content: s.content,
    page: s.page,
  }));
}

export function pageCollectors(specs: readonly UiCollector[]): PageCollector[] {
  return uiCollectors(specs).map((
    { sortable: _s, volatile: _v, filterable, content, page: { color: _c, ...page }, ...rest },
  ) => ({
    ...rest,
    filterable: filterable ?? [],
    content: !!content,
    contentField: content ? content.checksumField : null,
    page,
  }));
}

/** The JSON of `pageCollectors` as it can stand in a double-quoted HTML attribute. */
export function pageCollectorsAttribute(specs: readonly UiCollector[]): string {
  const escapes: Record<string, string> = { "&": "&amp;", '"': "&quot;", "<": "&lt;", ">": "&gt;" };
  return JSON.stringify(pageCollectors(specs)).replace(/[&"<>]/g, (c) => escapes[c]);
}

/** WCAG relative luminance of a `#rgb` / `#rrggbb` colour. */
function luminance(hex: string): number {
  const h = hex.slice(1);
  const full = h.length <= 4 ? [...h.slice(0, 3)].map((c) => c + c).join("") : h.slice(0, 6);
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16) / 255)
    .map((c) => c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** The text colour with the most contrast on `hex`: white or near-black (a spec picks any colour it likes). */
export function inkOn(hex: string): string {
  const l = luminance(hex);
  return (1.05 / (l + 0.05)) >= ((l + 0.05) / 0.0565) ? "#ffffff" : "#0b0f14";
}

/** The collectors' colours: `--c-<name>` in light and dark mode, on type badges (`t-`) and chart parts (`s-`). */
export function collectorCss(specs: readonly UiCollector[]): string {
  const vars = (i: 0 | 1) =>
    specs.map((s) => `--c-${s.name}: ${s.page.color[i]}; --ink-${s.name}: ${inkOn(s.page.color[i])};`).join(
      " ",
    );
  return [
    `:root { ${vars(0)} }`,
    `@media (prefers-color-scheme: dark) { :root { ${vars(1)} } }`,
    ...specs.map((s) =>
      `.t-${s.name}, .seg.s-${s.name}, .dot.s-${s.name} { fill: var(--c-${s.name}); background: var(--c-${s.name}); color: var(--ink-${s.name}); }`
    ),
  ].join("\n") + "\n";
}
