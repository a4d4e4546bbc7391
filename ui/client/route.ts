// Hash routes: every view is a URL (#/changes?since=24h&type=files), so links share and Back works.
import { signal } from "@preact/signals";
import { COLLECTORS } from "./collectors.ts";

/** The page's own views around the collectors' inventories. */
export const PAGES = ["overview", "changes", "agent", "dcr", "search", "compare"] as const;
/** overview, changes, compare, one inventory per collector (by its name), agent, dcr; search (top bar). */
export const VIEWS: readonly string[] = [
  PAGES[0],
  PAGES[1],
  PAGES[5],
  ...COLLECTORS.map((c) => c.name),
  PAGES[2],
  PAGES[3],
  PAGES[4],
];
export type View = string;

export interface Route {
  view: View;
  params: Record<string, string>;
}

export function parseHash(hash: string): Route {
  const h = hash.replace(/^#\/?/, "");
  const [path, qs = ""] = h.split("?", 2);
  const view = VIEWS.includes(path) ? path : "overview";
  return { view, params: Object.fromEntries(new URLSearchParams(qs)) };
}

export function formatHash(
  view: View,
  params: Record<string, string | number | undefined | null> = {},
): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") u.set(k, String(v));
  }
  const s = u.toString();
  return `#/${view}${s ? `?${s}` : ""}`;
}

export const route = signal<Route>(parseHash(location.hash));

addEventListener("hashchange", () => {
  route.value = parseHash(location.hash);
});

/** Goes to a view; `replace` for typing in a search box (one history entry, not one per key). */
export function navigate(
  view: View,
  params: Record<string, string | number | undefined | null> = {},
  opts: { replace?: boolean } = {},
): void {
  const hash = formatHash(view, params);
  if (hash === location.hash) return;
  if (opts.replace) {
    history.replaceState(null, "", hash);
    route.value = parseHash(hash);
  } else location.hash = hash;
}

/** Changes some parameters of the current view. `undefined` or "" removes one. */
export function setParams(
  changes: Record<string, string | number | undefined | null>,
  opts: { replace?: boolean } = {},
): void {
  const { view, params } = route.value;
  navigate(view, { ...params, ...changes }, opts);
}
