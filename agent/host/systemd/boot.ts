// What systemd starts and loads at boot from a unit tree: the initial transaction of default.target and every
// unit it references, as `systemd --test --system` computes it (systemd 252 src/core: unit loading, the
// dependencies each unit file and .wants/.requires/.upholds directory makes, the default dependencies).
import { parseUnitFile, parseUnitName, templateOf, withInstance } from "./unit_file.ts";
import {
  dependencyLinks,
  discover,
  readText,
  unitDropIns,
  UnitError,
  type UnitInfo,
  type UnitTree,
} from "./unit_tree.ts";

/** What the boot transaction does with the units of a tree, by the names their unit files are found under. */
export interface BootUnits {
  /** Units the boot transaction starts (a timer among them fires; `systemctl list-timers` lists it). */
  started: Set<string>;
  /**
   * Units systemd has loaded after boot, started or only referenced, with a unit file or not (`systemctl
   * list-timers --all`).
   */
  loaded: Set<string>;
}

/** [Unit] dependencies that start what they name when the unit starts (Upholds= right after the transaction). */
const STARTING = new Set(["Wants", "Requires", "BindsTo", "Upholds"]);
/** [Unit] settings that only make systemd load the unit they name (ordering, stopping, failure handling …). */
const REFERENCING = new Set([
  "Requisite",
  "PartOf",
  "Before",
  "After",
  "OnFailure",
  "OnSuccess",
  "PropagatesReloadTo",
  "ReloadPropagatedFrom",
  "PropagatesStopTo",
  "StopPropagatedFrom",
  "JoinsNamespaceOf",
]);
/** The directories of a unit whose symlinks start what they name, by their suffix. */
const STARTING_DIRS = new Set([".wants", ".requires", ".upholds"]);
const yes = (v: string) => /^(1|yes|y|true|t|on)$/i.test(v);

/** Unit-file specifiers of a name (systemd.unit(5)) that dependencies use: %n %N %p %i %I %j %J %%. */
export function expandSpecifiers(text: string, name: string): string {
  const p = parseUnitName(name);
  const prefix = p?.prefix ?? name;
  const instance = p?.instance ?? "";
  const dash = prefix.lastIndexOf("-");
  return text.replace(/%([nNpPiIjJ%])/g, (whole, c: string) => {
    switch (c) {
      case "n":
        return name;
      case "N":
        return name.slice(0, name.lastIndexOf("."));
      case "p":
      case "P":
        return prefix;
      case "i":
      case "I":
        return instance;
      case "j":
      case "J":
        return dash >= 0 ? prefix.slice(dash + 1) : prefix;
      case "%":
        return "%";
    }
    return whole;
  });
}

interface Edges {
  start: string[];
  load: string[];
  /** The units it conflicts with (loaded too). */
  conflicts: string[];
}

/**
 * The units `name` (found as `info`) starts and references once loaded. A masked unit is loaded with its
 * drop-ins and .wants/.requires/.upholds directories but not its unit file, so only they name units (systemd
 * 252 unit_load_fragment_and_dropin), and it gets no default dependencies.
 */
function edgesOf(tree: UnitTree, name: string, info: UnitInfo): Edges {
  const start: string[] = [], load: string[] = [], conflicts: string[] = [];
  const type = name.slice(name.lastIndexOf(".") + 1);
  const masked = info.mode === "masked";
  let defaults = !masked;
  let triggers: string | null = null;
  const dropIns = unitDropIns(tree, name, info);
  for (const path of masked ? dropIns : [info.path, ...dropIns]) {
    for (const a of parseUnitFile(readText(tree, path))) {
      const names = () => a.value.split(/\s+/).filter(Boolean).map((n) => expandSpecifiers(n, name));
      if (a.section === "Unit") {
        if (STARTING.has(a.key)) start.push(...names());
        else if (a.key === "Conflicts") conflicts.push(...names());
        else if (REFERENCING.has(a.key)) load.push(...names());
        else if (a.key === "DefaultDependencies") defaults = !masked && yes(a.value);
      } else if ((a.section === "Timer" || a.section === "Path") && a.key === "Unit") {
        triggers = expandSpecifiers(a.value, name);
      }
    }
  }
  // What a timer or path unit activates: Unit=, else the unit of the same name with .service.
  if (!masked && (type === "timer" || type === "path")) {
    load.push(triggers ?? `${name.slice(0, -type.length)}service`);
  }
  // The .wants/.requires/.upholds directories of each name the unit has (and of its template).
  const names = new Set([name, info.name]);
  for (const n of [...names]) {
    const t = templateOf(n);
    if (t) names.add(t);
  }
  for (const suffix of STARTING_DIRS) start.push(...dependencyLinks(tree, names, suffix));
  // Default dependencies (systemd.service(5), systemd.timer(5) …): what every such unit needs and orders against.
  if (defaults && ["service", "socket", "timer", "path", "mount", "swap", "automount"].includes(type)) {
    start.push("sysinit.target");
    conflicts.push("shutdown.target");
    if (type === "service") load.push("basic.target");
    if (type === "timer") load.push("timers.target", "time-set.target", "time-sync.target");
  }
  const fill = (ref: string) => fillTemplate(ref, name);
  return { start: start.map(fill), load: [...load, ...conflicts].map(fill), conflicts: conflicts.map(fill) };
}

/**
 * A template a unit names stands for its instance named after the unit: the unit's own instance, or its name
 * without the type when it has none (systemd's resolve_template): `x@.service` from `t.timer` is `x@t.service`.
 */
export function fillTemplate(ref: string, from: string): string {
  const r = parseUnitName(ref);
  if (r?.kind !== "template") return ref;
  const f = parseUnitName(from);
  return withInstance(ref, f?.instance || (f?.prefix ?? from));
}

/**
 * The units the boot transaction of `tree` starts (default.target and everything its start-propagating
 * dependencies reach) and loads (those, and every unit they reference). A unit without a unit file, masked,
 * whose links systemd rejects, or that `refuses` (what a unit type's own check finds wrong with a unit file:
 * a timer without a time setting) is never started. Throws when a unit file cannot be read.
 */
export function bootUnits(
  tree: UnitTree,
  opts: { target?: string; refuses?: (name: string, info: UnitInfo) => boolean } = {},
): BootUnits {
  const target = opts.target ?? "default.target";
  const infos = new Map<string, { info: UnitInfo; edges: Edges } | null>();
  const resolve = (name: string) => {
    if (!infos.has(name)) {
      let entry: { info: UnitInfo; edges: Edges } | null = null;
      if (parseUnitName(name)?.kind !== "template") {
        try {
          const info = discover(tree, name);
          entry = { info, edges: edgesOf(tree, name, info) };
        } catch (e) {
          if (!(e instanceof UnitError)) throw e;
        }
      }
      infos.set(name, entry);
    }
    return infos.get(name)!;
  };
  // An alias is the unit it names: counted by the name the unit file was found under.
  const canonical = (name: string) => {
    const r = resolve(name);
    return r && parseUnitName(r.info.name)?.kind !== "template" ? r.info.name : name;
  };
  // Breadth first: a unit that conflicts with one already started (either naming the other) loses its start
  // job. (Of two wanted units that conflict, systemd keeps the one its job weighing prefers, not always the
  // first reached; ordering cycles are broken the same way. Neither is modelled: both are broken setups.)
  const started = new Set<string>();
  const conflicted = new Set<string>();
  const queue = [target];
  for (let i = 0; i < queue.length; i++) {
    const name = canonical(queue[i]);
    const r = resolve(queue[i]);
    if (r?.info.mode !== "regular" || started.has(name) || conflicted.has(name)) continue;
    if (opts.refuses?.(queue[i], r.info)) continue;
    if (r.edges.conflicts.some((c) => started.has(canonical(c)))) continue;
    started.add(name);
    for (const c of r.edges.conflicts) conflicted.add(canonical(c));
    queue.push(...r.edges.start);
  }
  // systemd loads every unit a loaded unit names, with a unit file or not (list-units --all shows it
  // not-found); only the ones with a unit file (or a mask) name further units.
  const loaded = new Set<string>();
  const more = [...started];
  while (more.length) {
    const name = more.pop()!;
    if (!parseUnitName(name) || parseUnitName(name)!.kind === "template" || loaded.has(canonical(name))) {
      continue;
    }
    loaded.add(canonical(name));
    more.push(...(resolve(name)?.edges.start ?? []), ...(resolve(name)?.edges.load ?? []));
  }
  return { started, loaded };
}
