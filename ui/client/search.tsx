// Search everywhere: one box in the top bar, its answer a view of every collector's matching items (words in
// any field value, or a path glob or `re:` regex over keys), each group linking to its whole filtered list.
import { useEffect, useState } from "preact/hooks";
import type { ItemRow } from "./api.ts";
import { query } from "./api.ts";
import { Empty, ErrorBox, Highlight, TypeIcon } from "./common.tsx";
import { itemName, num, plural, shownPath } from "./format.ts";
import { label } from "./collectors.ts";
import { formatHash, navigate, route, setParams } from "./route.ts";
import { useFetch } from "./use_fetch.ts";

interface Found {
  q: string;
  pattern: "glob" | "regex" | null;
  groups: { collector: string; total: number; rows: ItemRow[] }[];
}

/** The top bar's box: Enter shows what matches across all types. */
export function GlobalSearch() {
  const { view, params } = route.value;
  const [v, setV] = useState(view === "search" ? params.q ?? "" : "");
  useEffect(() => {
    if (view === "search") setV(params.q ?? "");
  }, [view, params.q]);
  return (
    <form
      role="search"
      class="global-search"
      onSubmit={(e) => {
        e.preventDefault();
        if (v.trim()) navigate("search", { q: v.trim() });
      }}
    >
      <input
        type="search"
        aria-label="Search everything"
        title="Words in any field; a path glob (/etc/**/*.conf, *.conf); re: and a regex"
        placeholder="Search everything"
        autocomplete="off"
        spellcheck={false}
        value={v}
        onInput={(e) => setV((e.target as HTMLInputElement).value)}
      />
    </form>
  );
}

export function Search(props: { params: Record<string, string> }) {
  const q = props.params.q ?? "";
  const res = useFetch<Found>(q.trim() ? "search" + query({ q, limit: 8 }) : null);
  const d = res.data;
  if (!q.trim()) {
    return <Empty>Type what to find in the box at the top: words, a path glob or re:regex.</Empty>;
  }
  return (
    <div class="view">
      <div class="countline" aria-live="polite">
        {d
          ? `${d.pattern ? `Keys matching the ${d.pattern} ` : ""}“${d.q}”: ${
            d.groups.length ? d.groups.map((g) => plural(g.total, g.collector)).join(", ") : "nothing"
          }`
          : res.loading
          ? "Searching…"
          : ""}
        {d && !d.pattern && (
          <>
            {" · "}
            <a href={formatHash("changes", { since: "30d", q })}>changes with “{q}” →</a>
          </>
        )}
      </div>
      {res.error && <ErrorBox error={res.error} />}
      {d && !d.groups.length && <Empty>Nothing matches “{d.q}” in any inventory.</Empty>}
      {d?.groups.map((g) => (
        <section key={g.collector} class="panel search-group" aria-label={label(g.collector)}>
          <header>
            <h2>
              <TypeIcon collector={g.collector} /> {label(g.collector)}
            </h2>
            <a href={formatHash(g.collector, { q })}>
              {g.total > g.rows.length ? `all ${num(g.total)}` : "all"} in {label(g.collector)} →
            </a>
          </header>
          <ul class="changes">
            {g.rows.map((r) => (
              <li key={r.key}>
                <button
                  type="button"
                  class="found"
                  onClick={() => setParams({ item: `${g.collector}|${r.key}` })}
                >
                  <span class="fname">
                    <Highlight
                      text={shownPath(g.collector, itemName(g.collector, r.data, r.key))}
                      q={d.pattern ? undefined : q}
                    />
                  </span>
                  {itemName(g.collector, r.data, r.key) !== r.key && (
                    <span class="dim small">{shownPath(g.collector, r.key)}</span>
                  )}
                  <span class="dim small">{matchedIn(r, d.pattern ? undefined : q)}</span>
                </button>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}

/** Which field held the words (the name and key are shown already): "Publisher: Mallory …". */
function matchedIn(r: ItemRow, q: string | undefined): string {
  if (!q) return "";
  const words = q.toLowerCase();
  for (const [k, v] of Object.entries(r.data)) {
    const s = v === null ? "" : String(v);
    if (s.toLowerCase().includes(words) && !r.key.toLowerCase().includes(words)) {
      return `${k}: ${s.length > 60 ? s.slice(0, 59) + "…" : s}`;
    }
  }
  return "";
}
