// The page's entry: mounts the app, polls the agent status, keyboard shortcuts (/, g c, Esc).
import { render } from "preact";
import { App } from "./app.tsx";
import { listen, refreshStatus } from "./state.ts";
import { navigate, route, setParams, type View } from "./route.ts";
import { COLLECTORS } from "./collectors.ts";

const root = document.getElementById("app")!;
// The boot text ("Loading…") goes: render() adds to what is in its container.
root.textContent = "";
render(<App />, root);
refreshStatus();
// No polling: the server says when something changed (state.ts listen()).
listen();

/** `g` then a key: each collector's shortcut (its spec's), and the page's own views (which win a clash). */
const GO: Record<string, View> = {
  ...Object.fromEntries(COLLECTORS.map((c) => [c.page.shortcut, c.name])),
  o: "overview",
  c: "changes",
  a: "agent",
  d: "dcr",
};
let pendingG = 0;
addEventListener("keydown", (e) => {
  const t = e.target as HTMLElement;
  const typing = t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA";
  if (e.key === "Escape") {
    if (route.value.params.item) setParams({ item: undefined });
    else if (typing) t.blur();
    return;
  }
  if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === "/") {
    const s = document.getElementById("search") as HTMLInputElement | null;
    if (s) {
      e.preventDefault();
      s.focus();
      s.select();
    }
  } else if (e.key === "g") pendingG = Date.now();
  else if (pendingG && Date.now() - pendingG < 1500 && GO[e.key]) {
    pendingG = 0;
    navigate(GO[e.key]);
  }
});
