// systemd services: one item per unit file (enablement from the unit tree), state from systemd when it runs.
import { basename } from "node:path";
import { listUnits, type RuntimeState, systemdRunning } from "../../host/systemd/manager.ts";
import type { ServiceItem, ServiceSource } from "./types.ts";
import {
  applyAssignments,
  emptySettings,
  parseUnitFile,
  parseUnitName,
  type UnitSettings,
} from "../../host/systemd/unit_file.ts";
import {
  discover,
  lstatKind,
  readText,
  scanUnitTree,
  unitDropIns,
  UnitError,
  unitFileState,
  type UnitInfo,
  unitNames,
  type UnitTree,
  wantedBy,
} from "../../host/systemd/unit_tree.ts";

/**
 * Running while the main process runs, a reload included (SubState running or reload); a oneshot that has
 * exited, a unit starting, stopping, restarting after a crash or failed is Stopped, as the real agent maps
 * SubState (SPEC §3.1).
 */
export function isRunning(r: RuntimeState): boolean {
  return r.sub === "running" || r.sub === "reload" || r.active === "reloading";
}

function stateOf(
  name: string,
  runtime: Map<string, RuntimeState> | null,
): { state: string; active: string | null } {
  if (!runtime) return { state: "Unknown", active: null };
  if (parseUnitName(name)?.kind === "template") {
    const prefix = name.slice(0, name.indexOf("@") + 1);
    for (const [n, r] of runtime) {
      if (n.startsWith(prefix) && isRunning(r)) return { state: "Running", active: null };
    }
    return { state: "Stopped", active: null };
  }
  const r = runtime.get(name);
  if (!r) return { state: "Stopped", active: "inactive" }; // not loaded: systemd has it inactive (dead)
  return { state: isRunning(r) ? "Running" : "Stopped", active: r.active };
}

/** Description, ExecStart and User from the unit file and all its drop-ins (names, template, prefixes, service.d). */
function unitSettings(
  tree: UnitTree,
  name: string,
  info: UnitInfo,
): { settings: UnitSettings; dropIns: string[] } {
  const settings = emptySettings();
  if (info.mode !== "regular") return { settings, dropIns: [] };
  applyAssignments(settings, parseUnitFile(readText(tree, info.path)));
  const files = unitDropIns(tree, name, info);
  for (const p of files) applyAssignments(settings, parseUnitFile(readText(tree, p)));
  return { settings, dropIns: files };
}

/** Reads every service of the unit tree as items (one per unit file name, templates included, marked). */
export function readUnits(tree: UnitTree, runtime: Map<string, RuntimeState> | null): ServiceItem[] {
  const items: ServiceItem[] = [];
  for (const name of unitNames(tree, ".service")) {
    const kind = parseUnitName(name)!.kind;
    let info: UnitInfo | null = null;
    let startup: string;
    // Why systemd would call the unit "bad" (a dangling alias ...): a fact about the unit, not a read error.
    let problem: string | null = null;
    let error: string | null = null;
    try {
      info = discover(tree, name);
      startup = unitFileState(tree, name, info);
    } catch (e) {
      if (!(e instanceof UnitError)) {
        // A file of the unit could not be read: the item keeps its last good data, with the error.
        error = (e as Error).message;
        startup = "unknown";
        info = null;
      } else {
        startup = "bad";
        problem = e.message;
      }
    }
    let settings = emptySettings(), files: string[] = [];
    if (info) {
      try {
        ({ settings, dropIns: files } = unitSettings(tree, name, info));
      } catch (e) {
        error = `cannot read ${info.path}: ${(e as Error).message}`;
      }
    }
    const aliasOf = startup === "alias" && info ? info.name : null;
    const { state, active } = stateOf(aliasOf ?? name, runtime);
    const exec = settings.execStart[0] ?? "";
    const item: ServiceItem = {
      SvcName: name.slice(0, -".service".length),
      SvcDisplayName: settings.description,
      SvcDescription: settings.description,
      SvcState: state,
      SvcStartupType: startup,
      SvcAccount: info?.mode === "regular"
        ? settings.user || (settings.dynamicUser ? "(dynamic)" : "root")
        : "",
      // As the real agent's `systemctl show` gives them: FragmentPath, and WantedBy (SPEC §7.18).
      SvcPath: info?.path ?? "",
      SvcController: "systemd",
      SvcRunlevels: wantedBy(tree, name).join(" "),
      UnitName: name,
      UnitFile: info?.path ?? null,
      DropIns: files.join(" "),
      ExecStart: exec,
      AliasOf: aliasOf,
      Template: kind === "template",
      ActiveState: active,
      Problem: problem,
    };
    if (error) item.error = error;
    items.push(item);
  }
  return items;
}

export const systemd: ServiceSource = {
  controller: "systemd",
  platforms: ["linux"],
  // deno-lint-ignore require-await
  async present(host) {
    if (systemdRunning(host)) return true;
    // Installed as init (this image boots systemd), or unit files and no SysV scripts to prefer.
    const init = lstatKind(host, "/sbin/init") === "link" ? host.readLinkSync("/sbin/init") : "";
    if (basename(init) === "systemd") return true;
    if (lstatKind(host, "/etc/init.d") === "dir") return false;
    return scanUnitTree(host).dirs.length > 0;
  },
  async read(host, signal) {
    let runtime: Map<string, RuntimeState> | null = null;
    if (systemdRunning(host)) {
      // States that could not be read must not turn every Running into Unknown and back (a flood of
      // Modified records): retry once, then fail the run, which keeps the previous items as they were.
      try {
        runtime = await listUnits(host, ".service", signal);
      } catch {
        signal.throwIfAborted();
        runtime = await listUnits(host, ".service", signal);
      }
    }
    signal.throwIfAborted();
    const tree = scanUnitTree(host);
    return { items: readUnits(tree, runtime), warnings: [] };
  },
};
