// The systemd unit directories, read once, and what `systemctl list-unit-files` computes from them
// (systemd 252 src/shared/install.c: lookup paths, alias and link resolution, enablement state).
import { basename, dirname, isAbsolute, join, posix } from "node:path";
import { type Host, isMissing } from "../mod.ts";
import {
  applyAssignments,
  emptySettings,
  parseUnitFile,
  parseUnitName,
  templateOf,
  type UnitSettings,
  withInstance,
} from "./unit_file.ts";

/** The system unit search path of systemd 252, highest priority first (systemd.unit(5), lookup_paths_init). */
export const SYSTEM_UNIT_PATH = [
  "/etc/systemd/system.control",
  "/run/systemd/system.control",
  "/run/systemd/transient",
  "/run/systemd/generator.early",
  "/etc/systemd/system",
  "/etc/systemd/system.attached",
  "/run/systemd/system",
  "/run/systemd/system.attached",
  "/run/systemd/generator",
  "/usr/local/lib/systemd/system",
  "/lib/systemd/system",
  "/usr/lib/systemd/system",
  "/run/systemd/generator.late",
];
const PERSISTENT_CONFIG = "/etc/systemd/system";
const GENERATOR_DIRS = new Set([
  "/run/systemd/generator.early",
  "/run/systemd/generator",
  "/run/systemd/generator.late",
]);
const TRANSIENT_DIR = "/run/systemd/transient";
const WANTS_SUFFIXES = [".wants", ".requires", ".upholds"];
const MAX_FOLLOW = 64;

interface DirEntry {
  kind: "file" | "link" | "dir" | "other";
}

interface WantsDir {
  /** The unit that wants (the directory name without .wants/.requires/.upholds). */
  owner: string;
  /** Which dependency the directory makes: Wants, Requires or Upholds. */
  suffix: string;
  /** Names of the symlinks in it (only symlinks count, as in systemd). */
  links: string[];
}

/** One pass over the unit directories: everything the enablement logic needs, read once. */
export interface UnitTree {
  host: Host;
  /** The search path as configured, existing directories or not. */
  searchPath: readonly string[];
  /** Existing unit directories (machine paths), duplicates (same inode, e.g. /lib → /usr/lib) removed. */
  dirs: string[];
  entries: Map<string, Map<string, DirEntry>>;
  wants: Map<string, WantsDir[]>;
  links: Map<string, string | null>;
  texts: Map<string, string>;
}

/**
 * What is at `machinePath` (not following a final symlink), or null when nothing is. Throws when something
 * is there but cannot be read: never taken for nothing.
 */
export function lstatKind(host: Host, machinePath: string): DirEntry["kind"] | null {
  try {
    const st = host.lstatSync(machinePath);
    return st.isSymlink ? "link" : st.isFile ? "file" : st.isDirectory ? "dir" : "other";
  } catch (e) {
    if (isMissing(e)) return null;
    throw new Error(`cannot stat ${machinePath}: ${(e as Error).message}`);
  }
}

/** A directory's entries; throws naming it when it cannot be listed (its units would otherwise vanish). */
function list(host: Host, dir: string): ReturnType<Host["readDirSync"]> {
  try {
    return host.readDirSync(dir);
  } catch (e) {
    throw new Error(`cannot list ${dir}: ${(e as Error).message}`);
  }
}

/**
 * Reads the unit directories under the host's root. A directory that is there but cannot be listed (a unit
 * directory, a .wants directory) throws: what it holds would otherwise read as removed or disabled.
 */
export function scanUnitTree(host: Host, searchPath = SYSTEM_UNIT_PATH): UnitTree {
  const tree: UnitTree = {
    host,
    searchPath,
    dirs: [],
    entries: new Map(),
    wants: new Map(),
    links: new Map(),
    texts: new Map(),
  };
  const seen = new Set<string>();
  for (const dir of searchPath) {
    let id: string;
    try {
      const st = host.statSync(dir);
      if (!st.isDirectory) continue;
      id = `${st.dev}:${st.ino}`;
    } catch (e) {
      if (isMissing(e)) continue;
      throw new Error(`cannot list ${dir}: ${(e as Error).message}`);
    }
    if (seen.has(id)) continue;
    seen.add(id);
    tree.dirs.push(dir);
    const entries = new Map<string, DirEntry>();
    const wants: WantsDir[] = [];
    for (const e of list(host, dir)) {
      const kind = e.isSymlink ? "link" : e.isFile ? "file" : e.isDirectory ? "dir" : "other";
      entries.set(e.name, { kind });
      const suffix = WANTS_SUFFIXES.find((s) => e.name.endsWith(s));
      if (kind === "dir" && suffix) {
        const links = list(host, `${dir}/${e.name}`).filter((l) => l.isSymlink).map((l) => l.name);
        wants.push({ owner: e.name.slice(0, -suffix.length), suffix, links });
      }
    }
    tree.entries.set(dir, entries);
    tree.wants.set(dir, wants);
  }
  return tree;
}

function readLink(tree: UnitTree, machinePath: string): string | null {
  if (!tree.links.has(machinePath)) {
    let target: string | null = null;
    try {
      target = tree.host.readLinkSync(machinePath);
    } catch (e) {
      // Vanished: nothing to follow. A link that is there but cannot be read is not a fact about the unit.
      if (!isMissing(e)) throw new Error(`cannot read the symlink ${machinePath}: ${(e as Error).message}`);
    }
    tree.links.set(machinePath, target);
  }
  return tree.links.get(machinePath)!;
}

/** A symlink target as a machine path, `.` and `..` removed without following links (chase NOFOLLOW). */
function absoluteTarget(linkPath: string, target: string): string {
  return posix.normalize(isAbsolute(target) ? target : join(dirname(linkPath), target));
}

/** Whether a path is under the search path: the whole list, existing or not, as systemctl has it. */
function inSearchPath(tree: UnitTree, p: string): boolean {
  return tree.searchPath.some((d) => p === d || p.startsWith(d + "/"));
}

/** systemd's null_or_empty, links followed: an empty unit file masks its unit, a drop-in on /dev/null is masked. */
function nullOrEmpty(tree: UnitTree, machinePath: string): boolean {
  if (machinePath === "/dev/null") return true;
  try {
    const st = tree.host.statSync(machinePath);
    return st.isFile ? st.size === 0 : Boolean(st.isCharDevice || st.isBlockDevice);
  } catch (e) {
    if (isMissing(e)) return false; // a dangling link: not masked by emptiness
    throw new Error(`cannot stat ${machinePath}: ${(e as Error).message}`);
  }
}

/**
 * Whether a symlink masks the unit: only a link to /dev/null itself. An empty file or another link behind
 * the target is found when the target is loaded in turn, under its own path (as systemctl 252 reports it).
 */
function isMaskTarget(machinePath: string): boolean {
  return machinePath === "/dev/null";
}

type Loaded =
  | { mode: "regular"; path: string }
  | { mode: "masked"; path: string }
  | { mode: "alias" | "linked"; path: string; target: string };

/** A fact about a unit that makes systemd call it "bad" (a dangling alias …), not a read error. */
export class UnitError extends Error {
  override name = "UnitError";
}

/** unit_file_load_or_readlink: what is at `machinePath`, or null when nothing is. */
function load(tree: UnitTree, machinePath: string): Loaded | null {
  const kind = lstatKind(tree.host, machinePath);
  if (kind === null) return null;
  if (kind === "dir") throw new UnitError(`${machinePath} is a directory`);
  if (kind === "link") {
    const raw = readLink(tree, machinePath);
    if (raw === null) throw new UnitError(`cannot read the symlink ${machinePath}`);
    const target = absoluteTarget(machinePath, raw);
    const inside = inSearchPath(tree, target);
    // As unit_file_resolve_symlink: an alias is validated before its target is looked at.
    if (inside && !validAlias(basename(machinePath), basename(target))) {
      throw new UnitError(`${machinePath} → ${raw}: not a valid alias`);
    }
    if (isMaskTarget(target)) return { mode: "masked", path: machinePath };
    if (inside) return { mode: "alias", path: machinePath, target };
    return { mode: "linked", path: machinePath, target };
  }
  if (nullOrEmpty(tree, machinePath)) return { mode: "masked", path: machinePath };
  if (kind !== "file") throw new UnitError(`${machinePath} is not a regular file`);
  return { mode: "regular", path: machinePath };
}

/**
 * unit_validate_alias_symlink: same type, templates alias templates, instances the same instance or a
 * template; a link to the same name inside the search path is a self-alias, which systemd rejects.
 */
function validAlias(alias: string, target: string): boolean {
  if (alias === target) return false;
  const a = parseUnitName(alias), t = parseUnitName(target);
  if (!a || !t || a.type !== t.type) return false;
  if (a.kind === "plain" || a.kind === "template") return t.kind === a.kind;
  return t.kind === "template" || (t.kind === "instance" && t.instance === a.instance);
}

/** Everything known about one unit name after following aliases and links (systemd's InstallInfo). */
export interface UnitInfo {
  /** The name the unit file was finally found under. */
  name: string;
  mode: "regular" | "masked";
  /** Machine path of the unit file (or the mask). */
  path: string;
  /** [Install] settings: fragment plus, when found by name, the name's and template's drop-ins. */
  install: UnitSettings;
}

export function readText(tree: UnitTree, machinePath: string): string {
  let text = tree.texts.get(machinePath);
  if (text === undefined) {
    tree.texts.set(machinePath, text = tree.host.readTextSync(machinePath));
  }
  return text;
}

/** conf_files_list: `*.conf` in the given directories, the first directory winning a name, sorted by name. */
export function dropIns(tree: UnitTree, dirNames: string[]): string[] {
  const byName = new Map<string, string>();
  for (const dirName of dirNames) {
    for (const dir of tree.dirs) {
      const d = `${dir}/${dirName}`;
      if (tree.entries.get(dir)?.get(dirName) === undefined) continue;
      let names: string[];
      try {
        names = [...tree.host.readDirSync(d)].map((e) => e.name).filter((n) => n.endsWith(".conf"));
      } catch (e) {
        if (isMissing(e)) continue; // not a directory after all, or gone
        throw new Error(`cannot list ${d}: ${(e as Error).message}`);
      }
      for (const n of names) if (!byName.has(n)) byName.set(n, `${d}/${n}`);
    }
  }
  return [...byName.keys()].sort().map((n) => byName.get(n)!).filter((p) => !nullOrEmpty(tree, p));
}

/** unit_file_search: the unit file of `name` (or of its template), by name, through the search path. */
function searchByName(tree: UnitTree, name: string): Loaded | null {
  const template = templateOf(name);
  for (const candidate of template ? [name, template] : [name]) {
    for (const dir of tree.dirs) {
      const e = tree.entries.get(dir)?.get(candidate);
      if (!e) continue;
      const l = load(tree, `${dir}/${candidate}`);
      if (l) return l;
    }
  }
  return null;
}

function installFrom(tree: UnitTree, name: string, loaded: Loaded, byName: boolean): UnitSettings {
  const s = emptySettings();
  if (loaded.mode !== "regular") return s;
  applyAssignments(s, parseUnitFile(readText(tree, loaded.path)), true);
  if (byName) {
    const template = templateOf(name);
    for (const p of dropIns(tree, template ? [`${name}.d`, `${template}.d`] : [`${name}.d`])) {
      applyAssignments(s, parseUnitFile(readText(tree, p)), true);
    }
  }
  return s;
}

/** install_info_discover + install_info_traverse: finds the unit file behind `name`, following aliases. */
export function discover(tree: UnitTree, name: string): UnitInfo {
  let cur = name;
  let loaded = searchByName(tree, cur);
  let byName = true;
  if (!loaded) throw new UnitError(`no unit file for ${name}`);
  for (let k = 0; loaded.mode === "alias" || loaded.mode === "linked"; k++) {
    if (k >= MAX_FOLLOW) throw new UnitError(`too many levels of symlinks for ${name}`);
    const target: string = loaded.target;
    let bn = basename(target);
    if (loaded.mode === "linked" || bn === cur) {
      const next = load(tree, target);
      if (!next) throw new UnitError(`${loaded.path} points to ${target}, which does not exist`);
      loaded = next;
      byName = false;
      continue;
    }
    const inst = parseUnitName(cur), tmpl = parseUnitName(bn);
    if (inst?.kind === "instance" && tmpl?.kind === "template") {
      const filled = withInstance(bn, inst.instance!);
      if (filled === cur) {
        const next = load(tree, target);
        if (!next) throw new UnitError(`${loaded.path} points to ${target}, which does not exist`);
        loaded = next;
        byName = false;
        continue;
      }
      bn = filled;
    }
    cur = bn;
    const next = searchByName(tree, cur);
    if (!next) throw new UnitError(`${name} is an alias of ${cur}, which has no unit file`);
    loaded = next;
    byName = true;
  }
  return { name: cur, mode: loaded.mode, path: loaded.path, install: installFrom(tree, cur, loaded, byName) };
}

const isRuntime = (p: string) => p === "/run" || p.startsWith("/run/");

function knownName(info: UnitInfo, n: string): boolean {
  if (n === info.name || info.install.alias.includes(n)) return true;
  const p = parseUnitName(info.name);
  return Boolean(
    info.install.defaultInstance && p?.kind === "template" &&
      n === withInstance(info.name, info.install.defaultInstance),
  );
}

/** find_symlinks: 1 when `dir` holds a symlink enabling `info`; sets sameName for a same-name link. */
function findSymlinks(
  tree: UnitTree,
  info: UnitInfo,
  matchName: boolean,
  ignoreSameName: boolean,
  dir: string,
  flags: { sameName: boolean },
): boolean {
  for (const w of tree.wants.get(dir) ?? []) {
    for (const n of w.links) {
      const foundPath = n === info.name;
      const foundDest = !foundPath && templateOf(n) === info.name;
      if (foundPath || foundDest) {
        if (!matchName || knownName(info, n)) return true;
      }
    }
  }
  for (const [n, e] of tree.entries.get(dir) ?? []) {
    if (e.kind !== "link") continue;
    const raw = readLink(tree, `${dir}/${n}`);
    if (raw === null) continue;
    const foundDest = basename(absoluteTarget(`${dir}/${n}`, raw)) === info.name;
    const foundPath = !ignoreSameName && n === info.name;
    if (foundPath && foundDest) flags.sameName = true;
    else if (foundPath || foundDest) {
      if (!matchName || knownName(info, n)) return true;
    }
  }
  return false;
}

/** find_symlinks_in_scope: enabled / enabled-runtime / static (instances) / linked / linked-runtime, or null. */
function symlinkState(tree: UnitTree, info: UnitInfo, matchName: boolean): string | null {
  let sameConfig = false, sameRuntime = false, inRuntime = false, atAll = false, ignoreSameName = false;
  for (const dir of tree.dirs) {
    const flags = { sameName: false };
    if (findSymlinks(tree, info, matchName, ignoreSameName, dir, flags)) {
      if (dir === PERSISTENT_CONFIG) return "enabled";
      if (isRuntime(dir)) inRuntime = true;
      else atAll = true;
    } else if (flags.sameName) {
      if (dir === PERSISTENT_CONFIG) sameConfig = true;
      else if (isRuntime(dir)) sameRuntime = true;
    }
    if (!ignoreSameName && (info.path === dir || info.path.startsWith(dir + "/"))) ignoreSameName = true;
  }
  if (inRuntime) return "enabled-runtime";
  if (atAll && parseUnitName(info.name)?.kind === "instance") return "static";
  if (sameConfig) return "linked";
  if (sameRuntime) return "linked-runtime";
  return null;
}

/** unit_file_lookup_state: the state word `systemctl list-unit-files` prints for `name`. */
export function unitFileState(tree: UnitTree, name: string, info = discover(tree, name)): string {
  if (info.mode === "masked") return isRuntime(info.path) ? "masked-runtime" : "masked";
  if (basename(info.path) !== name && parseUnitName(info.name)?.kind !== "instance") return "alias";
  const parent = dirname(info.path);
  if (GENERATOR_DIRS.has(parent)) return "generated";
  if (parent === TRANSIENT_DIR) return "transient";
  const s = symlinkState(tree, info, true);
  if (s) return s;
  if (symlinkState(tree, info, false)) return "indirect";
  const i = info.install;
  if (i.alias.length + i.wantedBy.length + i.requiredBy.length + i.upheldBy.length > 0) return "disabled";
  if (i.also.length > 0) return "indirect";
  return "static";
}

/** Every unit name of `type` (".service", ".timer") in the unit directories, sorted (the first directory holding a name wins). */
export function unitNames(tree: UnitTree, type: string): string[] {
  const names = new Set<string>();
  for (const dir of tree.dirs) {
    for (const [n, e] of tree.entries.get(dir)!) {
      if ((e.kind === "file" || e.kind === "link") && n.endsWith(type) && parseUnitName(n)) {
        names.add(n);
      }
    }
  }
  return [...names].sort();
}

/**
 * The drop-ins of unit `name` found as `info` (systemd.unit(5)): `NAME.d` of the name and of the name it was
 * found under, their templates', each dash-prefix's (`foo-.service.d` for `foo-bar.service`) and the type's
 * (`service.d`), the first directory holding a file name winning, in name order.
 */
export function unitDropIns(tree: UnitTree, name: string, info: UnitInfo): string[] {
  const dirNames: string[] = [];
  for (const n of new Set([info.name, name])) {
    dirNames.push(`${n}.d`);
    const t = templateOf(n);
    if (t) dirNames.push(`${t}.d`);
  }
  const type = info.name.slice(info.name.lastIndexOf("."));
  const prefix = info.name.slice(0, -type.length);
  for (let i = prefix.indexOf("-"); i >= 0; i = prefix.indexOf("-", i + 1)) {
    dirNames.push(`${prefix.slice(0, i + 1)}${type}.d`);
  }
  dirNames.push(`${type.slice(1)}.d`);
  return dropIns(tree, dirNames);
}

/** The path a chain of symlinks from `machinePath` ends at, read inside the tree (absolute targets are machine paths). */
function endOfLinks(tree: UnitTree, machinePath: string): string {
  let p = machinePath;
  for (let hops = 0; hops < MAX_FOLLOW && p !== "/dev/null" && lstatKind(tree.host, p) === "link"; hops++) {
    const raw = readLink(tree, p);
    if (raw === null) break;
    p = absoluteTarget(p, raw);
  }
  return p;
}

/**
 * The units the symlinks in the `suffix` directories (`.wants`, `.requires`, `.upholds`) of any of `owners`
 * name, as systemd adds them as dependencies: a link whose target is /dev/null or an empty file masks itself
 * and adds nothing (systemd 252 load-dropin.c process_deps).
 */
export function dependencyLinks(tree: UnitTree, owners: ReadonlySet<string>, suffix: string): string[] {
  const out: string[] = [];
  for (const dir of tree.dirs) {
    for (const w of tree.wants.get(dir) ?? []) {
      if (w.suffix !== suffix || !owners.has(w.owner)) continue;
      for (const link of w.links) {
        if (!nullOrEmpty(tree, endOfLinks(tree, `${dir}/${w.owner}${w.suffix}/${link}`))) out.push(link);
      }
    }
  }
  return out;
}

/**
 * systemd's WantedBy property of `name`: the units whose .wants directories link it (or, for a template, any
 * of its instances), full names as systemd gives them (`multi-user.target`), sorted so the text never flaps.
 */
export function wantedBy(tree: UnitTree, name: string): string[] {
  const isTemplate = parseUnitName(name)?.kind === "template";
  const owners = new Set<string>();
  for (const dir of tree.dirs) {
    for (const w of tree.wants.get(dir) ?? []) {
      if (w.suffix !== ".wants") continue;
      if (w.links.some((n) => n === name || (isTemplate && templateOf(n) === name))) owners.add(w.owner);
    }
  }
  return [...owners].sort();
}
