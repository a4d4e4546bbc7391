// dpkg: parses /var/lib/dpkg/status (a pure parser) and reads it from the host.
import type { Host } from "../../host/mod.ts";
import type { SoftwareItem, SoftwareSource } from "./types.ts";

/** Splits a deb822 file into stanzas of field → value (continuation lines joined with "\n"). */
export function parseDeb822(text: string): Record<string, string>[] {
  const stanzas: Record<string, string>[] = [];
  let cur: Record<string, string> = {};
  let last = "";
  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      if (Object.keys(cur).length) stanzas.push(cur);
      cur = {};
      last = "";
    } else if ((line[0] === " " || line[0] === "\t") && last) {
      cur[last] += "\n" + line.slice(1);
    } else {
      const colon = line.indexOf(":");
      if (colon <= 0) continue; // not a field: dpkg itself would refuse the file; skip the line
      last = line.slice(0, colon);
      cur[last] = line.slice(colon + 1).trim();
    }
  }
  if (Object.keys(cur).length) stanzas.push(cur);
  return stanzas;
}

/**
 * The packages of a dpkg status file, as `dpkg-query -W` lists them: every package whose state is not
 * `not-installed` (config-files-only packages included, with their Status saying so).
 */
export function parseDpkgStatus(text: string): SoftwareItem[] {
  const items: SoftwareItem[] = [];
  for (const s of parseDeb822(text)) {
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
      Size: Number.isFinite(kib) && s["Installed-Size"] ? kib * 1024 : null,
      SoftwareType: "Package",
      Manager: "dpkg",
      Status: state,
      InstalledAt: null,
    });
  }
  return items;
}

export const DPKG_STATUS = "/var/lib/dpkg/status";

/** Install time as dpkg leaves it: the mtime of the package's file list in /var/lib/dpkg/info. */
async function installedAt(host: Host, item: SoftwareItem): Promise<string | null> {
  for (const name of [`${item.SoftwareName}:${item.Architecture}`, item.SoftwareName]) {
    try {
      const st = await Deno.stat(host.path(`/var/lib/dpkg/info/${name}.list`));
      if (st.mtime) return st.mtime.toISOString();
    } catch { /* try the next spelling; a package with no file list has no install time */ }
  }
  return null;
}

export const dpkg: SoftwareSource = {
  manager: "dpkg",
  async present(host) {
    try {
      await Deno.stat(host.path(DPKG_STATUS));
      return true;
    } catch {
      return false;
    }
  },
  async read(host) {
    const items = parseDpkgStatus(await host.readText(DPKG_STATUS));
    await Promise.all(items.map(async (i) => (i.InstalledAt = await installedAt(host, i))));
    return items;
  },
};
