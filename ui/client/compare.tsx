// Compare two moments: each item's state at T1 against its state at T2 (the net change, not every event in
// between), and for a captured file the diff from its version at T1 to its version at T2.
import { useState } from "preact/hooks";
import type { ChangeRow, Page } from "./api.ts";
import { query } from "./api.ts";
import { Badge, Empty, ErrorBox, Time, TypeIcon } from "./common.tsx";
import { ChangeFields, Name } from "./change_list.tsx";
import { itemName, num } from "./format.ts";
import { collectorNamed } from "./collectors.ts";
import { formatHash, setParams } from "./route.ts";
import { epochToWall, formatTime, wallToEpoch, zoneChoice } from "./time.ts";
import { useFetch } from "./use_fetch.ts";
import { DiffView } from "./diff_view.tsx";
import { Pager } from "./changes.tsx";

interface NetChange extends ChangeRow {
  changes: number;
  first_at: number;
}

interface Comparison extends Page<NetChange> {
  from: number;
  to: number;
  counts: Record<string, number>;
  events: number;
}

const PAGE = 100;
const SUM = /^[0-9a-f]{64}$/i;

/** The two versions of a captured file a net change went between, when both were captured as checksums. */
function versions(c: NetChange): [string, string] | null {
  const field = collectorNamed(c.collector)?.contentField;
  if (!field || c.category !== "Modified") return null;
  const a = c.previous?.[field], b = c.current?.[field];
  return typeof a === "string" && typeof b === "string" && SUM.test(a) && SUM.test(b) && a !== b
    ? [a, b]
    : null;
}

function NetRow(props: { c: NetChange }) {
  const { c } = props;
  const [open, setOpen] = useState(false);
  const pair = versions(c);
  return (
    <li>
      <button type="button" class="change" onClick={() => setParams({ item: `${c.collector}|${c.key}` })}>
        <span class="when dim small">{num(c.changes)} change{c.changes === 1 ? "" : "s"}</span>
        <TypeIcon collector={c.collector} />
        <Badge category={c.category} />
        <Name collector={c.collector} name={itemName(c.collector, c.current ?? c.previous, c.key)} />
        <ChangeFields change={c} />
      </button>
      {pair && (
        <div class="net-diff">
          <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>Diff</button>
          {open && <DiffView from={pair[0]} to={pair[1]} path={c.key} />}
        </div>
      )}
    </li>
  );
}

export function Compare(props: { params: Record<string, string> }) {
  const p = props.params;
  const page = Number(p.page ?? 0);
  void zoneChoice.value;
  const res = useFetch<Comparison>(
    p.from
      ? "compare" +
        query({
          from: p.from,
          to: p.to,
          type: p.type,
          category: p.category,
          offset: page * PAGE,
          limit: PAGE,
        })
      : null,
  );
  const d = res.data;
  const from = d?.from ?? (p.from ? Number(p.from) : Date.now() - 86400_000);
  const to = d?.to ?? (p.to ? Number(p.to) : Date.now());
  const cats = d ? ["Added", "Removed", "Modified"].filter((k) => d.counts[k]) : [];
  const net = d ? cats.reduce((n, k) => n + d.counts[k], 0) : 0;
  return (
    <div class="view compare">
      <form
        class="range toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          const f = new FormData(e.target as HTMLFormElement);
          const a = wallToEpoch(String(f.get("from"))), b = wallToEpoch(String(f.get("to")));
          if (!Number.isNaN(a) && !Number.isNaN(b)) setParams({ from: a, to: b, page: undefined });
        }}
      >
        <label>
          T1 <input type="datetime-local" name="from" key={`a${from}`} defaultValue={epochToWall(from)} />
        </label>
        <label>
          T2 <input type="datetime-local" name="to" key={`b${to}`} defaultValue={epochToWall(to)} />
        </label>
        <button type="submit" class="primary">Compare</button>
        <a href={formatHash("changes", { since: from, until: to, type: p.type })}>every change between →</a>
      </form>
      <div class="countline" aria-live="polite">
        {d
          ? (
            <>
              {num(net)} net change{net === 1 ? "" : "s"}
              {cats.length
                ? ` (${cats.map((k) => `${num(d.counts[k])} ${k.toLowerCase()}`).join(", ")})`
                : ""} from {num(d.events)} change{d.events === 1 ? "" : "s"} between <Time at={d.from} /> and
              {" "}
              <Time at={d.to} />
            </>
          )
          : res.loading && p.from
          ? "Comparing…"
          : ""}
      </div>
      {!p.from && <Empty>Pick two moments: what changed between them, once per item.</Empty>}
      {res.error && <ErrorBox error={res.error} />}
      {d && (d.rows.length
        ? (
          <ul class="changes">
            {d.rows.map((c) => <NetRow key={`${c.collector}|${c.key}`} c={c} />)}
          </ul>
        )
        : (
          <Empty>
            Nothing differs between {formatTime(d.from)} and {formatTime(d.to)}
            {d.events ? `: its ${num(d.events)} changes came back to where they started` : ""}.
          </Empty>
        ))}
      {d && <Pager page={page} pageSize={PAGE} total={d.total} />}
    </div>
  );
}
