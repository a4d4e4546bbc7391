// dpkg: parses /var/lib/dpkg/status (a pure parser) and reads it from the host.
import { type Host, isMissing } from "../../host/mod.ts";
import type { SoftwareItem, SoftwareSource } from "./types.ts";
import { breather } from "../../breathe.ts";

/**
 * Splits a deb822 file into stanzas of field → value (continuation lines joined with "\n"). With `only`,
 * other fields (and their long continuations: Conffiles, Description bodies) are skipped, which is what
 * makes a large status file quick to read.
 */
export function parseDeb822(text: string, only?: ReadonlySet<string>): Record<string, string>[] {
  const stanzas: Record<string, string>[] = [];
  let cur: Record<string, string> = {};
  let empty = true;
  let last = "";
  for (const line of text.split("\n")) {
    const c = line.charCodeAt(0);
    if (c === 32 || c === 9) {
      if (last) cur[last] += "\n" + line.slice(1);
    } else if (line.trim() === "") {
      if (!empty) stanzas.push(cur);
      cur = {};
      empty = true;
      last = "";
    } else {
      const colon = line.indexOf(":");
      last = "";
      if (colon <= 0) continue; // not a field: dpkg itself would refuse the file; skip the line
      const name = line.slice(0, colon);
      if (only && !only.has(name)) continue;
      last = name;
      cur[name] = line.slice(colon + 1).trim();
      empty = false;
    }
  }
  if (!empty) stanzas.push(cur);
  return stanzas;
}

const DPKG_FIELDS_AND_DESCRIPTION = new Set([
  "Package",
  "Status",
  "Version",
  "Architecture",
  "Maintainer",
  "Installed-Size",
  "Description",
]);

/**
 * The packages of a dpkg status file, as `dpkg-query -W` lists them: every package whose state is not
 * `not-installed` (config-files-only packages included, with their Status saying so).
 */
export function parseDpkgStatus(text: string): SoftwareItem[] {
  const items: SoftwareItem[] = [];
  for (const s of parseDeb822(text, DPKG_FIELDS_AND_DESCRIPTION)) {
    const name = s["Package"];
    if (!name) continue;
    const state = (s["Status"] ?? "").split(/\s+/)[2] ?? "unknown";
    if (state === "not-installed") continue;
    const kib = Number(s["Installed-Size"]);
    items.push({
      SoftwareName: name,
      CurrentVersion: s["Version"] ?? "",
      Architecture: s["Architecture"] ?? "",
      Publisher: s["Maintainer"] ?? "",
      SoftwareDescription: (s["Description"] ?? "").split("\n")[0],
      // Installed-Size as dpkg gives it, in KiB, as the real agent sends it (SPEC §7.19).
      Size: Number.isFinite(kib) && s["Installed-Size"] ? kib : null,
      SoftwareType: "Package",
      Manager: "dpkg",
      Status: state,
      InstalledAt: null,
    });
  }
  return items;
}

export const DPKG_STATUS = "/var/lib/dpkg/status";

/** `text` in pieces of about `size` characters, each cut after a blank line (whole stanzas). */
export function* stanzaRuns(text: string, size: number): Generator<string> {
  let at = 0;
  while (at < text.length) {
    const blank = at + size >= text.length ? -1 : text.indexOf("\n\n", at + size);
    const end = blank < 0 ? text.length : blank + 1;
    yield text.slice(at, end);
    at = end;
  }
}

/**
 * Install time as dpkg leaves it: the mtime of the package's file list in /var/lib/dpkg/info. Synchronous
 * stats: a thousand of them take a few milliseconds, a thousand promises take ten times as long.
 */
function installedAt(host: Host, item: SoftwareItem): string | null {
  for (const name of [`${item.SoftwareName}:${item.Architecture}`, item.SoftwareName]) {
    const list = `/var/lib/dpkg/info/${name}.list`;
    try {
      const st = host.statSync(list);
      if (st.mtime) return st.mtime.toISOString();
    } catch (e) {
      // Try the next spelling; a package with no file list has no install time. One that is there but
      // cannot be read would make the time flip to null and back: the item keeps its last good data.
      if (!isMissing(e)) throw new Error(`cannot stat ${list}: ${(e as Error).message}`);
    }
  }
  return null;
}

export const dpkg: SoftwareSource = {
  manager: "dpkg",
  platforms: ["linux"],
  async present(host) {
    try {
      await host.stat(DPKG_STATUS);
      return true;
    } catch (e) {
      return !isMissing(e); // there but unreadable: read() says why, and its packages stay unseen
    }
  },
  async read(host, signal) {
    const breathe = breather(signal);
    const items: SoftwareItem[] = [];
    // A piece at a time, so that a stop signal is heard while a big database is read.
    for (const part of stanzaRuns(await host.readText(DPKG_STATUS), 256 * 1024)) {
      for (const item of parseDpkgStatus(part)) items.push(item);
      await breathe();
    }
    for (const i of items) {
      try {
        i.InstalledAt = installedAt(host, i);
      } catch (e) {
        i.error = (e as Error).message;
      }
      await breathe();
    }
    return { items };
  },
};
