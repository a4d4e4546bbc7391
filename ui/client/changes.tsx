// Changes: time range, type and category filters, text search, paged newest first; new changes arrive as runs
// store them, or, while the operator reads further down, wait behind "N new changes".
import { useEffect, useState } from "preact/hooks";
import type { ChangePage } from "./api.ts";
import { query } from "./api.ts";
import { ChangeList } from "./change_list.tsx";
import { Empty, ErrorBox } from "./common.tsx";
import { num } from "./format.ts";
import { epochToWall, formatTime, wallToEpoch, zoneChoice } from "./time.ts";
import { fresh, tick } from "./state.ts";
import { COLLECTORS } from "./collectors.ts";
import { formatHash, setParams } from "./route.ts";
import { useFetch } from "./use_fetch.ts";
import { SearchBox } from "./inventory.tsx";
import { AckButton } from "./review.tsx";

const PAGE = 100;

/** "137 changes, 101 of them in 1 folded run": changes, however many rows they take. */
function countText(rows: number, g: ChangePage["grouped"]): string {
  const n = rows - g.runs + g.changes;
  const all = `${num(n)} change${n === 1 ? "" : "s"}`;
  if (!g.runs) return all;
  return `${all}, ${n === g.changes ? "all" : `${num(g.changes)}`} of them in ${num(g.runs)} folded run${
    g.runs === 1 ? "" : "s"
  }`;
}
const RANGE_MS: Record<string, number> = {
  "1h": 3600_000,
  "24h": 86400_000,
  "7d": 7 * 86400_000,
  "30d": 30 * 86400_000,
};

function toMs(since: string): number {
  return since in RANGE_MS ? Date.now() - RANGE_MS[since] : Number(since);
}

/** Whether the list is where new changes go (its first page, scrolled to the top): they then show at once. */
function useAtTop(page: number): boolean {
  const [top, setTop] = useState(scrollY < 120);
  useEffect(() => {
    const on = () => setTop(scrollY < 120);
    addEventListener("scroll", on, { passive: true });
    return () => removeEventListener("scroll", on);
  }, []);
  return top && page === 0;
}

export function Changes(props: { params: Record<string, string> }) {
  const p = props.params;
  const since = p.since ?? (p.until ? undefined : "24h");
  const page = Number(p.page ?? 0);
  const live = useAtTop(page);
  // The data version this list shows: it follows every stored run while the list is live, else waits.
  const [shown, setShown] = useState(tick.value);
  if (live && shown !== tick.value) setShown(tick.value);
  const types = (p.type ?? "").split(",").filter(Boolean);
  const waiting = tick.value === shown
    ? 0
    : Object.entries(fresh.value).reduce((n, [c, k]) => n + (!types.length || types.includes(c) ? k : 0), 0);
  useEffect(() => {
    if (tick.value === shown) fresh.value = {};
  }, [shown]);
  void zoneChoice.value;
  // What the list shows, as the API's filters (a folded run, opened, lists its changes under the same ones).
  const filters = {
    since,
    until: p.until,
    type: p.type,
    category: p.category,
    reviewed: p.reviewed,
    timestamps: p.timestamps,
    run: p.run,
  };
  const res = useFetch<ChangePage>(
    "changes" + query({ ...filters, q: p.q, offset: page * PAGE, limit: PAGE }),
    shown,
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
  // A folded run is acknowledged as a run (its own button): here, the rows shown one by one.
  const unreviewed = d?.rows.filter((r) => !r.ack && !r.group) ?? [];
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
              ? `${since ? formatTime(toMs(since), { seconds: false }) : "…"} – ${
                p.until ? formatTime(Number(p.until), { seconds: false }) : "now"
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
              // Read in the zone the page shows times in.
              const from = wallToEpoch(String(f.get("from"))), to = wallToEpoch(String(f.get("to")));
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
                defaultValue={epochToWall(since ? toMs(since) : Date.now() - 86400_000)}
              />
            </label>
            <label>
              To{" "}
              <input
                type="datetime-local"
                name="to"
                defaultValue={epochToWall(p.until ? Number(p.until) : Date.now())}
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
        <label class="check">
          <input
            type="checkbox"
            checked={p.reviewed === "0"}
            onChange={(e) =>
              setParams({
                reviewed: (e.target as HTMLInputElement).checked ? "0" : undefined,
                page: undefined,
              })}
          />
          Unreviewed only
        </label>
        <SearchBox
          value={p.q ?? ""}
          placeholder="Search names and paths, /glob/**, re:regex"
          onInput={(q, replace) => setParams({ q, page: undefined }, { replace })}
        />
      </div>
      {p.run && (
        <div class="run-banner">
          The changes of run {p.run} only.{" "}
          <button type="button" class="link" onClick={() => setParams({ run: undefined, page: undefined })}>
            All changes
          </button>
        </div>
      )}
      <div class="countline" aria-live="polite">
        {d
          ? d.capped ? `more than ${num(d.total)} changes match` : countText(d.total, d.grouped)
          : res.loading
          ? "Loading…"
          : ""}
        {d && d.timestamps.n > 0 && (
          <span class="timestamps">
            {" · "}
            {p.timestamps === "1" ? "including " : ""}
            {d.timestamps.capped ? "more than " : ""}
            {num(d.timestamps.n)} timestamp-only {p.timestamps === "1" ? "" : "folded away"}{" "}
            <button
              type="button"
              class="link"
              onClick={() =>
                setParams({ timestamps: p.timestamps === "1" ? undefined : "1", page: undefined })}
            >
              {p.timestamps === "1" ? "fold them" : "show them"}
            </button>
          </span>
        )}
      </div>
      {waiting > 0 && (
        <button
          type="button"
          class="new-changes"
          onClick={() => {
            setShown(tick.value);
            setParams({ page: undefined });
            scrollTo({ top: 0 });
          }}
        >
          {num(waiting)} new change{waiting === 1 ? "" : "s"}: show
        </button>
      )}
      <div class="list-links">
        <a href={formatHash("compare", { from: toMs(since ?? "24h"), to: p.until, type: p.type })}>
          Compare start and end
        </a>
        <Exports path="export/changes" params={{ ...filters, q: p.q }} />
      </div>
      {d && unreviewed.length > 0 && (
        <div class="review-bar">
          <AckButton
            subject={{ changeIds: unreviewed.map((r) => r.id) }}
            count={unreviewed.length}
            label={`Acknowledge the ${num(unreviewed.length)} unreviewed shown…`}
          />
        </div>
      )}
      {res.error && <ErrorBox error={res.error} />}
      {d && (d.rows.length ? <ChangeList rows={d.rows} filters={filters} /> : (
        <Empty>
          No changes match. Try a longer time range{p.type || p.category || p.q ? " or fewer filters" : ""}.
        </Empty>
      ))}
      {d && <Pager page={page} pageSize={PAGE} total={d.total} capped={d.capped} />}
    </div>
  );
}

/** Download links of what the view lists (every page of it), as CSV and NDJSON. */
export function Exports(props: { path: string; params: Record<string, string | undefined> }) {
  return (
    <span class="exports">
      Export{" "}
      {(["csv", "ndjson"] as const).map((f) => (
        <a key={f} href={`/api/${props.path}${query({ ...props.params, format: f })}`} download>
          {f.toUpperCase()}
        </a>
      ))}
    </span>
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
