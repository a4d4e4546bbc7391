// systemd unit names and unit-file syntax (systemd.unit(5), systemd.syntax(7)): pure functions, no I/O.

/** One `Key=value` line of a unit file, with the section it sits in. */
export interface Assignment {
  section: string;
  key: string;
  value: string;
}

/**
 * Parses unit-file text into its assignments, in file order. Comments (`#`, `;`) are skipped, a trailing
 * backslash joins the next line (with a space, as systemd does), comment lines inside a continuation are
 * dropped, and whitespace around keys and values is trimmed.
 */
export function parseUnitFile(text: string): Assignment[] {
  const out: Assignment[] = [];
  let section = "";
  let pending: string | null = null;
  for (const raw of text.split(/\r?\n/)) {
    let line = raw;
    if (pending !== null) {
      if (/^\s*[#;]/.test(line)) continue; // a comment inside a continuation is ignored
      line = pending + " " + line.replace(/^\s+/, "");
      pending = null;
    }
    const trimmed = line.trim();
    if (trimmed.endsWith("\\") && !trimmed.endsWith("\\\\")) {
      pending = trimmed.slice(0, -1).replace(/\s+$/, "");
      continue;
    }
    if (trimmed === "" || trimmed[0] === "#" || trimmed[0] === ";") continue;
    if (trimmed[0] === "[") {
      const end = trimmed.indexOf("]");
      section = end > 0 ? trimmed.slice(1, end) : "";
      continue;
    }
    const eq = trimmed.indexOf("=");
    if (eq <= 0) continue; // not an assignment: systemd logs it and goes on
    out.push({ section, key: trimmed.slice(0, eq).trim(), value: trimmed.slice(eq + 1).trim() });
  }
  if (pending !== null && pending.trim() !== "") {
    const eq = pending.indexOf("=");
    if (eq > 0) out.push({ section, key: pending.slice(0, eq).trim(), value: pending.slice(eq + 1).trim() });
  }
  return out;
}

/** What a service unit and its drop-ins say ([Unit] Description, [Service] ExecStart and User, [Install]), every assignment applied. */
export interface UnitSettings {
  description: string;
  execStart: string[];
  user: string;
  dynamicUser: boolean;
  wantedBy: string[];
  requiredBy: string[];
  upheldBy: string[];
  alias: string[];
  also: string[];
  defaultInstance: string;
}

export function emptySettings(): UnitSettings {
  return {
    description: "",
    execStart: [],
    user: "",
    dynamicUser: false,
    wantedBy: [],
    requiredBy: [],
    upheldBy: [],
    alias: [],
    also: [],
    defaultInstance: "",
  };
}

const words = (v: string) => v.split(/\s+/).filter(Boolean);
const yes = (v: string) => /^(1|yes|y|true|t|on)$/i.test(v);

/**
 * Applies assignments (fragment first, then drop-ins in order) the way systemd does: single values are
 * replaced by later ones, lists grow, an empty assignment resets a list. `installOnly` applies only the
 * [Install] section (what `systemctl enable` reads from drop-ins).
 */
export function applyAssignments(s: UnitSettings, list: Assignment[], installOnly = false): UnitSettings {
  const addList = (cur: string[], v: string) => (v === "" ? [] : [...cur, ...words(v)]);
  for (const { section, key, value } of list) {
    if (section === "Install") {
      if (key === "WantedBy") s.wantedBy = addList(s.wantedBy, value);
      else if (key === "RequiredBy") s.requiredBy = addList(s.requiredBy, value);
      else if (key === "UpheldBy") s.upheldBy = addList(s.upheldBy, value);
      else if (key === "Alias") s.alias = addList(s.alias, value);
      else if (key === "Also") s.also = addList(s.also, value);
      else if (key === "DefaultInstance") s.defaultInstance = value;
    } else if (installOnly) {
      continue;
    } else if (section === "Unit" && key === "Description") {
      s.description = value;
    } else if (section === "Service") {
      if (key === "ExecStart") s.execStart = value === "" ? [] : [...s.execStart, value];
      else if (key === "User") s.user = value;
      else if (key === "DynamicUser") s.dynamicUser = yes(value);
    }
  }
  return s;
}

// Unit names (systemd.unit(5)): prefix[@instance].type, at most 255 characters.
const UNIT_TYPES = new Set([
  "service",
  "socket",
  "target",
  "device",
  "mount",
  "automount",
  "swap",
  "timer",
  "path",
  "slice",
  "scope",
]);
const NAME_RE = /^([A-Za-z0-9:_.\\-]+)(?:@([A-Za-z0-9:_.\\-]*))?\.([a-z]+)$/;

export type NameKind = "plain" | "template" | "instance";

/** The parts of a valid unit name, or null when systemd would not accept it. */
export function parseUnitName(
  name: string,
): { prefix: string; instance: string | null; type: string; kind: NameKind } | null {
  if (name.length > 255) return null;
  const m = NAME_RE.exec(name);
  if (!m || !UNIT_TYPES.has(m[3])) return null;
  const instance = m[2] ?? null;
  return {
    prefix: m[1],
    instance,
    type: m[3],
    kind: instance === null ? "plain" : instance === "" ? "template" : "instance",
  };
}

/** `foo@bar.service` → `foo@.service`; null for names that are not instances. */
export function templateOf(name: string): string | null {
  const p = parseUnitName(name);
  return p?.kind === "instance" ? `${p.prefix}@.${p.type}` : null;
}

/** `foo@.service` + `bar` → `foo@bar.service`. */
export function withInstance(template: string, instance: string): string {
  const p = parseUnitName(template);
  if (!p || p.kind === "plain") {
    throw new TypeError(`Not a template or instance unit name: ${JSON.stringify(template)}`);
  }
  return `${p.prefix}@${instance}.${p.type}`;
}
