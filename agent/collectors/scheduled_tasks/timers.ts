// systemd timers: one item per .timer unit (and per instance something starts), its [Timer] schedule after every
// drop-in, the unit it starts and that unit's command, and whether it runs: started at boot by the unit tree
// (what `systemctl list-timers --all` lists after boot), or, where systemd runs, what systemd says now.
import { parseUnitFile, parseUnitName } from "../../host/systemd/unit_file.ts";
import { applyAssignments, emptySettings } from "../../host/systemd/unit_file.ts";
import {
  discover,
  readText,
  scanUnitTree,
  SYSTEM_UNIT_PATH,
  unitDropIns,
  UnitError,
  unitFileState,
  type UnitInfo,
  unitNames,
  type UnitTree,
} from "../../host/systemd/unit_tree.ts";
import { bootUnits, expandSpecifiers, fillTemplate } from "../../host/systemd/boot.ts";
import { listUnits, type RuntimeState, systemdRunning } from "../../host/systemd/manager.ts";
import { type SourceContext, type TaskItem, taskKey, type TaskRead, type TaskSource } from "./types.ts";

/** [Timer] settings that make it elapse (systemd.timer(5)); an empty assignment to any clears them all. */
const TRIGGERS = new Set([
  "OnActiveSec",
  "OnBootSec",
  "OnStartupSec",
  "OnUnitActiveSec",
  "OnUnitInactiveSec",
  "OnCalendar",
]);
/** [Timer] settings that change when or how it elapses, shown after the triggers when set. */
const MODIFIERS = [
  "OnClockChange",
  "OnTimeZoneChange",
  "Persistent",
  "AccuracySec",
  "RandomizedDelaySec",
  "FixedRandomDelay",
  "WakeSystem",
  "RemainAfterElapse",
];

/** What a timer's unit file and drop-ins say, every assignment applied in order. */
export interface TimerSettings {
  /** `OnCalendar=…`, `OnBootSec=…` in order, then the modifiers set (`Persistent=true`). */
  schedule: string[];
  /** Unit= as written, or null (the unit of the same name). */
  unit: string | null;
}

export function timerSettings(texts: readonly string[]): TimerSettings {
  let triggers: string[] = [];
  const modifiers = new Map<string, string>();
  let unit: string | null = null;
  for (const text of texts) {
    for (const a of parseUnitFile(text)) {
      if (a.section !== "Timer") continue;
      if (TRIGGERS.has(a.key)) triggers = a.value === "" ? [] : [...triggers, `${a.key}=${a.value}`];
      else if (a.key === "Unit") unit = a.value || null;
      else if (MODIFIERS.includes(a.key)) {
        if (a.value === "") modifiers.delete(a.key);
        else modifiers.set(a.key, a.value);
      }
    }
  }
  const set = MODIFIERS.filter((k) => modifiers.has(k)).map((k) => `${k}=${modifiers.get(k)}`);
  return { schedule: [...triggers, ...set], unit };
}

const texts = (tree: UnitTree, name: string, info: UnitInfo) =>
  info.mode === "regular" ? [info.path, ...unitDropIns(tree, name, info)].map((p) => readText(tree, p)) : [];

/** What the timer starts: its command and user (the service's ExecStart and User), or why it cannot start it. */
function activated(
  tree: UnitTree,
  unit: string,
): { command: string | null; user: string | null; problem: string | null } {
  let info: UnitInfo;
  try {
    info = discover(tree, unit);
  } catch (e) {
    if (!(e instanceof UnitError)) throw e;
    return {
      command: null,
      user: null,
      problem: `it starts ${unit}, which has no unit file: systemd refuses it`,
    };
  }
  if (info.mode === "masked") {
    return { command: null, user: null, problem: `it starts ${unit}, which is masked: systemd refuses it` };
  }
  const s = emptySettings();
  for (const t of texts(tree, unit, info)) applyAssignments(s, parseUnitFile(t));
  return {
    command: s.execStart.length ? s.execStart.join("; ") : null,
    user: unit.endsWith(".service") ? s.user || (s.dynamicUser ? "(dynamic)" : "root") : null,
    problem: null,
  };
}

/** Every timer of the tree as items; `runtime`: the running systemd's timers, when it runs. */
export function readTimers(tree: UnitTree, runtime: Map<string, RuntimeState> | null): TaskItem[] {
  // systemd refuses to load a timer without a time setting: never started.
  const hasTrigger = (name: string, info: UnitInfo) =>
    timerSettings(texts(tree, name, info)).schedule.some((s) => TRIGGERS.has(s.slice(0, s.indexOf("="))));
  const boot = bootUnits(tree, {
    refuses: (name, info) => name.endsWith(".timer") && !hasTrigger(name, info),
  });
  // Instances have no unit file of their own name: those something starts, or systemd has loaded.
  const instances = [...boot.loaded].filter((n) =>
    n.endsWith(".timer") && parseUnitName(n)?.kind === "instance"
  );
  const names = [...new Set([...unitNames(tree, ".timer"), ...instances, ...runtime?.keys() ?? []])].sort();
  const items: TaskItem[] = [];
  for (const name of names) {
    const item: TaskItem = {
      Task: name,
      Kind: "timer",
      Source: "",
      Line: null,
      Schedule: null,
      User: null,
      Command: null,
      Unit: null,
      UnitState: null,
      Boot: boot.started.has(name) ? "started" : boot.loaded.has(name) ? "loaded" : "no",
      Active: runtime ? runtime.get(name)?.active ?? "inactive" : null,
      Enabled: false,
      Reason: null,
    };
    try {
      let info: UnitInfo;
      try {
        info = discover(tree, name);
      } catch (e) {
        if (!(e instanceof UnitError)) throw e;
        if (!runtime?.has(name)) continue; // no unit file and not loaded: nothing systemd knows
        // Loaded by the running systemd without a unit file we can see: what it says is all there is.
        const active = item.Active === "active";
        items.push({
          ...item,
          Enabled: active,
          Reason: active ? null : `${e.message}; systemd has it ${item.Active}`,
        });
        continue;
      }
      item.Source = info.path;
      item.UnitState = unitFileState(tree, name, info);
      const settings = timerSettings(texts(tree, name, info));
      item.Schedule = settings.schedule.join("; ") || null;
      const unit = fillTemplate(
        expandSpecifiers(settings.unit ?? `${name.slice(0, -"timer".length)}service`, name),
        name,
      );
      const kind = parseUnitName(name)?.kind;
      if (kind !== "template" && info.mode === "regular") {
        item.Unit = unit;
        const a = activated(tree, unit);
        item.Command = a.command;
        item.User = a.user;
        item.Reason = a.problem;
      }
      item.Reason = info.mode === "masked"
        ? "it is masked"
        : kind === "template"
        ? "a template: only its instances run"
        : !hasTrigger(name, info)
        ? "it has no time setting: systemd refuses it"
        : item.Reason ??
          (runtime
            ? item.Active === "active" ? null : `systemd has it ${item.Active}`
            : item.Boot === "started"
            ? null
            : item.Boot === "loaded"
            ? "systemd loads it at boot but nothing starts it"
            : `nothing starts it at boot (${item.UnitState})`);
      item.Enabled = item.Reason === null;
    } catch (e) {
      item.error = (e as Error).message;
    }
    items.push(item);
  }
  return items;
}

export const timers: TaskSource = {
  kind: "timer",
  platforms: ["linux"],
  // Units, drop-ins and the .wants links that enable them, in every directory systemd reads units from.
  watches: () => SYSTEM_UNIT_PATH.map((path) => ({ path, depth: 2 })),
  async read({ host, signal }: SourceContext): Promise<TaskRead> {
    try {
      const runtime = systemdRunning(host) ? await listUnits(host, ".timer", signal) : null;
      signal.throwIfAborted();
      const tree = scanUnitTree(host);
      if (!tree.dirs.length) return { items: [], unseen: [], warnings: [] };
      return { items: readTimers(tree, runtime), unseen: [], warnings: [] };
    } catch (e) {
      signal.throwIfAborted();
      // The unit tree or systemd could not be read: no timer is taken for gone.
      return { items: [], unseen: [taskKey({ Kind: "timer", Task: "" })], warnings: [(e as Error).message] };
    }
  },
};
