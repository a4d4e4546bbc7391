// The item drawer: every field, the change history as a timeline, and content diffs for captured file versions.
import { useEffect, useRef, useState } from "preact/hooks";
import type { ChangeRow, Data, ItemRow } from "./api.ts";
import { query } from "./api.ts";
import { Badge, Empty, ErrorBox, FieldValue, Time } from "./common.tsx";
import { ChangedBy, ChangeFields } from "./change_list.tsx";
import { itemName, shownPath } from "./format.ts";
import { formatTime, zoneChoice } from "./time.ts";
import { collectorNamed, label } from "./collectors.ts";
import { setParams } from "./route.ts";
import { useFetch } from "./use_fetch.ts";
import { DiffView } from "./diff_view.tsx";
import { AckButton, Reviewed } from "./review.tsx";

interface History {
  item: ItemRow | null;
  history: ChangeRow[];
  contents: string[];
  /** Captured versions the page may not show, with why (a file not every user may read, a secret name). */
  withheld: Record<string, string>;
  /** Why its current content was not captured (over the size limit, binary, private), or null. */
  notCaptured: string | null;
  /** When it was first seen, through removals; `exact` false: only "before" that is known. */
  firstSeen: { at: number; exact: boolean } | null;
}

function Fields(props: { collector: string; data: Data }) {
  return (
    <dl class="kv">
      {Object.entries(props.data).map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd class={typeof v === "string" && v.length > 50 ? "wrap" : undefined}>
            {v === null || v === undefined || v === ""
              ? <span class="dim">—</span>
              : typeof v === "string" && v.startsWith("/")
              ? shownPath(props.collector, v)
              : <FieldValue collector={props.collector} field={k} v={v} data={props.data} />}
          </dd>
        </div>
      ))}
    </dl>
  );
}

/** Captured versions, oldest first, each with when it was first seen (`field`: where items hold the checksum). */
function versions(h: History, field: string | null): { sum: string; at: number }[] {
  if (!field) return [];
  const have = new Set(h.contents);
  const out: { sum: string; at: number }[] = [];
  const seen = new Set<string>();
  const push = (sum: unknown, at: number) => {
    if (typeof sum !== "string") return;
    const s = sum.toLowerCase();
    if (!have.has(s) || seen.has(s)) return;
    seen.add(s);
    out.push({ sum: s, at });
  };
  // A version dates from the change that brought it (the oldest one from when the item was first seen, which
  // the items row does not know for an item removed and added again).
  let since = h.firstSeen?.at ?? h.item?.first_seen ?? 0;
  for (const c of [...h.history].reverse()) {
    push(c.previous?.[field], since);
    push(c.current?.[field], c.at);
    since = c.at;
  }
  push(h.item?.data[field], h.item?.changed_at ?? 0);
  return out;
}

export function Drawer(props: { item: string }) {
  const bar = props.item.indexOf("|");
  const collector = props.item.slice(0, bar), key = props.item.slice(bar + 1);
  const res = useFetch<History>("item" + query({ collector, key }));
  const h = res.data;
  const vs = h ? versions(h, collectorNamed(collector)?.contentField ?? null) : [];
  const [pair, setPair] = useState<[string, string] | null>(null);
  useEffect(() => setPair(vs.length >= 2 ? [vs[vs.length - 2].sum, vs[vs.length - 1].sum] : null), [h]);
  const latest = h?.item?.data ?? h?.history[0]?.current ?? h?.history[0]?.previous ?? null;
  const unknown = h && !h.item && !h.history.length;
  const close = () => setParams({ item: undefined });
  const box = useRef<HTMLDivElement>(null);
  // A modal dialog: focus goes in, stays in (Tab wraps around), and goes back where it was on close.
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    box.current?.querySelector<HTMLElement>("button.close")?.focus();
    return () => {
      if (before?.isConnected) before.focus();
    };
  }, []);
  const trap = (e: KeyboardEvent) => {
    if (e.key !== "Tab" || !box.current) return;
    const all = [...box.current.querySelectorAll<HTMLElement>(
      "a[href], button:not([disabled]), select, input, textarea, summary, [tabindex='0']",
    )].filter((x) => x.offsetParent !== null);
    if (!all.length) return;
    const [first, last] = [all[0], all[all.length - 1]];
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    } else if (!box.current.contains(document.activeElement)) {
      e.preventDefault();
      first.focus();
    }
  };
  void zoneChoice.value;
  return (
    <>
      <div class="scrim" onClick={close} />
      <div
        class="drawer"
        role="dialog"
        aria-modal="true"
        aria-labelledby="drawer-title"
        ref={box}
        onKeyDown={trap}
      >
        <header>
          <div>
            <div class="dim">{label(collector)}</div>
            <h2 class="item-title" id="drawer-title">
              {itemName(collector, latest, key)}
            </h2>
            {h?.item === null && h.history.length > 0 && <span class="badge badge-removed">Removed</span>}
          </div>
          <button type="button" class="close" onClick={close} aria-label="Close">✕</button>
        </header>
        {res.error && <ErrorBox error={res.error} />}
        {unknown && (
          <Empty>
            Nothing is known of {shownPath(collector, key)}: no {label(collector).toLowerCase()}{" "}
            item has this key, and no change of one was recorded.
          </Empty>
        )}
        {h?.item?.error && <ErrorBox error={`Last read failed: ${h.item.error}`} />}
        {latest && (
          <section>
            <h3>Fields</h3>
            <Fields collector={collector} data={latest} />
            {h?.firstSeen && (
              <p class="dim small first-seen">
                First seen {h.firstSeen.exact ? "" : "before "}
                <Time at={h.firstSeen.at} />
                {h.item && h.item.changed_at !== null && h.history.length > 0
                  ? (
                    <>
                      , last changed <Time at={h.item.changed_at} />
                    </>
                  )
                  : h.item
                  ? ", never changed since"
                  : ""}.
              </p>
            )}
          </section>
        )}
        {vs.length >= 2 && pair && (
          <section>
            <h3>Content</h3>
            <div class="version-pick">
              <label>
                From{" "}
                <select
                  value={pair[0]}
                  onChange={(e) => setPair([(e.target as HTMLSelectElement).value, pair[1]])}
                >
                  {vs.map((v) => (
                    <option key={v.sum} value={v.sum} data-at={v.at}>
                      {v.sum.slice(0, 10)} · {formatTime(v.at)}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                To{" "}
                <select
                  value={pair[1]}
                  onChange={(e) => setPair([pair[0], (e.target as HTMLSelectElement).value])}
                >
                  {vs.map((v) => (
                    <option key={v.sum} value={v.sum} data-at={v.at}>
                      {v.sum.slice(0, 10)} · {formatTime(v.at)}
                    </option>
                  ))}
                </select>
              </label>
            </div>
            <DiffView from={pair[0]} to={pair[1]} path={key} />
          </section>
        )}
        {collectorNamed(collector)?.content && h && Object.keys(h.withheld).length > 0 && (
          <p class="dim small">Content not shown: {Object.values(h.withheld)[0]}.</p>
        )}
        {collectorNamed(collector)?.content && h?.notCaptured && !Object.keys(h.withheld).length && (
          <p class="dim small not-captured">Content not captured: {h.notCaptured}.</p>
        )}
        {collectorNamed(collector)?.content && h && vs.length < 2 && !Object.keys(h.withheld).length &&
          !h.notCaptured && (
          <p class="dim small">
            {vs.length
              ? "One version of the content is captured; a diff appears after the file changes."
              : "No content captured for this file (binary, too large, or capture is off)."}
          </p>
        )}
        <section>
          <h3>History</h3>
          {h?.item && !h.history.length && <Empty>No changes since it was first seen.</Empty>}
          <ol class="timeline">
            {h?.history.map((c) => (
              <li key={c.id} class={`tl-${c.category.toLowerCase()}`}>
                <div>
                  <Badge category={c.category} /> <Time at={c.at} />
                </div>
                <ChangeFields change={c} max={20} />
                <ChangedBy change={c} />
                <div class="tl-review">
                  {c.ack ? <Reviewed change={c} /> : (
                    <>
                      <AckButton subject={{ changeIds: [c.id] }} count={1} label="Acknowledge…" />{" "}
                      <AckButton subject={{ run: c.run_id }} count={0} label="Acknowledge its whole run…" />
                    </>
                  )}
                </div>
              </li>
            ))}
          </ol>
        </section>
      </div>
    </>
  );
}
