// Inventory tables, one per collector (columns from its spec): server-side search, sort and paging, sticky header.
import { useEffect, useRef, useState } from "preact/hooks";
import type { ItemRow, Page } from "./api.ts";
import { query } from "./api.ts";
import { Empty, ErrorBox, Highlight, Time } from "./common.tsx";
import { num, plural } from "./format.ts";
import { cell } from "./cell.ts";
import { collectorNamed } from "./collectors.ts";
import { setParams } from "./route.ts";
import { useFetch } from "./use_fetch.ts";
import { Pager } from "./changes.tsx";

const PAGE = 100;

export function SearchBox(props: { value: string; placeholder: string; onInput(v: string): void }) {
  const [v, setV] = useState(props.value);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => setV(props.value), [props.value]);
  return (
    <input
      id="search"
      class="search"
      type="search"
      autocomplete="off"
      spellcheck={false}
      placeholder={`${props.placeholder}  ( / )`}
      aria-label={props.placeholder}
      value={v}
      onInput={(e) => {
        const nv = (e.target as HTMLInputElement).value;
        setV(nv);
        clearTimeout(timer.current);
        timer.current = setTimeout(() => props.onInput(nv), 150);
      }}
    />
  );
}

export function Inventory(props: { collector: string; params: Record<string, string> }) {
  const { collector, params: p } = props;
  const spec = collectorNamed(collector)!;
  const cols = spec.columns;
  const page = Number(p.page ?? 0);
  const sort = p.sort ?? cols[0].sortAs ?? cols[0].field;
  const dir = p.dir === "desc" ? "desc" : "asc";
  const path = `inventory/${collector}` +
    query({ q: p.q, sort, dir, offset: page * PAGE, limit: PAGE, errors: p.errors });
  const res = useFetch<Page<ItemRow>>(path);
  const all = useFetch<Page<ItemRow>>(p.q || p.errors ? `inventory/${collector}?limit=1` : null);
  const d = res.data;
  const totalAll = p.q || p.errors ? all.data?.total : d?.total;
  const sortBy = (field: string) =>
    setParams({ sort: field, dir: sort === field && dir === "asc" ? "desc" : undefined, page: undefined });
  return (
    <div class="view inventory">
      <div class="toolbar">
        <SearchBox
          value={p.q ?? ""}
          placeholder={`Search ${spec.nouns[1]}`}
          onInput={(q) => setParams({ q, page: undefined }, { replace: true })}
        />
        <label class="check">
          <input
            type="checkbox"
            checked={p.errors === "1"}
            onChange={(e) =>
              setParams({
                errors: (e.target as HTMLInputElement).checked ? "1" : undefined,
                page: undefined,
              })}
          />
          Unreadable only
        </label>
        <span class="countline" aria-live="polite">
          {d
            ? (p.q || p.errors) && totalAll !== undefined
              ? `${num(d.total)} of ${plural(totalAll, collector)}`
              : plural(d.total, collector)
            : res.loading
            ? "Loading…"
            : ""}
        </span>
      </div>
      {res.error && <ErrorBox error={res.error} />}
      {d && !d.rows.length &&
        (p.q ? <Empty>Nothing matches “{p.q}”.</Empty> : <Empty>{spec.page.empty}</Empty>)}
      {d && d.rows.length > 0 && (
        <div class="table-wrap">
          <table class="grid">
            <thead>
              <tr>
                {cols.map((c) => (
                  <th
                    key={c.field}
                    aria-sort={sort === (c.sortAs ?? c.field)
                      ? (dir === "asc" ? "ascending" : "descending")
                      : undefined}
                  >
                    <button type="button" onClick={() => sortBy(c.sortAs ?? c.field)}>
                      {c.label}
                      <span class="arrow">
                        {sort === (c.sortAs ?? c.field) ? (dir === "asc" ? "▲" : "▼") : ""}
                      </span>
                    </button>
                  </th>
                ))}
                <th>
                  <button type="button" onClick={() => sortBy("changed_at")}>
                    Changed<span class="arrow">
                      {sort === "changed_at" ? (dir === "asc" ? "▲" : "▼") : ""}
                    </span>
                  </button>
                </th>
              </tr>
            </thead>
            <tbody>
              {d.rows.map((r) => (
                <tr
                  key={r.key}
                  class={r.error ? "row-error" : undefined}
                  onClick={() => setParams({ item: `${collector}|${r.key}` })}
                >
                  {cols.map((c, i) => {
                    const v = cell(c, r.data[c.field], r.data);
                    return (
                      <td key={c.field} class={c.style} title={v.length > 40 ? v : undefined}>
                        {i === 0
                          ? (
                            <a
                              href={`#/${collector}?${new URLSearchParams({
                                ...p,
                                item: `${collector}|${r.key}`,
                              })}`}
                              onClick={(e) => e.preventDefault()}
                            >
                              <Highlight text={v || r.key} q={p.q} />
                            </a>
                          )
                          : <Highlight text={v} q={p.q} />}
                        {i === 0 && r.error ? <span class="warn" title={r.error}>⚠</span> : null}
                      </td>
                    );
                  })}
                  <td class="dim">
                    <Time at={r.changed_at} rel />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {d && <Pager page={page} pageSize={PAGE} total={d.total} prev="← Previous" next="Next →" />}
    </div>
  );
}
