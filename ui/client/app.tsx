// The page's frame: top bar (host, health, scan now, DCR source), left navigation, the routed view, the drawer.
import { Pill } from "./common.tsx";
import { route, type View } from "./route.ts";
import { scanning, scanNow, status, statusError, toast } from "./state.ts";
import { chooseZone, serverZone, type ZoneChoice, zoneChoice } from "./time.ts";
import { num } from "./format.ts";
import { Overview } from "./overview.tsx";
import { Changes } from "./changes.tsx";
import { Inventory } from "./inventory.tsx";
import { Agent, Dcr } from "./agent.tsx";
import { Drawer } from "./drawer.tsx";
import { collectorNamed, COLLECTORS } from "./collectors.ts";
import { GlobalSearch, Search } from "./search.tsx";
import { Compare } from "./compare.tsx";

const NAV: [View, string][] = [
  ["overview", "Overview"],
  ["changes", "Changes"],
  ["compare", "Compare"],
  ...COLLECTORS.map((c): [View, string] => [c.name, c.label]),
  ["agent", "Agent"],
  ["dcr", "DCR"],
];

/**
 * A collector made for some platforms only (registry: Windows) is listed while it is on, or open; the others
 * always.
 */
function listed(view: View, current: View, enabled: Set<string>): boolean {
  const c = collectorNamed(view);
  return !c || c.platforms.length > 1 || enabled.has(view) || view === current;
}

/** What needs the operator besides runs: a DCR rejected after the one in force, tracked paths that are missing. */
function Problems() {
  const p = status.value?.problems;
  if (!p || (!p.rejectedDcrs && !p.missingPaths.length)) return null;
  const m = p.missingPaths.length;
  return (
    <span class="top-problems">
      {p.rejectedDcrs > 0 && (
        <a class="pill pill-error" href="#/dcr">
          {num(p.rejectedDcrs)} DCR{p.rejectedDcrs === 1 ? "" : "s"} rejected
        </a>
      )}
      {m > 0 && (
        <a class="pill pill-warn" href={`#/${COLLECTORS.find((c) => c.content)?.name ?? "agent"}`}>
          {num(m)} tracked path{m === 1 ? "" : "s"} missing
        </a>
      )}
    </span>
  );
}

function ZonePicker() {
  const browser = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return (
    <select
      class="zone"
      aria-label="Time zone of the page's times"
      value={zoneChoice.value}
      onChange={(e) => chooseZone((e.target as HTMLSelectElement).value as ZoneChoice)}
    >
      <option value="browser">Browser time ({browser})</option>
      <option value="server">Server time ({serverZone.value ?? "…"})</option>
      <option value="utc">UTC</option>
    </select>
  );
}

function TopBar() {
  const st = status.value;
  const h = st?.health;
  return (
    <header class="topbar">
      <h1 class="brand">
        <a href="#/overview">ctagent</a>
      </h1>
      <span class="host">
        <b>{st?.hostname ?? "…"}</b>
        {st?.os ? <span class="dim os">· {st.os}</span> : null}
      </span>
      {statusError.value
        ? <Pill level="error">agent unreachable</Pill>
        : h
        ? <Pill level={h.level} title={h.text}>{h.text}</Pill>
        : null}
      <Problems />
      <span class="spacer" />
      <GlobalSearch />
      <ZonePicker />
      {st && (
        <a class="dcr-src" href="#/dcr" title="Where the DCR in force came from">
          DCR: {st.config.source}
        </a>
      )}
      <button type="button" class="primary scan-all" disabled={!!scanning.value} onClick={() => scanNow()}>
        {scanning.value ? "Scanning…" : "Scan now"}
      </button>
    </header>
  );
}

export function App() {
  const { view, params } = route.value;
  const enabled = new Set(status.value?.collectors.filter((c) => c.enabled).map((c) => c.name));
  let body;
  switch (view) {
    case "changes":
      body = <Changes params={params} />;
      break;
    case "agent":
      body = <Agent />;
      break;
    case "dcr":
      body = <Dcr />;
      break;
    case "search":
      body = <Search params={params} />;
      break;
    case "compare":
      body = <Compare params={params} />;
      break;
    default:
      body = collectorNamed(view)
        ? <Inventory key={view} collector={view} params={params} />
        : <Overview since={params.since ?? "24h"} />;
  }
  return (
    <>
      {status.value?.auth === "off" && (
        <div class="no-auth" role="alert">
          No sign-in (--no-auth): every local user can read this page and the file contents it shows. Use this
          only on a throwaway test machine.
        </div>
      )}
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById("main")?.focus();
        }}
      >
        Skip to content
      </a>
      <div class="layout">
        <TopBar />
        <nav class="sidenav" aria-label="Views">
          {NAV.filter(([v]) => listed(v, view, enabled)).map(([v, label]) => (
            <a key={v} href={`#/${v}`} aria-current={view === v ? "page" : undefined}>{label}</a>
          ))}
        </nav>
        <main id="main" tabIndex={-1}>{body}</main>
        {params.item && <Drawer key={params.item} item={params.item} />}
        {toast.value && <div class="toast" role="status">{toast.value}</div>}
      </div>
    </>
  );
}
