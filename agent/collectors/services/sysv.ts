// SysV init services: the scripts in /etc/init.d, their LSB headers, and the rc?.d links that enable them.
import { type FileInfo, type Host, isMissing } from "../../host/mod.ts";
import type { ServiceItem, ServiceSource } from "./types.ts";

/** Where the scripts live: Debian's /etc/init.d, Red Hat's /etc/rc.d/init.d (also linked as /etc/init.d). */
const INIT_DIRS = ["/etc/init.d", "/etc/rc.d/init.d"];
const RC_PARENTS = ["/etc", "/etc/rc.d"];
const RUNLEVELS = ["0", "1", "2", "3", "4", "5", "6", "S"];
/** Files in init.d that are not services (Debian's and Red Hat's helpers). */
const NOT_SERVICES = new Set([
  "README",
  "skeleton",
  "rc",
  "rcS",
  "functions",
  "halt",
  "killall",
  "single",
  "reboot",
]);

/** The fields of an LSB `### BEGIN INIT INFO` block (continuation lines joined with a space). */
export function parseLsbHeader(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const start = text.indexOf("### BEGIN INIT INFO");
  if (start < 0) return out;
  const end = text.indexOf("### END INIT INFO", start);
  const block = text.slice(start, end < 0 ? undefined : end).split("\n").slice(1);
  let last = "";
  for (const line of block) {
    const m = /^#\s?(\S[^:]*):\s*(.*)$/.exec(line);
    if (m && !/^#\s{2,}/.test(line)) {
      last = m[1].trim();
      out[last] = m[2].trim();
    } else if (last && /^#\s+\S/.test(line)) {
      out[last] = `${out[last]} ${line.replace(/^#\s+/, "").trim()}`.trim();
    }
  }
  return out;
}

/** `S20ssh` / `K01ssh` link names → service → runlevel → on/off. */
export function parseRcLinks(dirs: { level: string; names: string[] }[]): Map<string, Map<string, boolean>> {
  const out = new Map<string, Map<string, boolean>>();
  for (const { level, names } of dirs) {
    for (const n of names) {
      const m = /^([SK])(\d{2})(.+)$/.exec(n);
      if (!m) continue;
      const levels = out.get(m[3]) ?? new Map<string, boolean>();
      // An S link wins over a stray K link for the same level: the script is started there.
      levels.set(level, levels.get(level) === true || m[1] === "S");
      out.set(m[3], levels);
    }
  }
  return out;
}

/** `0:off 1:off 2:on ...` in runlevel order. */
export function formatRunlevels(levels: Map<string, boolean> | undefined): string {
  if (!levels) return "";
  return RUNLEVELS.filter((l) => levels.has(l)).map((l) => `${l}:${levels.get(l) ? "on" : "off"}`).join(" ");
}

function firstDir(host: Host, dirs: string[]): string | null {
  for (const d of dirs) {
    try {
      if (host.statSync(d).isDirectory) return d;
    } catch (e) {
      if (!isMissing(e)) return d; // there but unreadable: listing it says why, and nothing reads as removed
    }
  }
  return null;
}

function rcLinks(host: Host): Map<string, Map<string, boolean>> {
  const dirs: { level: string; names: string[] }[] = [];
  for (const level of RUNLEVELS) {
    for (const parent of RC_PARENTS) {
      const dir = `${parent}/rc${level}.d`;
      try {
        const names = [...host.readDirSync(dir)].map((e) => e.name);
        dirs.push({ level, names });
        break;
      } catch (e) {
        // This layout has no such level. One that cannot be listed would turn services on and off.
        if (!isMissing(e)) throw new Error(`cannot list ${dir}: ${(e as Error).message}`);
      }
    }
  }
  return parseRcLinks(dirs);
}

/** A script known only by its name: what an item with an error carries (never diffed, never reported). */
function unreadScript(path: string, name: string): ServiceItem {
  return {
    SvcName: name,
    SvcDisplayName: name,
    SvcDescription: "",
    SvcState: "Unknown",
    SvcStartupType: "unknown",
    SvcAccount: "root",
    SvcPath: path,
    SvcController: "sysv",
    SvcRunlevels: "",
  };
}

export function readSysv(host: Host): ServiceItem[] {
  const dir = firstDir(host, INIT_DIRS);
  if (!dir) return [];
  const links = rcLinks(host);
  const items: ServiceItem[] = [];
  const names = [...host.readDirSync(dir)].map((e) => e.name).sort();
  for (const name of names) {
    if (NOT_SERVICES.has(name) || name.startsWith(".") || /\.(dpkg-\w+|rpm\w+|orig|bak)$|~$/.test(name)) {
      continue;
    }
    const path = `${dir}/${name}`;
    let st: FileInfo;
    try {
      st = host.statSync(path);
    } catch (e) {
      if (isMissing(e)) continue; // a dangling link is no service
      // There but unreadable: kept by its name with the error (its last good data stays).
      items.push({ ...unreadScript(path, name), error: `cannot stat ${path}: ${(e as Error).message}` });
      continue;
    }
    if (!st.isFile || ((st.mode ?? 0o755) & 0o111) === 0) continue;
    let lsb: Record<string, string> = {};
    let error: string | null = null;
    try {
      lsb = parseLsbHeader(host.readTextSync(path));
    } catch (e) {
      error = `cannot read ${path}: ${(e as Error).message}`;
    }
    const levels = links.get(name);
    const started = [...(levels ?? [])].some(([l, on]) => on && l !== "0" && l !== "6");
    const item: ServiceItem = {
      SvcName: name,
      SvcDisplayName: lsb["Short-Description"] ?? name,
      SvcDescription: lsb["Description"] ?? lsb["Short-Description"] ?? "",
      SvcState: "Unknown",
      SvcStartupType: started ? "enabled" : "disabled",
      SvcAccount: "root",
      SvcPath: path,
      SvcController: "init", // as the legacy agent names SysV init (SPEC §7.18)
      SvcRunlevels: formatRunlevels(levels),
    };
    if (error) item.error = error;
    items.push(item);
  }
  return items;
}

export const sysv: ServiceSource = {
  controller: "sysv",
  platforms: ["linux"],
  // deno-lint-ignore require-await
  async present(host) {
    return firstDir(host, INIT_DIRS) !== null;
  },
  // deno-lint-ignore require-await
  async read(host) {
    return { items: readSysv(host), warnings: [] };
  },
};
