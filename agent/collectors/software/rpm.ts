// rpm: lists installed packages through the `rpm` command (one process, a query format) and parses its output.
import { type Host, isMissing } from "../../host/mod.ts";
import type { SoftwareItem, SoftwareSource } from "./types.ts";

/** Where rpm databases live, newest layout first (Fedora 36+ moved it under /usr/lib/sysimage). */
export const RPM_DB_DIRS = ["/usr/lib/sysimage/rpm", "/var/lib/rpm"];
/** The files that make a directory an rpm database: sqlite (rpm ≥ 4.16), ndb, Berkeley DB. */
const RPM_DB_FILES = ["rpmdb.sqlite", "Packages.db", "Packages"];

// Fields are split by US (0x1f), records by RS (0x1e), list entries by GS (0x1d): rpm copies literal
// bytes of the query format, and no header string of a real package holds these control characters.
const FS = "\x1f", RS = "\x1e", GS = "\x1d";
const TAGS = [
  "NAME",
  "EPOCH",
  "VERSION",
  "RELEASE",
  "ARCH",
  "SUMMARY",
  "PACKAGER",
  "VENDOR",
  "LONGSIZE",
  "INSTALLTIME",
] as const;

/** The `--queryformat` the reader passes; `parseRpmQuery()` reads its output. */
export const RPM_QUERY_FORMAT = TAGS.map((t) => `%{${t}}`).join(FS) + `${FS}[%{PROVIDENAME}${GS}]${RS}`;

/**
 * Packages of which several versions stay installed side by side (dnf's `installonlypkgs` default:
 * kernels and what provides `installonlypkg(...)`), plus the imported keys. Their key carries the version:
 * a new kernel is Added next to the old one, not a Modified of it.
 */
const INSTALL_ONLY_NAMES = new Set(["kernel", "kernel-PAE", "gpg-pubkey"]);
const isInstallOnlyProvide = (p: string) => p.startsWith("installonlypkg(") || p === "multiversion(kernel)";

const none = (s: string | undefined) => (s === undefined || s === "(none)" ? "" : s);

/**
 * Parses the output of `rpm -qa --queryformat RPM_QUERY_FORMAT`. CurrentVersion is `E:V-R` with `0` for an
 * unset epoch, as the real agent reports it (SPEC §3.1); Size is in bytes.
 */
export function parseRpmQuery(text: string): SoftwareItem[] {
  const items: SoftwareItem[] = [];
  for (const record of text.split(RS)) {
    if (record.trim() === "") continue;
    const f = record.split(FS);
    if (f.length !== TAGS.length + 1) {
      throw new TypeError(
        `Cannot parse rpm query output: expected ${TAGS.length + 1} fields, got ${f.length} in ${
          JSON.stringify(record.slice(0, 120))
        }`,
      );
    }
    const [name, epoch, version, release, arch, summary, packager, vendor, size, installTime, provides] = f;
    const bytes = Number(none(size));
    const seconds = Number(none(installTime));
    items.push({
      SoftwareName: name,
      CurrentVersion: `${none(epoch) || "0"}:${version}-${release}`,
      Architecture: none(arch),
      Publisher: none(packager) || none(vendor),
      SoftwareDescription: none(summary),
      Size: none(size) !== "" && Number.isFinite(bytes) ? bytes : null,
      SoftwareType: "Package",
      Manager: "rpm",
      Status: "installed",
      InstalledAt: none(installTime) !== "" && Number.isFinite(seconds)
        ? new Date(seconds * 1000).toISOString()
        : null,
      Vendor: none(vendor),
      InstallOnly: INSTALL_ONLY_NAMES.has(name) || provides.split(GS).some(isInstallOnlyProvide),
    });
  }
  // Two versions of one name.arch that are not known install-only (an interrupted transaction):
  // keep both, told apart by version, rather than let one hide the other.
  const count = new Map<string, number>();
  const nameArch = (i: SoftwareItem) => `${i.SoftwareName}.${i.Architecture}`;
  for (const i of items) count.set(nameArch(i), (count.get(nameArch(i)) ?? 0) + 1);
  for (const i of items) if (count.get(nameArch(i))! > 1) i.InstallOnly = true;
  return items;
}

/** The machine path of the rpm database directory on the host, or null when there is none. */
export async function findRpmDb(host: Host): Promise<string | null> {
  for (const dir of RPM_DB_DIRS) {
    for (const file of RPM_DB_FILES) {
      try {
        await host.stat(`${dir}/${file}`);
        return dir;
      } catch (e) {
        // Not this layout; a database file that is there but cannot be read is this one (read() says why).
        if (!isMissing(e)) return dir;
      }
    }
  }
  return null;
}

export const rpm: SoftwareSource = {
  manager: "rpm",
  platforms: ["linux"],
  async present(host) {
    return (await findRpmDb(host)) !== null;
  },
  async read(host, signal) {
    const dir = await findRpmDb(host);
    if (dir === null) throw new Error(`no rpm database under ${RPM_DB_DIRS.join(" or ")}`);
    const dbpath = host.path(dir);
    let res;
    try {
      res = await host.exec("rpm", ["--dbpath", dbpath, "-qa", "--queryformat", RPM_QUERY_FORMAT], {
        signal,
      });
    } catch (e) {
      throw new Error(`cannot run rpm for the database in ${dbpath}: ${(e as Error).message}`);
    }
    if (res.code !== 0) {
      throw new Error(
        `rpm -qa --dbpath ${dbpath} exited with ${res.code}: ${res.stderr.trim().slice(0, 500)}`,
      );
    }
    return { items: parseRpmQuery(res.stdout) };
  },
};
