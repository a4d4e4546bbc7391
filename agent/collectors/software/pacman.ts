// pacman (Arch): parses the local database's `desc` files (a pure parser) and reads them from the host.
import { type Host, isMissing } from "../../host/mod.ts";
import type { SoftwareItem, SoftwareSource } from "./types.ts";

export const PACMAN_CONF = "/etc/pacman.conf";
export const PACMAN_DBPATH = "/var/lib/pacman";

/** A `desc` file: `%FIELD%` headers, each followed by its value lines, blocks separated by blank lines. */
export function parsePacmanDesc(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let field: string | null = null;
  for (const line of text.split("\n")) {
    const m = /^%([A-Z0-9_]+)%$/.exec(line);
    if (m) {
      field = m[1];
      out[field] = [];
    } else if (line === "") {
      field = null;
    } else if (field) {
      out[field].push(line);
    }
  }
  return out;
}

/** One package from its `desc` file. CurrentVersion is pacman's own `[epoch:]pkgver-pkgrel`. */
export function pacmanItem(desc: Record<string, string[]>): SoftwareItem | null {
  const one = (f: string) => desc[f]?.[0] ?? "";
  const name = one("NAME");
  if (!name) return null;
  const size = Number(one("SIZE"));
  const installed = Number(one("INSTALLDATE"));
  return {
    SoftwareName: name,
    CurrentVersion: one("VERSION"),
    Architecture: one("ARCH"),
    Publisher: one("PACKAGER"),
    SoftwareDescription: one("DESC"),
    Size: one("SIZE") !== "" && Number.isFinite(size) ? size : null,
    SoftwareType: "Package",
    Manager: "pacman",
    // pacman's install reason: 0 (or absent) explicitly installed, 1 installed as a dependency.
    Status: one("REASON") === "1" ? "dependency" : "explicit",
    InstalledAt: one("INSTALLDATE") !== "" && Number.isFinite(installed)
      ? new Date(installed * 1000).toISOString()
      : null,
  };
}

/** The DBPath of pacman.conf (`DBPath = /path/`), or the default. */
export function pacmanDbPath(conf: string | null): string {
  for (const line of (conf ?? "").split("\n")) {
    const m = /^\s*DBPath\s*=\s*(\S+)\s*$/.exec(line);
    if (m) return m[1].replace(/\/+$/, "") || "/";
  }
  return PACMAN_DBPATH;
}

function localDir(host: Host): string {
  let conf: string | null = null;
  try {
    conf = host.readTextSync(PACMAN_CONF);
  } catch (e) {
    // No pacman.conf: the default path. One that cannot be read may name another: never guess.
    if (!isMissing(e)) throw new Error(`cannot read ${PACMAN_CONF}: ${(e as Error).message}`);
  }
  return `${pacmanDbPath(conf)}/local`;
}

export const pacman: SoftwareSource = {
  manager: "pacman",
  platforms: ["linux"],
  async present(host) {
    try {
      return (await host.stat(`${localDir(host)}/ALPM_DB_VERSION`)).isFile;
    } catch (e) {
      return !isMissing(e); // there but unreadable: read() says why, and its packages stay unseen
    }
  },
  // deno-lint-ignore require-await
  async read(host, signal) {
    const dir = localDir(host);
    const items: SoftwareItem[] = [];
    const entries = [...host.readDirSync(dir)].filter((e) => e.isDirectory).map((e) => e.name)
      .sort();
    for (const entry of entries) {
      signal.throwIfAborted();
      const path = `${dir}/${entry}/desc`;
      let text: string;
      try {
        text = host.readTextSync(path);
      } catch (e) {
        // pacman itself refuses a database with a broken entry: fail the run rather than report it removed.
        throw new Error(`cannot read ${path}: ${(e as Error).message}`);
      }
      const item = pacmanItem(parsePacmanDesc(text));
      if (!item) throw new Error(`${path}: no %NAME% field`);
      items.push(item);
    }
    return { items };
  },
};
