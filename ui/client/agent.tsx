// Agent: per collector its frequency, last runs and errors, scan now; delivery and outbox. DCR view too.
import type { ChainState, CollectorStatus, ConfigRow, RealtimeStatus, RunRow } from "./api.ts";
import { Empty, ErrorBox, Pill, Time } from "./common.tsx";
import { duration, num, relative } from "./format.ts";
import { label } from "./collectors.ts";
import { scanning, scanNow, status } from "./state.ts";
import { useFetch } from "./use_fetch.ts";

function runLevel(r: RunRow | null): string {
  if (!r) return "none";
  return r.status === "failed" || r.status === "aborted" ? "error" : r.warnings.length ? "warn" : "ok";
}

function runWord(r: RunRow | null, enabled: boolean): string {
  if (!r) return enabled ? "pending" : "off";
  // A baseline is a good run: the first one, which has nothing to compare with.
  return r.status === "baseline" ? "ok" : r.status;
}

function every(s: number | null): string {
  if (!s) return "—";
  return s % 3600 === 0 ? `${s / 3600} h` : s % 60 === 0 ? `${s / 60} min` : `${s} s`;
}

export function CollectorTable(props: { collectors: CollectorStatus[]; compact?: boolean }) {
  if (!props.collectors.length) return <Empty>No collector has run yet.</Empty>;
  return (
    <div class="table-wrap">
      <table class="grid compact">
        <thead>
          <tr>
            <th>Collector</th>
            <th>Last run</th>
            <th>Duration</th>
            {!props.compact && <th>Items</th>}
            {!props.compact && <th>Changes</th>}
            <th>Next run</th>
            {!props.compact && <th>Every</th>}
            <th />
          </tr>
        </thead>
        <tbody>
          {props.collectors.map((c) => {
            const r = c.lastRun;
            const n = r?.counts ?? {};
            return (
              <tr key={c.name} class={c.enabled ? undefined : "disabled"}>
                <td class="strong">
                  <Pill level={runLevel(r)} title={r?.error ?? r?.status ?? "never ran"}>
                    {runWord(r, c.enabled)}
                  </Pill>{" "}
                  <span class="cname">{label(c.name)}</span>
                  {c.realtime && <span class="dim small">· {c.realtime.state}</span>}
                  {r?.error && <div class="err small">{r.error}</div>}
                  {!r?.error && c.lastError && (
                    <div class="dim small">last error {relative(c.lastError.at)}: {c.lastError.error}</div>
                  )}
                  {r?.warnings.map((w, i) => <div key={i} class="warn small">{w}</div>)}
                </td>
                <td>{r ? <Time at={r.finished_at} rel /> : "never"}</td>
                <td>{r ? duration(r.finished_at - r.started_at) : ""}</td>
                {!props.compact && <td class="num">{n.items !== undefined ? num(n.items) : ""}</td>}
                {!props.compact && (
                  <td class="num">
                    {r ? `+${num(n.added ?? 0)} −${num(n.removed ?? 0)} ~${num(n.modified ?? 0)}` : ""}
                  </td>
                )}
                <td>
                  {c.running
                    ? "running…"
                    : c.nextRunAt && c.nextRunAt <= Date.now()
                    ? "due now"
                    : c.nextRunAt
                    ? <Time at={c.nextRunAt} rel />
                    : c.enabled
                    ? "—"
                    : "disabled"}
                </td>
                {!props.compact && <td>{every(c.frequency)}</td>}
                <td>
                  <button
                    type="button"
                    class="small-btn"
                    disabled={!!scanning.value || !c.enabled}
                    onClick={() => scanNow(c.name)}
                  >
                    {scanning.value === c.name ? "Scanning…" : "Scan now"}
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The history's hash chain as the last verification found it (`ctagent verify` says more). */
function ChainLine(props: { chain?: ChainState }) {
  const v = props.chain?.verified;
  if (!props.chain) return <>—</>;
  const links = props.chain.head.seq;
  if (!v) return <span class="dim">not verified yet ({num(links)} link{links === 1 ? "" : "s"})</span>;
  return v.ok
    ? (
      <>
        <Pill level="ok">ok</Pill> {num(v.rows)} links, verified <Time at={v.verifiedAt} rel />
      </>
    )
    : (
      <>
        <Pill level="error">broken</Pill> <span class="err">{v.broken?.message}</span> (found{" "}
        <Time at={v.verifiedAt} rel />)
      </>
    );
}

/** What realtime follows per collector and how it went (the daemon's status, as `ctagent status` tells it). */
function Realtime(props: { rt: RealtimeStatus | null }) {
  const rt = props.rt;
  if (!rt) return <Empty>Realtime has not started yet.</Empty>;
  if (!rt.on) {
    return <p class="dim">Off (--no-realtime): changes are seen by the scheduled scans only.</p>;
  }
  return (
    <>
      <p>
        {rt.backend
          ? (
            <>
              <strong>{rt.backend}</strong>
              {rt.attribution
                ? ", names the process and user of each change"
                : ", without process attribution"}
            </>
          )
          : <span class="warn">no file-system watcher can be used here</span>}
        {" · "}
        {num(rt.watches)} watches · {num(rt.events)} events · {num(rt.overflows)} overflows
        {rt.tried.map((t) => <div key={t} class="dim small">not used: {t}</div>)}
      </p>
      <div class="table-wrap">
        <table class="grid compact">
          <thead>
            <tr>
              <th>Collector</th>
              <th>Mode</th>
              <th>Realtime runs</th>
              <th>Changes</th>
              <th>Missed by realtime</th>
              <th>Fallback scans</th>
            </tr>
          </thead>
          <tbody>
            {rt.collectors.map((c) => (
              <tr key={c.name}>
                <td class="strong">
                  {label(c.name)}
                  {c.unwatched.map((u) => (
                    <div key={u.path} class="warn small">not watched: {u.path}: {u.why}</div>
                  ))}
                  {c.lastFallback && (
                    <div class="dim small">
                      last fallback {relative(c.lastFallback.at)}: {c.lastFallback.why}
                    </div>
                  )}
                </td>
                <td>{c.modes.join(" + ") || "off"}</td>
                <td class="num">{num(c.runs)}</td>
                <td class="num">{num(c.changes)}</td>
                <td class={c.missed ? "num err" : "num"}>{num(c.missed)}</td>
                <td class="num">{num(c.fallbacks)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

export function Agent() {
  const st = status.value;
  const runs = useFetch<Record<string, RunRow[]>>("runs?limit=10");
  if (!st) return <div class="view dim">Loading…</div>;
  const o = st.outbox;
  return (
    <div class="view">
      <section class="panel">
        <header>
          <h2>Collectors</h2>
          <button type="button" class="primary" disabled={!!scanning.value} onClick={() => scanNow()}>
            {scanning.value === "all" ? "Scanning…" : "Scan all now"}
          </button>
        </header>
        <CollectorTable collectors={st.collectors} />
      </section>
      <section class="panel">
        <header>
          <h2>Realtime</h2>
        </header>
        <Realtime rt={st.realtime} />
      </section>
      <div class="two">
        <section class="panel">
          <header>
            <h2>Delivery</h2>
          </header>
          <dl class="kv">
            <div>
              <dt>Endpoint</dt>
              <dd>{o.endpoint ?? "—"}</dd>
            </div>
            <div>
              <dt>Reachable</dt>
              <dd>
                {o.reachable === undefined
                  ? "—"
                  : o.reachable
                  ? <Pill level="ok">yes</Pill>
                  : <Pill level="error">no</Pill>}
              </dd>
            </div>
            <div>
              <dt>Waiting in outbox</dt>
              <dd>{num(o.depth)}</dd>
            </div>
            {Object.entries(o.byStream).map(([s, n]) => (
              <div key={s}>
                <dt class="mono small">{s}</dt>
                <dd>{num(n)}</dd>
              </div>
            ))}
            <div>
              <dt>Last delivered</dt>
              <dd>{o.lastDeliveredAt ? <Time at={o.lastDeliveredAt} rel /> : "—"}</dd>
            </div>
            <div>
              <dt>Dropped</dt>
              <dd class={o.dropped ? "err" : undefined}>
                {num(o.dropped ?? 0)}
                {o.dropped && o.droppedReason ? ` (${o.droppedReason})` : ""}
              </dd>
            </div>
            {o.lastError && (
              <div>
                <dt>Last error</dt>
                <dd class="err">{o.lastError}</dd>
              </div>
            )}
          </dl>
        </section>
        <section class="panel">
          <header>
            <h2>Agent</h2>
          </header>
          <dl class="kv">
            <div>
              <dt>Version</dt>
              <dd>{st.version ?? "—"}</dd>
            </div>
            <div>
              <dt>Host</dt>
              <dd>{st.hostname ?? "—"}</dd>
            </div>
            <div>
              <dt>OS</dt>
              <dd>{st.os ?? "—"}</dd>
            </div>
            <div>
              <dt>Started</dt>
              <dd>{st.startedAt ? <Time at={st.startedAt} rel /> : "—"}</dd>
            </div>
            <div>
              <dt>History chain</dt>
              <dd>
                <ChainLine chain={st.chain} />
              </dd>
            </div>
            <div>
              <dt>DCR</dt>
              <dd>
                <a href="#/dcr">{st.config.source}{st.config.dcrId ? ` · ${st.config.dcrId}` : ""}</a>
              </dd>
            </div>
          </dl>
        </section>
      </div>
      <section class="panel">
        <header>
          <h2>Recent runs</h2>
        </header>
        {runs.error && <ErrorBox error={runs.error} />}
        {runs.data && (
          <div class="table-wrap">
            <table class="grid compact">
              <thead>
                <tr>
                  <th>Collector</th>
                  <th>Finished</th>
                  <th>Status</th>
                  <th>Duration</th>
                  <th>Items</th>
                  <th>Added</th>
                  <th>Removed</th>
                  <th>Modified</th>
                  <th>Error</th>
                </tr>
              </thead>
              <tbody>
                {Object.values(runs.data).flat().sort((a, b) => b.finished_at - a.finished_at).slice(0, 30)
                  .map((r) => (
                    <tr key={r.id}>
                      <td>{label(r.collector)}</td>
                      <td>
                        <Time at={r.finished_at} rel />
                      </td>
                      <td>
                        <Pill level={runLevel(r)}>{r.status}</Pill>
                      </td>
                      <td>{duration(r.finished_at - r.started_at)}</td>
                      <td class="num">{num(r.counts.items ?? 0)}</td>
                      <td class="num">{num(r.counts.added ?? 0)}</td>
                      <td class="num">{num(r.counts.removed ?? 0)}</td>
                      <td class="num">{num(r.counts.modified ?? 0)}</td>
                      <td class="err">{r.error ?? ""}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}

function pretty(raw: string): string {
  try {
    return JSON.stringify(JSON.parse(raw), null, 2);
  } catch {
    return raw;
  }
}

export function Dcr() {
  const res = useFetch<
    { current: ConfigRow | null; rejected: ConfigRow[]; live: Record<string, unknown> | null }
  >("config");
  const st = status.value;
  if (res.error) {
    return (
      <div class="view">
        <ErrorBox error={res.error} />
      </div>
    );
  }
  const d = res.data;
  if (!d) return <div class="view dim">Loading…</div>;
  return (
    <div class="view">
      <section class="panel">
        <header>
          <h2>DCR in force</h2>
          <span class="dim">
            {st?.config.source ?? d.current?.source ?? "default"}
            {d.current
              ? (
                <>
                  · {d.current.origin} · received <Time at={d.current.received_at} rel />
                </>
              )
              : null}
          </span>
        </header>
        {st?.config.dcrId && <p class="mono small">{st.config.dcrId}</p>}
        {st?.config.warnings.map((w, i) => <div key={i} class="warn small">{w}</div>)}
        {d.current
          ? (
            <pre
              class="json"
              tabIndex={0}
            >{d.current.normalized ? JSON.stringify(d.current.normalized, null, 2) : pretty(d.current.raw)}</pre>
          )
          : <Empty>No DCR stored yet: the built-in default for this OS is in force.</Empty>}
      </section>
      <section class="panel">
        <header>
          <h2>Rejected DCRs</h2>
          <span class="dim">{num(d.rejected.length)}</span>
        </header>
        {!d.rejected.length && <Empty>No DCR was rejected.</Empty>}
        {d.rejected.map((r) => (
          <details key={r.id} class="rejected">
            <summary>
              <Time at={r.received_at} /> · {r.source} · {r.origin} · {r.errors.length}{" "}
              problem{r.errors.length === 1 ? "" : "s"}
            </summary>
            <ul class="problems">
              {r.errors.map((e, i) => (
                <li key={i}>
                  <code>{e.path}</code>: {e.message}
                </li>
              ))}
            </ul>
            <pre class="json" tabIndex={0}>{pretty(r.raw)}</pre>
          </details>
        ))}
      </section>
    </div>
  );
}
