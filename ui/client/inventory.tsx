// Inventory tables, one per collector (columns from its spec): server-side search, sort and paging, sticky header.
import { useEffect, useRef, useState } from "preact/hooks";
import type { Facet, ItemRow, Page } from "./api.ts";
import { query } from "./api.ts";
import { Empty, ErrorBox, Highlight, Time, Value } from "./common.tsx";
import { num, plural, shownPath } from "./format.ts";
import { isoTime } from "./time.ts";
import { status } from "./state.ts";
import { cell } from "./cell.ts";
import { collectorNamed } from "./collectors.ts";
import { setParams } from "./route.ts";
import { useFetch } from "./use_fetch.ts";
import { Exports, Pager } from "./changes.tsx";

const PAGE = 100;

/** The view's facet filters (`filter.FIELD=value`), as its parameters hold them. */
function facetParams(p: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(p).filter(([k]) => k.startsWith("filter.")));
}

/** The parameters of an inventory path that decide which items it counts (not their order, nor the page). */
function countedBy(path: string): string {
  const [list, params] = path.split("?");
  const u = new URLSearchParams(params ?? "");
  for (const k of ["sort", "dir", "offset", "limit"]) u.delete(k);
  u.sort();
  return `${list}?${u}`;
}

/** One select per filterable field of the spec: its values among the items shown, each with how many. */
function Facets(props: { collector: string; params: Record<string, string> }) {
  const { collector, params: p } = props;
  const spec = collectorNamed(collector)!;
  const res = useFetch<{ facets: Facet[] }>(
    spec.filterable.length
      ? `facets/${collector}` + query({ q: p.q, errors: p.errors, ...facetParams(p) })
      : null,
  );
  const facets = res.data?.facets.filter((f) => f.values.length) ?? [];
  if (!facets.length) return null;
  return (
    <div class="facets">
      {facets.map((f) => {
        const name = spec.columns.find((c) => c.field === f.field)?.label ?? f.field;
        return (
          <select
            key={f.field}
            name={f.field}
            aria-label={`${name}: show only one value`}
            value={p[`filter.${f.field}`] ?? ""}
            onChange={(e) =>
              setParams({ [`filter.${f.field}`]: (e.target as HTMLSelectElement).value, page: undefined })}
          >
            <option value="">{name}: any</option>
            {f.values.map((v) => (
              <option key={v.value} value={v.value}>{name} {v.value} ({num(v.n)})</option>
            ))}
            {f.others > 0 && <option disabled>{num(f.others)} more in other values</option>}
          </select>
        );
      })}
    </div>
  );
}

/**
 * The search box of a view. Typing updates the URL once a pause: the first update of a search adds a history
 * entry (Back returns to the view before it), the next ones of the same search replace it.
 */
export function SearchBox(
  props: { value: string; placeholder: string; onInput(v: string, replace: boolean): void },
) {
  const [v, setV] = useState(props.value);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const typing = useRef(false);
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
      onBlur={() => typing.current = false}
      onInput={(e) => {
        const nv = (e.target as HTMLInputElement).value;
        setV(nv);
        clearTimeout(timer.current);
        timer.current = setTimeout(() => {
          props.onInput(nv, typing.current);
          typing.current = true;
        }, 150);
      }}
    />
  );
}

/** What an empty inventory says: why it is empty, from the collector's last run. */
function EmptyInventory(props: { collector: string; errors: boolean; q?: string }) {
  const spec = collectorNamed(props.collector)!;
  const st = status.value?.collectors.find((c) => c.name === props.collector);
  const run = st?.lastRun;
  if (props.q) return <Empty>Nothing matches “{props.q}”.</Empty>;
  if (props.errors) return <Empty>No unreadable {spec.nouns[1]}: every {spec.nouns[0]} was read.</Empty>;
  if (!st && !run) return <Empty>{spec.page.empty}</Empty>;
  if (st && !st.enabled && !run) return <Empty>The {spec.label.toLowerCase()} collector is off.</Empty>;
  if (!run) {
    return (
      <Empty>
        The {spec.label.toLowerCase()} collector has not run yet
        {st?.nextRunAt
          ? (
            <>
              ; its first run is due <Time at={st.nextRunAt} rel />
            </>
          )
          : null}.
      </Empty>
    );
  }
  if (run.status === "failed" || run.status === "aborted") {
    return (
      <Empty>
        The last {spec.label.toLowerCase()} run {run.status} <Time at={run.finished_at} rel />: {run.error}
      </Empty>
    );
  }
  // Its warnings (said above the table) tell why; without any, the spec says what to do.
  return (
    <Empty>
      The last run (<Time at={run.finished_at} rel />) found no {spec.nouns[1]}.
      {!run.warnings.length && <div class="small">{spec.page.empty}</div>}
    </Empty>
  );
}

/** DCR fileInfo entries that match nothing here (the collector that captures content is the files one). */
function MissingPaths(props: { collector: string }) {
  const missing = status.value?.problems.missingPaths ?? [];
  if (!collectorNamed(props.collector)?.content || !missing.length) return null;
  return (
    <div class="warnbox" role="status">
      {missing.length === 1 ? "A DCR entry matches" : `${num(missing.length)} DCR entries match`}{" "}
      nothing on this machine (the path does not exist):
      {missing.map((m, i) => (
        <div key={i} class="small mono">
          {m.path}
          {m.name ? <span class="dim">(entry “{m.name}”)</span> : null}
        </div>
      ))}
    </div>
  );
}

/** The collector's last run, when it failed or warned: said above its inventory. */
export function RunProblems(props: { collector: string }) {
  const run = status.value?.collectors.find((c) => c.name === props.collector)?.lastRun;
  if (!run || (!run.error && !run.warnings.length)) return null;
  return (
    <div class={run.error ? "errorbox" : "warnbox"} role={run.error ? "alert" : "status"}>
      {run.error
        ? (
          <>
            Last run {run.status} <Time at={run.finished_at} rel />: {run.error}
          </>
        )
        : (
          <>
            Last run <Time at={run.finished_at} rel /> warned:
          </>
        )}
      {run.warnings.map((w, i) => <div key={i} class="small">{w}</div>)}
    </div>
  );
}

export function Inventory(props: { collector: string; params: Record<string, string> }) {
  const { collector, params: p } = props;
  const spec = collectorNamed(collector)!;
  const cols = spec.columns;
  const page = Number(p.page ?? 0);
  const sort = p.sort ?? cols[0].sortAs ?? cols[0].field;
  const dir = p.dir === "desc" ? "desc" : "asc";
  const facets = facetParams(p);
  const filtered = !!(p.q || p.errors || Object.keys(facets).length);
  const path = `inventory/${collector}` +
    query({ q: p.q, sort, dir, offset: page * PAGE, limit: PAGE, errors: p.errors, ...facets });
  const res = useFetch<Page<ItemRow>>(path);
  const allPath = filtered ? `inventory/${collector}?limit=1` : null;
  const all = useFetch<Page<ItemRow>>(allPath);
  const d = res.data;
  // While the answer to other parameters loads, the list shown is the one before: it stays, dimmed and busy. The
  // count line, which would count it against a search or filter that changed, waits for the answer then; another
  // page or order of the same items keeps it.
  const current = res.path === path;
  const counted = res.path !== null && countedBy(res.path) === countedBy(path);
  const totalAll = filtered ? (all.path === allPath ? all.data?.total : undefined) : d?.total;
  const sortBy = (field: string) =>
    setParams({ sort: field, dir: sort === field && dir === "asc" ? "desc" : undefined, page: undefined });
  return (
    <div class="view inventory">
      <div class="toolbar">
        <SearchBox
          value={p.q ?? ""}
          placeholder={`Search ${spec.nouns[1]}${spec.page.path ? ", /glob/**, re:regex" : ""}`}
          onInput={(q, replace) => setParams({ q, page: undefined }, { replace })}
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
          {d && counted
            ? filtered && totalAll !== undefined
              ? `${num(d.total)} of ${plural(totalAll, collector)}`
              : plural(d.total, collector)
            : res.loading
            ? "Loading…"
            : ""}
        </span>
      </div>
      <Facets collector={collector} params={p} />
      <Exports path={`export/inventory/${collector}`} params={{ q: p.q, errors: p.errors, ...facets }} />
      <RunProblems collector={collector} />
      <MissingPaths collector={collector} />
      {res.error && <ErrorBox error={res.error} />}
      {d && !d.rows.length && <EmptyInventory collector={collector} errors={p.errors === "1"} q={p.q} />}
      {d && d.rows.length > 0 && (
        <div class="table-wrap" aria-busy={current ? undefined : "true"}>
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
                    const raw = r.data[c.field];
                    const at = c.format && c.format !== "time" ? undefined : isoTime(raw);
                    const v = i === 0 ? shownPath(collector, cell(c, raw, r.data)) : cell(c, raw, r.data);
                    return (
                      <td
                        key={c.field}
                        class={at === undefined ? c.style : `${c.style ?? ""} time`}
                        title={v.length > 40 ? v : undefined}
                      >
                        {i === 0
                          ? (
                            <a
                              href={`#/${collector}?${new URLSearchParams({
                                ...p,
                                item: `${collector}|${r.key}`,
                              })}`}
                              onClick={(e) => e.preventDefault()}
                            >
                              <Highlight text={v || shownPath(collector, r.key)} q={p.q} />
                            </a>
                          )
                          : at !== undefined
                          ? <Value v={raw} />
                          : <Highlight text={v} q={p.q} />}
                        {i === 0 && r.error ? <span class="warn" title={r.error}>⚠</span> : null}
                      </td>
                    );
                  })}
                  <td class="dim changed">
                    {r.changed_at === null
                      ? <span title="no change since it was first seen">—</span>
                      : <Time at={r.changed_at} rel />}
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
