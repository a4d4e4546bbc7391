// Overview: counts per type with changes in 24 h, the changes chart, the latest changes, collector health.
import type { ChangeRow, Histogram, Page } from "./api.ts";
import { ChangesChart } from "./chart.tsx";
import { ChangeList } from "./change_list.tsx";
import { Empty, ErrorBox } from "./common.tsx";
import { num, plural } from "./format.ts";
import { COLLECTORS } from "./collectors.ts";
import { navigate } from "./route.ts";
import { useFetch } from "./use_fetch.ts";
import { CollectorTable } from "./agent.tsx";
import { status } from "./state.ts";

type Counts = Record<
  string,
  { items: number; errors: number; changed: number; changes?: number; unreviewed?: number }
>;

export function Overview(props: { since: string }) {
  const counts = useFetch<Counts>("counts?since=24h");
  const hist = useFetch<Histogram>(`histogram?since=${props.since}`);
  const latest = useFetch<Page<ChangeRow>>("changes?limit=20");
  const st = status.value;
  return (
    <div class="view overview">
      <div class="cards">
        {COLLECTORS.map(({ name: c, label, nouns }) => {
          const v = counts.data?.[c];
          const run = st?.collectors.find((x) => x.name === c)?.lastRun;
          return (
            <a class="card" href={`#/${c}`} key={c} data-collector={c}>
              <span class="card-label">{label}</span>
              <span class="card-value">{v ? num(v.items) : "–"}</span>
              <span class="card-sub">
                {v
                  ? (
                    <>
                      {plural(v.changed, c)} changed in 24 h {v.changes
                        ? <span class="dim">· {num(v.changes)} change{v.changes === 1 ? "" : "s"}</span>
                        : null}
                    </>
                  )
                  : `no ${nouns[1]}`}
                {v?.unreviewed
                  ? (
                    <a class="unreviewed" href={`#/changes?since=24h&type=${c}&reviewed=0`}>
                      {num(v.unreviewed)} unreviewed
                    </a>
                  )
                  : null}
                {v?.errors ? <span class="warn">&nbsp;· {num(v.errors)} unreadable</span> : null}
                {run?.status === "failed" ? <span class="err">&nbsp;· last run failed</span> : null}
              </span>
            </a>
          );
        })}
      </div>
      <section class="panel">
        <header>
          <h2>Changes</h2>
          <div class="seg-buttons" role="group" aria-label="Chart range">
            {["24h", "7d", "30d"].map((r) => (
              <button
                type="button"
                key={r}
                aria-pressed={props.since === r}
                onClick={() => navigate("overview", { since: r })}
              >
                {r}
              </button>
            ))}
          </div>
        </header>
        {hist.error
          ? <ErrorBox error={hist.error} />
          : hist.data
          ? <ChangesChart hist={hist.data} />
          : <div class="chart skeleton" />}
      </section>
      <div class="two">
        <section class="panel">
          <header>
            <h2>Latest changes</h2>
            <a href="#/changes?since=24h">All changes →</a>
          </header>
          {latest.error && <ErrorBox error={latest.error} />}
          {latest.data && (latest.data.rows.length
            ? <ChangeList rows={latest.data.rows} />
            : <Empty>No changes recorded yet. Changes appear after the second run of a collector.</Empty>)}
        </section>
        <section class="panel collectors-panel">
          <header>
            <h2>Collectors</h2>
            <a href="#/agent">Agent →</a>
          </header>
          {st ? <CollectorTable collectors={st.collectors} compact /> : null}
        </section>
      </div>
    </div>
  );
}
