// sudoers(5): who a rule names (users, %groups, aliases) and whether it grants every command as root; with its includes.
import { posix } from "node:path";
import type { Host } from "../../host/mod.ts";
import { isMissing } from "../../host/mod.ts";

/** One entry of a user list: `alice`, `#1000`, `%sudo`, `%#27`, `%:group`, `+netgroup`, an alias, `ALL`. */
export interface UserRef {
  negated: boolean;
  kind: "user" | "uid" | "group" | "gid" | "other" | "alias" | "all";
  value: string;
}

/** A user specification: who it names, where it was written, its text, and whether it grants ALL as root. */
export interface SudoRule {
  file: string;
  users: UserRef[];
  /** The rule as written, whitespace collapsed. */
  text: string;
  /** Some command spec of it is `ALL` (or a Cmnd_Alias holding ALL), run as root (or as ALL). */
  grantsAll: boolean;
}

/** What one sudoers file says, before its includes are read. */
export interface SudoersFile {
  rules: { users: UserRef[]; text: string; right: string }[];
  /** Aliases by kind then name: their lists as written (the rules are judged once every file is read). */
  aliases: { user: Map<string, string[]>; runas: Map<string, string[]>; cmnd: Map<string, string[]> };
  /** `@include`/`#include` (file) and `@includedir`/`#includedir` (dir), in the order written, paths as written. */
  includes: { dir: boolean; path: string }[];
  /** Lines that could not be read, by number. */
  skipped: { line: number; why: string }[];
}

/** Splits at any of `seps` outside quotes and parentheses; a backslash keeps the next character. */
function splitTop(text: string, seps: string): string[] {
  const out: string[] = [];
  let cur = "", depth = 0, quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\" && i + 1 < text.length) {
      cur += c + text[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === "(") depth++;
    else if (!quoted && c === ")") depth = Math.max(0, depth - 1);
    else if (!quoted && depth === 0 && seps.includes(c)) {
      out.push(cur);
      cur = "";
      continue;
    }
    cur += c;
  }
  out.push(cur);
  return out;
}

/** A line without its comment: `#` starts one unless it is a uid or gid (`#1000`, `%#27`), quoted or escaped. */
function uncomment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "\\") i++;
    else if (c === '"') quoted = !quoted;
    else if (c === "#" && !quoted && !/\d/.test(line[i + 1] ?? "")) return line.slice(0, i);
  }
  return line;
}

function unquote(s: string): string {
  const t = s.trim();
  return (t.length > 1 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t).replace(/\\(.)/g, "$1");
}

function userRef(raw: string): UserRef {
  const bangs = raw.match(/^!*/)![0].length;
  const v = unquote(raw.slice(bangs));
  const ref = (kind: UserRef["kind"], value: string) => ({ negated: bangs % 2 === 1, kind, value });
  if (v === "ALL") return ref("all", v);
  if (v.startsWith("%#")) return ref("gid", v.slice(2));
  if (v.startsWith("%:") || v.startsWith("+")) return ref("other", v);
  if (v.startsWith("%")) return ref("group", v.slice(1));
  if (/^#\d+$/.test(v)) return ref("uid", v.slice(1));
  if (/^[A-Z][A-Z0-9_]*$/.test(v)) return ref("alias", v);
  return ref("user", v);
}

const ALIAS = /^(User_Alias|Runas_Alias|Host_Alias|Cmnd_Alias|Cmd_Alias)\s+(.*)$/;
const INCLUDE = /^[@#]include(dir)?\s+(.+)$/;

/** Parses one sudoers file's text (continued lines joined, comments dropped). */
export function parseSudoers(text: string): SudoersFile {
  const out: SudoersFile = {
    rules: [],
    aliases: { user: new Map(), runas: new Map(), cmnd: new Map() },
    includes: [],
    skipped: [],
  };
  const raw = text.split("\n");
  for (let i = 0; i < raw.length; i++) {
    const line = i + 1;
    let full = raw[i].replace(/\r$/, "");
    while (full.endsWith("\\") && i + 1 < raw.length) {
      full = full.slice(0, -1) + " " + raw[++i].replace(/\r$/, "");
    }
    const include = full.trim().match(INCLUDE);
    if (include) {
      out.includes.push({ dir: !!include[1], path: unquote(include[2]) });
      continue;
    }
    const t = uncomment(full).trim().replace(/\s+/g, " ");
    if (t === "" || /^Defaults\b/.test(t)) continue;
    const alias = t.match(ALIAS);
    if (alias) {
      const kind = alias[1] === "User_Alias"
        ? "user"
        : alias[1] === "Runas_Alias"
        ? "runas"
        : alias[1] === "Host_Alias"
        ? null
        : "cmnd";
      for (const def of splitTop(alias[2], ":")) {
        const m = def.trim().match(/^([A-Z][A-Z0-9_]*)\s*=\s*(.*)$/);
        if (!m) out.skipped.push({ line, why: `an alias that is not NAME = list` });
        else if (kind) out.aliases[kind].set(m[1], splitTop(m[2], ",").map((s) => s.trim()).filter(Boolean));
      }
      continue;
    }
    const eq = splitTop(t, "=");
    if (eq.length < 2) {
      out.skipped.push({ line, why: "neither a rule, an alias, Defaults nor an include" });
      continue;
    }
    // "users hosts": the user list ends at the first space that no comma is next to.
    const left = eq[0].replace(/\s*,\s*/g, ",").replace(/!\s+/g, "!").trim().split(" ");
    if (left.length !== 2) {
      out.skipped.push({ line, why: "a rule whose user and host lists cannot be told apart" });
      continue;
    }
    const users = splitTop(left[0], ",").filter(Boolean).map(userRef);
    out.rules.push({ users, text: t, right: eq.slice(1).join("=") });
  }
  return out;
}

const TAG = /^(NO)?(PASSWD|EXEC|SETENV|LOG_INPUT|LOG_OUTPUT|MAIL|FOLLOW|INTERCEPT)$/;
const OPTION =
  /^(ROLE|TYPE|CWD|CHROOT|NOTBEFORE|NOTAFTER|TIMEOUT|APPARMOR_PROFILE|PRIVS|LIMITPRIVS)\s*=\s*\S+\s*/;

/** Whether an alias list (Cmnd_Alias, Runas_Alias) holds one of `wanted`, through nested aliases too. */
function holds(
  list: string[],
  aliases: Map<string, string[]>,
  wanted: (s: string) => boolean,
  seen = new Set<string>(),
): boolean {
  return list.some((item) => {
    if (item.startsWith("!")) return false;
    const v = unquote(item);
    if (wanted(v)) return true;
    if (!aliases.has(v) || seen.has(v)) return false;
    seen.add(v);
    return holds(aliases.get(v)!, aliases, wanted, seen);
  });
}

/**
 * Whether the command part of a rule (what follows its first `=`) grants every command as root: a command `ALL`
 * (or a Cmnd_Alias holding it), not negated, whose run-as list (the last `(…)` before it in its host spec; none
 * means root) holds root, `#0` or ALL. Host lists are not judged: a rule for any host counts.
 */
export function grantsAll(right: string, aliases: SudoersFile["aliases"]): boolean {
  let runas: string | undefined;
  for (let piece of splitTop(right, ",:")) {
    piece = piece.trim();
    for (;;) {
      const paren = piece.match(/^\(([^)]*)\)\s*(.*)$/);
      if (paren) {
        runas = paren[1];
        piece = paren[2];
        continue;
      }
      const option = piece.match(OPTION);
      if (option) {
        piece = piece.slice(option[0].length);
        continue;
      }
      // `: host = …`: a new host spec, whose run-as list starts over.
      const hostSpec = piece.match(/^[^\s=()"]+\s*=\s*(.*)$/);
      if (hostSpec) {
        runas = undefined;
        piece = hostSpec[1];
        continue;
      }
      break;
    }
    if (piece === "" || TAG.test(piece)) continue;
    const bangs = piece.match(/^!*/)![0].length;
    const command = piece.slice(bangs).trim();
    if (bangs % 2 === 1 || !holds([command], aliases.cmnd, (c) => c === "ALL")) continue;
    const asUsers = runas === undefined ? ["root"] : splitTop(runas.split(":")[0], ",").map((s) => s.trim());
    if (holds(asUsers, aliases.runas, (u) => u === "ALL" || u === "root" || u === "#0")) return true;
  }
  return false;
}

/** Who a rule is matched against: a user (with its groups) or a group on its own. */
export interface Who {
  name: string;
  id: number;
  /** A user's groups by name and gid; none for a group, or to match a user by name only. */
  groups: { name: string; gid: number }[];
  kind: "user" | "group";
}

function refMatches(ref: UserRef, who: Who, aliases: Map<string, string[]>, seen: Set<string>): boolean {
  switch (ref.kind) {
    case "all":
      return who.kind === "user";
    case "user":
      return who.kind === "user" && ref.value === who.name;
    case "uid":
      return who.kind === "user" && Number(ref.value) === who.id;
    case "group":
      return who.kind === "group" ? ref.value === who.name : who.groups.some((g) => g.name === ref.value);
    case "gid":
      return who.kind === "group"
        ? Number(ref.value) === who.id
        : who.groups.some((g) => g.gid === Number(ref.value));
    case "alias": {
      const list = aliases.get(ref.value);
      if (!list || seen.has(ref.value)) return false;
      return listMatches(list.map(userRef), who, aliases, new Set([...seen, ref.value]));
    }
    default:
      return false; // %:non-unix groups and +netgroups: not known from the files read here
  }
}

/** sudo's rule for lists: the last entry that matches decides (a `!` one excludes). */
function listMatches(
  list: UserRef[],
  who: Who,
  aliases: Map<string, string[]>,
  seen = new Set<string>(),
): boolean {
  for (let i = list.length - 1; i >= 0; i--) {
    if (refMatches(list[i], who, aliases, seen)) return !list[i].negated;
  }
  return false;
}

/** Whether a rule names `who`. */
export function names(rule: SudoRule, who: Who, userAliases: Map<string, string[]>): boolean {
  return listMatches(rule.users, who, userAliases);
}

/** The sudoers of a machine: every rule with its file, the user aliases, and what could not be read. */
export interface Sudoers {
  rules: SudoRule[];
  userAliases: Map<string, string[]>;
  /** Files that are there but this process may not read (EACCES): what they say is unknown. */
  unreadable: string[];
  warnings: string[];
}

/** The file names sudo reads from an includedir: no `.` in them and no trailing `~`, in lexical order. */
export function includedNames(names: string[]): string[] {
  return names.filter((n) => !n.includes(".") && !n.endsWith("~")).sort();
}

const MAX_DEPTH = 128;

/** A file call refused for lack of permission (EACCES): how this process runs, not a failing disk. */
export function isDenied(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === "EACCES";
}

/**
 * Reads /etc/sudoers and what it includes (`%h` is the host's short name; a relative path is relative to the
 * including file's directory). No /etc/sudoers is no rule. A file this process may not read (EACCES) is listed
 * in `unreadable`; any other failure (EIO) throws: the rules would be incomplete without anyone knowing.
 */
export async function readSudoers(host: Host): Promise<Sudoers> {
  const out: Sudoers = { rules: [], userAliases: new Map(), unreadable: [], warnings: [] };
  const files: { file: string; parsed: SudoersFile }[] = [];
  const visit = async (file: string, depth: number, top: boolean): Promise<void> => {
    if (depth > MAX_DEPTH) {
      out.warnings.push(`${file}: includes nested more than ${MAX_DEPTH} deep: not read`);
      return;
    }
    let text: string;
    try {
      text = await host.readText(file);
    } catch (e) {
      if (isMissing(e)) {
        if (!top) out.warnings.push(`${file}: included but not there`);
        return;
      }
      if (isDenied(e)) return void out.unreadable.push(file);
      throw new Error(`cannot read ${file}: ${(e as Error).message}`);
    }
    const parsed = parseSudoers(text);
    files.push({ file, parsed });
    for (const s of parsed.skipped) out.warnings.push(`${file} line ${s.line}: ${s.why}: not read`);
    for (const inc of parsed.includes) {
      const path = inc.path.replace(/%(.)/g, (_, c) => c === "h" ? host.hostname : c === "%" ? "%" : `%${c}`);
      const target = posix.isAbsolute(path) ? path : posix.join(posix.dirname(file), path);
      if (!inc.dir) {
        await visit(target, depth + 1, false);
        continue;
      }
      let entries;
      try {
        entries = host.readDirSync(target).filter((e) => e.isFile || e.isSymlink).map((e) => e.name);
      } catch (e) {
        if (isMissing(e)) continue;
        if (isDenied(e)) {
          out.unreadable.push(target);
          continue;
        }
        throw new Error(`cannot list ${target}: ${(e as Error).message}`);
      }
      for (const name of includedNames(entries)) await visit(posix.join(target, name), depth + 1, false);
    }
  };
  await visit("/etc/sudoers", 0, true);
  const aliases: SudoersFile["aliases"] = { user: out.userAliases, runas: new Map(), cmnd: new Map() };
  for (const { parsed } of files) {
    for (const kind of ["user", "runas", "cmnd"] as const) {
      for (const [k, v] of parsed.aliases[kind]) aliases[kind].set(k, v);
    }
  }
  for (const { file, parsed } of files) {
    for (const r of parsed.rules) {
      out.rules.push({ file, users: r.users, text: r.text, grantsAll: grantsAll(r.right, aliases) });
    }
  }
  return out;
}
