// Changes: time range, type and category filters, text search, paged newest first.
import { useState } from "preact/hooks";
import type { ChangeRow, Page } from "./api.ts";
import { query } from "./api.ts";
import { ChangeList } from "./change_list.tsx";
import { Empty, ErrorBox } from "./common.tsx";
import { localTime, num } from "./format.ts";
import { COLLECTORS } from "./collectors.ts";
import { setParams } from "./route.ts";
import { useFetch } from "./use_fetch.ts";
import { SearchBox } from "./inventory.tsx";

const PAGE = 100;
const RANGE_MS: Record<string, number> = {
  "1h": 3600_000,
  "24h": 86400_000,
  "7d": 7 * 86400_000,
  "30d": 30 * 86400_000,
};

function toMs(since: string): number {
  return since in RANGE_MS ? Date.now() - RANGE_MS[since] : Number(since);
}

/** A local time as a datetime-local input wants it (YYYY-MM-DDTHH:MM). */
function inputTime(ms: number): string {
  return localTime(ms).slice(0, 16).replace(" ", "T");
}

export function Changes(props: { params: Record<string, string> }) {
  const p = props.params;
  const since = p.since ?? (p.until ? undefined : "24h");
  const page = Number(p.page ?? 0);
  const res = useFetch<Page<ChangeRow>>(
    "changes" +
      query({
        since,
        until: p.until,
        type: p.type,
        category: p.category,
        q: p.q,
        offset: page * PAGE,
        limit: PAGE,
      }),
  );
  const custom = since !== undefined && !["1h", "24h", "7d", "30d"].includes(since);
  const [picking, setPicking] = useState(false);
  const toggle = (name: "type" | "category", v: string) => {
    const set = new Set((p[name] ?? "").split(",").filter(Boolean));
    set.has(v) ? set.delete(v) : set.add(v);
    setParams({ [name]: [...set].join(","), page: undefined });
  };
  const on = (name: string, v: string) => (p[name] ?? "").split(",").includes(v);
  const d = res.data;
  return (
    <div class="view">
      <div class="toolbar">
        <div class="seg-buttons" role="group" aria-label="Time range">
          {["1h", "24h", "7d", "30d"].map((r) => (
            <button
              type="button"
              key={r}
              aria-pressed={since === r}
              onClick={() => setParams({ since: r, until: undefined, page: undefined })}
            >
              {r}
            </button>
          ))}
          <button
            type="button"
            aria-pressed={custom || !!p.until}
            onClick={() => setPicking(!picking)}
            title="Pick a time range"
          >
            {custom || p.until
              ? `${since ? localTime(Number(since)).slice(5, 16) : "…"} – ${
                p.until ? localTime(Number(p.until)).slice(5, 16) : "now"
              }`
              : "Custom…"}
          </button>
        </div>
        {picking && (
          <form
            class="range"
            onSubmit={(e) => {
              e.preventDefault();
              const f = new FormData(e.target as HTMLFormElement);
              const from = Date.parse(String(f.get("from"))), to = Date.parse(String(f.get("to")));
              setParams({
                since: Number.isNaN(from) ? undefined : from,
                until: Number.isNaN(to) ? undefined : to,
                page: undefined,
              });
              setPicking(false);
            }}
          >
            <label>
              From{" "}
              <input
                type="datetime-local"
                name="from"
                defaultValue={inputTime(since ? toMs(since) : Date.now() - 86400_000)}
              />
            </label>
            <label>
              To{" "}
              <input
                type="datetime-local"
                name="to"
                defaultValue={inputTime(p.until ? Number(p.until) : Date.now())}
              />
            </label>
            <button type="submit" class="primary">Apply</button>
          </form>
        )}
        <div class="seg-buttons" role="group" aria-label="Type">
          {COLLECTORS.map(({ name, label }) => (
            <button
              type="button"
              key={name}
              aria-pressed={on("type", name)}
              onClick={() => toggle("type", name)}
            >
              {label}
            </button>
          ))}
        </div>
        <div class="seg-buttons" role="group" aria-label="Category">
          {["Added", "Removed", "Modified"].map((k) => (
            <button
              type="button"
              key={k}
              class={`cat-${k.toLowerCase()}`}
              aria-pressed={on("category", k)}
              onClick={() => toggle("category", k)}
            >
              {k}
            </button>
          ))}
        </div>
        <SearchBox
          value={p.q ?? ""}
          placeholder="Search names and paths"
          onInput={(q) => setParams({ q, page: undefined }, { replace: true })}
        />
      </div>
      <div class="countline" aria-live="polite">
        {d
          ? `${num(d.total)}${d.capped ? "+" : ""} change${d.total === 1 ? "" : "s"}`
          : res.loading
          ? "Loading…"
          : ""}
      </div>
      {res.error && <ErrorBox error={res.error} />}
      {d && (d.rows.length ? <ChangeList rows={d.rows} /> : (
        <Empty>
          No changes match. Try a longer time range{p.type || p.category || p.q ? " or fewer filters" : ""}.
        </Empty>
      ))}
      {d && <Pager page={page} pageSize={PAGE} total={d.total} capped={d.capped} />}
    </div>
  );
}

export function Pager(
  props: { page: number; pageSize: number; total: number; capped?: boolean; prev?: string; next?: string },
) {
  const pages = Math.ceil(props.total / props.pageSize);
  if (pages <= 1 && !props.capped) return null;
  return (
    <nav class="pager" aria-label="Pages">
      <button
        type="button"
        disabled={props.page === 0}
        onClick={() => setParams({ page: props.page - 1 || undefined })}
      >
        {props.prev ?? "← Newer"}
      </button>
      <span>Page {num(props.page + 1)} of {num(pages)}{props.capped ? "+" : ""}</span>
      <button
        type="button"
        disabled={props.page + 1 >= pages && !props.capped}
        onClick={() => setParams({ page: props.page + 1 })}
      >
        {props.next ?? "Older →"}
      </button>
    </nav>
  );
}
