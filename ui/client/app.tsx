// The page's frame: top bar (host, health, scan now, DCR source), left navigation, the routed view, the drawer.
import { Pill } from "./common.tsx";
import { route, type View } from "./route.ts";
import { scanning, scanNow, status, statusError, toast } from "./state.ts";
import { Overview } from "./overview.tsx";
import { Changes } from "./changes.tsx";
import { Inventory } from "./inventory.tsx";
import { Agent, Dcr } from "./agent.tsx";
import { Drawer } from "./drawer.tsx";
import { collectorNamed, COLLECTORS } from "./collectors.ts";

const NAV: [View, string][] = [
  ["overview", "Overview"],
  ["changes", "Changes"],
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

function TopBar() {
  const st = status.value;
  const h = st?.health;
  return (
    <header class="topbar">
      <a class="brand" href="#/overview">ctagent</a>
      <span class="host">
        <b>{st?.hostname ?? "…"}</b>
        {st?.os ? <span class="dim os">· {st.os}</span> : null}
      </span>
      {statusError.value
        ? <Pill level="error">agent unreachable</Pill>
        : h
        ? <Pill level={h.level} title={h.text}>{h.text}</Pill>
        : null}
      <span class="spacer" />
      {st && (
        <a class="dcr-src" href="#/dcr" title="Where the DCR in force came from">
          DCR: {st.config.source}
        </a>
      )}
      <button type="button" class="primary" disabled={!!scanning.value} onClick={() => scanNow()}>
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
      <div class="layout">
        <TopBar />
        <nav class="sidenav" aria-label="Views">
          {NAV.filter(([v]) => listed(v, view, enabled)).map(([v, label]) => (
            <a key={v} href={`#/${v}`} aria-current={view === v ? "page" : undefined}>{label}</a>
          ))}
        </nav>
        <main id="main">{body}</main>
        {params.item && <Drawer key={params.item} item={params.item} />}
        {toast.value && <div class="toast" role="status">{toast.value}</div>}
      </div>
    </>
  );
}
