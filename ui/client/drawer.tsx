// The item drawer: every field, the change history as a timeline, and content diffs for captured file versions.
import { useEffect, useState } from "preact/hooks";
import type { ChangeRow, Data, ItemRow } from "./api.ts";
import { query } from "./api.ts";
import { Badge, Empty, ErrorBox, Time } from "./common.tsx";
import { ChangedBy, ChangeFields } from "./change_list.tsx";
import { itemName, show } from "./format.ts";
import { collectorNamed, label } from "./collectors.ts";
import { setParams } from "./route.ts";
import { useFetch } from "./use_fetch.ts";
import { DiffView } from "./diff_view.tsx";

interface History {
  item: ItemRow | null;
  history: ChangeRow[];
  contents: string[];
  /** Captured versions the page may not show, with why (a file not every user may read, a secret name). */
  withheld: Record<string, string>;
}

function Fields(props: { data: Data }) {
  return (
    <dl class="kv">
      {Object.entries(props.data).map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd class={typeof v === "string" && v.length > 50 ? "wrap" : undefined}>
            {show(v) || <span class="dim">—</span>}
          </dd>
        </div>
      ))}
    </dl>
  );
}

/** Captured versions, oldest first, each with when it was first seen. */
function versions(h: History): { sum: string; at: number }[] {
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
  // A version dates from the change that brought it (the oldest one from when the item was first seen).
  let since = h.item?.first_seen ?? 0;
  for (const c of [...h.history].reverse()) {
    push(c.previous?.FileContentChecksum, since);
    push(c.current?.FileContentChecksum, c.at);
    since = c.at;
  }
  push(h.item?.data.FileContentChecksum, h.item?.changed_at ?? 0);
  return out;
}

export function Drawer(props: { item: string }) {
  const bar = props.item.indexOf("|");
  const collector = props.item.slice(0, bar), key = props.item.slice(bar + 1);
  const res = useFetch<History>("item" + query({ collector, key }));
  const h = res.data;
  const vs = h ? versions(h) : [];
  const [pair, setPair] = useState<[string, string] | null>(null);
  useEffect(() => setPair(vs.length >= 2 ? [vs[vs.length - 2].sum, vs[vs.length - 1].sum] : null), [h]);
  const latest = h?.item?.data ?? h?.history[0]?.current ?? h?.history[0]?.previous ?? null;
  const close = () => setParams({ item: undefined });
  return (
    <>
      <div class="scrim" onClick={close} />
      <div class="drawer" role="dialog" aria-modal="true" aria-label="Item details">
        <header>
          <div>
            <div class="dim">{label(collector)}</div>
            <h2 class="item-title">{itemName(collector, latest, key)}</h2>
            {h && !h.item && <span class="badge badge-removed">Removed</span>}
          </div>
          <button type="button" class="close" onClick={close} aria-label="Close">✕</button>
        </header>
        {res.error && <ErrorBox error={res.error} />}
        {h?.item?.error && <ErrorBox error={`Last read failed: ${h.item.error}`} />}
        {latest && (
          <section>
            <h3>Fields</h3>
            <Fields data={latest} />
            {h?.item && (
              <p class="dim small">
                First seen <Time at={h.item.first_seen} />, last changed <Time at={h.item.changed_at} />.
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
                    <option key={v.sum} value={v.sum}>
                      {v.sum.slice(0, 10)} · {new Date(v.at).toLocaleString()}
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
                    <option key={v.sum} value={v.sum}>
                      {v.sum.slice(0, 10)} · {new Date(v.at).toLocaleString()}
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
        {collectorNamed(collector)?.content && h && vs.length < 2 && !Object.keys(h.withheld).length && (
          <p class="dim small">
            {vs.length
              ? "One version of the content is captured; a diff appears after the file changes."
              : "No content captured for this file (binary, too large, or capture is off)."}
          </p>
        )}
        <section>
          <h3>History</h3>
          {h && !h.history.length && <Empty>No changes since it was first seen.</Empty>}
          <ol class="timeline">
            {h?.history.map((c) => (
              <li key={c.id} class={`tl-${c.category.toLowerCase()}`}>
                <div>
                  <Badge category={c.category} /> <Time at={c.at} />
                </div>
                <ChangeFields change={c} max={20} />
                <ChangedBy change={c} />
              </li>
            ))}
          </ol>
        </section>
      </div>
    </>
  );
}
