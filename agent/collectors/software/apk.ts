// apk (Alpine): parses the installed database /lib/apk/db/installed (a pure parser) and reads it from the host.
import { isMissing } from "../../host/mod.ts";
import type { SoftwareItem, SoftwareSource } from "./types.ts";

export const APK_INSTALLED = "/lib/apk/db/installed";

/**
 * The packages of an apk installed database: blank-line separated records of `X:value` lines
 * (P name, V version, A arch, I installed size in bytes, T description, m maintainer, o origin, ...;
 * apk-tools' "installed database" format). apk records no install time.
 */
export function parseApkInstalled(text: string): SoftwareItem[] {
  const items: SoftwareItem[] = [];
  let rec: Record<string, string> = {};
  const flush = () => {
    if (rec.P) {
      const size = Number(rec.I);
      items.push({
        SoftwareName: rec.P,
        CurrentVersion: rec.V ?? "",
        Architecture: rec.A ?? "",
        Publisher: rec.m ?? "",
        SoftwareDescription: rec.T ?? "",
        Size: rec.I !== undefined && Number.isFinite(size) ? size : null,
        SoftwareType: "Package",
        Manager: "apk",
        Status: "installed",
        InstalledAt: null,
        Origin: rec.o ?? null,
      });
    }
    rec = {};
  };
  for (const line of text.split("\n")) {
    if (line === "") {
      flush();
      continue;
    }
    // Only the package's own fields (before its first F:/R: file lines) matter; the first value wins.
    if (line[1] === ":" && !(line[0] in rec)) rec[line[0]] = line.slice(2);
  }
  flush();
  return items;
}

export const apk: SoftwareSource = {
  manager: "apk",
  platforms: ["linux"],
  async present(host) {
    try {
      return (await host.stat(APK_INSTALLED)).isFile;
    } catch (e) {
      return !isMissing(e); // there but unreadable: read() says why, and its packages stay unseen
    }
  },
  async read(host) {
    return { items: parseApkInstalled(await host.readText(APK_INSTALLED)) };
  },
};
