// Windows software: programs from the Uninstall keys (as Programs and Features lists them) and patches (KB ids).
//
// Applications: HKLM Uninstall (native view), HKLM WOW6432Node Uninstall (32-bit on a 64-bit OS) and the
// Uninstall key of every user hive that is loaded (HKEY_USERS\<SID>). Like Programs and Features, an entry
// is left out when it has no DisplayName or has SystemComponent=1; an entry with ParentKeyName, an update
// ReleaseType or a KB id in its key name is an installed update, not a program.
// Updates: those Uninstall updates plus the Component Based Servicing packages named `Package_*for_KB…`
// whose CurrentState is 0x70 (installed), which is what Win32_QuickFixEngineering lists; one item per KB id.
import type { SoftwareItem, SoftwareRead, SoftwareSource } from "./types.ts";
import { getValue, type RegistryReader, type RegValue, withKey } from "../../host/registry/reader.ts";
import { valueNumber, valueText } from "../../host/registry/values.ts";
import { fileTimeToDate } from "../../host/registry/hive.ts";
import {
  type FileReader,
  loadHive,
  missingAsNull,
  type Mount,
  offlineRegistry,
} from "../../host/registry/offline.ts";
import { expandWindowsPath } from "../../host/windows_path.ts";

const UNINSTALL = "Microsoft\\Windows\\CurrentVersion\\Uninstall";
const CBS_PACKAGES =
  "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\Packages";
const CBS_INSTALLED = 0x70;
const UPDATE_RELEASE_TYPES = new Set([
  "security update",
  "update",
  "critical update",
  "hotfix",
  "update rollup",
  "service pack",
]);
const KB = /\bKB(\d{5,8})\b/i;

/** Windows software items add the KB id of an update and the registry key the entry came from. */
export interface WindowsSoftwareItem extends SoftwareItem {
  KBId: string | null;
  /** The Uninstall or CBS key the item was read from. */
  SourceKey: string;
}

const text = (values: RegValue[], name: string): string | null => {
  const v = getValue(values, name);
  return v ? valueText(v.type, v.data) : null;
};
const num = (values: RegValue[], name: string): number | null => {
  const v = getValue(values, name);
  return v ? valueNumber(v.type, v.data) : null;
};

/** `20240115` (InstallDate) → ISO 8601 UTC midnight; anything else → null. */
export function parseInstallDate(s: string | null): string | null {
  const m = s?.trim().match(/^(\d{4})(\d{2})(\d{2})$/);
  if (!m) return null;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCMonth() === +m[2] - 1 ? d.toISOString() : null;
}

/** The OS architecture as the registry states it (PROCESSOR_ARCHITECTURE), else guessed from WOW6432Node. */
export function osArchitecture(reader: RegistryReader): string {
  const env = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment";
  const arch = withKey(reader, env, (k) => text(k.values(), "PROCESSOR_ARCHITECTURE"));
  const map: Record<string, string> = { AMD64: "x64", X86: "x86", ARM64: "arm64", IA64: "ia64" };
  if (arch) return map[arch.toUpperCase()] ?? arch.toLowerCase();
  return withKey(reader, "HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node", () => "x64") ?? "x86";
}

interface Source {
  path: string;
  architecture: string;
  manager: string;
}

/** Classifies one Uninstall entry the way Programs and Features does; null when it is hidden there. */
export function uninstallEntry(keyName: string, path: string, values: RegValue[], src: Source) {
  const name = text(values, "DisplayName")?.trim();
  if (!name) return null;
  if (num(values, "SystemComponent") === 1) return null;
  const release = text(values, "ReleaseType")?.trim().toLowerCase() ?? "";
  const kb = keyName.match(KB) ?? name.match(KB);
  const isUpdate = !!text(values, "ParentKeyName") || UPDATE_RELEASE_TYPES.has(release) ||
    !!keyName.match(KB);
  const size = num(values, "EstimatedSize");
  const item: WindowsSoftwareItem = {
    SoftwareName: name,
    CurrentVersion: text(values, "DisplayVersion")?.trim() ?? "",
    Architecture: src.architecture,
    Publisher: text(values, "Publisher")?.trim() ?? "",
    SoftwareDescription: text(values, "Comments")?.trim() ?? "",
    Size: size === null ? null : size * 1024,
    SoftwareType: isUpdate ? "Update" : "Application",
    Manager: src.manager,
    Status: null,
    InstalledAt: parseInstallDate(text(values, "InstallDate")),
    KBId: isUpdate && kb ? `KB${kb[1]}` : null,
    SourceKey: path,
  };
  return item;
}

/**
 * What one pass over part of the registry found: the items, and the key prefixes it could not see. A key
 * that cannot be read marks its part unseen, with a warning naming it: its programs are kept, never Removed.
 */
interface Found {
  items: WindowsSoftwareItem[];
  unseen: Set<string>;
  warnings: string[];
}

/** Runs `fn`; a failure marks `prefix` unseen and names `what` in a warning. */
function guard(found: Found, prefix: string, what: string, fn: () => void) {
  try {
    fn();
  } catch (e) {
    found.unseen.add(prefix);
    found.warnings.push(`cannot read ${what}: ${(e as Error).message}`);
  }
}

function readUninstall(reader: RegistryReader, src: Source, found: Found) {
  // An entry's key (manager, DisplayName, architecture) is inside it: one that cannot be read could be any
  // of the source's programs, so the whole source is unseen this time, not only that entry.
  const prefix = `${src.manager}:`;
  guard(found, prefix, src.path, () => {
    const key = reader.open(src.path);
    if (!key) return;
    try {
      for (const name of key.subkeyNames()) {
        guard(found, prefix, `${src.path}\\${name}`, () => {
          const sub = key.subkey(name);
          try {
            const item = sub && uninstallEntry(name, sub.path, sub.values(), src);
            if (item) found.items.push(item);
          } finally {
            sub?.close();
          }
        });
      }
    } finally {
      key.close();
    }
  });
}

/** `Package_for_KB2533552~31bf3856ad364e35~amd64~~6.1.1.1` → its KB, architecture and version. */
export function parseCbsPackageName(name: string): { kb: string; arch: string; version: string } | null {
  const m = name.match(/^Package_(?:\d+_)?for_KB(\d+)(?:_\w+)?~[0-9a-f]*~([^~]*)~[^~]*~([^~]*)$/i);
  if (!m) return null;
  const archMap: Record<string, string> = { amd64: "x64", x86: "x86", wow64: "x86", arm64: "arm64" };
  return { kb: `KB${m[1]}`, arch: archMap[m[2].toLowerCase()] ?? m[2].toLowerCase(), version: m[3] };
}

function readCbs(reader: RegistryReader, found: Found) {
  const seen = new Set<string>();
  guard(found, "windows:", CBS_PACKAGES, () => {
    const key = reader.open(CBS_PACKAGES);
    if (!key) return;
    try {
      for (const name of key.subkeyNames()) {
        const parsed = parseCbsPackageName(name);
        if (!parsed) continue;
        guard(found, "windows:", `${CBS_PACKAGES}\\${name}`, () => {
          const sub = key.subkey(name);
          if (!sub) return;
          try {
            const values = sub.values();
            if (num(values, "CurrentState") !== CBS_INSTALLED) return;
            const id = `${parsed.kb}:${parsed.arch}`;
            if (seen.has(id)) return; // Package_1_for_KB…, Package_2_for_KB…: one update
            seen.add(id);
            const hi = num(values, "InstallTimeHigh"), lo = num(values, "InstallTimeLow");
            found.items.push({
              SoftwareName: parsed.kb,
              CurrentVersion: parsed.version,
              Architecture: parsed.arch,
              Publisher: "Microsoft Corporation",
              SoftwareDescription: text(values, "ReleaseType") ?? "",
              Size: null,
              SoftwareType: "Update",
              Manager: "windows",
              Status: null,
              InstalledAt: hi !== null && lo !== null ? fileTimeToDate(lo, hi)?.toISOString() ?? null : null,
              KBId: parsed.kb,
              SourceKey: sub.path,
            });
          } finally {
            sub.close();
          }
        });
      }
    } finally {
      key.close();
    }
  });
}

/** The users whose hives are loaded (HKEY_USERS\<SID>, not the `_Classes` halves). */
export function loadedUsers(reader: RegistryReader): string[] {
  return withKey(reader, "HKEY_USERS", (k) => k.subkeyNames().filter((n) => !/_Classes$/i.test(n))) ?? [];
}

/** The per-user Uninstall sources of the users whose hives `reader` has under HKEY_USERS. */
function userSources(reader: RegistryReader, found: Found): Source[] {
  let sids: string[] = [];
  guard(found, "windows-user:", "HKEY_USERS", () => void (sids = loadedUsers(reader)));
  return sids.map((sid) => ({
    path: `HKEY_USERS\\${sid}\\Software\\${UNINSTALL}`,
    // A per-user install does not record its architecture.
    architecture: "",
    manager: `windows-user:${sid}`,
  }));
}

/**
 * Every application and update the registry lists, one item per (manager, name, architecture), and the
 * key prefixes of what could not be read (`windows:` for the machine's programs, `windows-user:<SID>:` for
 * a user's): those are kept as they were, never reported Removed.
 */
export function readWindowsSoftware(
  reader: RegistryReader,
  /** Hives of users who are not logged on, mounted at HKEY_USERS\<SID> (see profileHives). */
  offlineUsers?: RegistryReader,
): { items: WindowsSoftwareItem[]; unseen: string[]; warnings: string[] } {
  const found: Found = { items: [], unseen: new Set(), warnings: [] };
  // The architecture is part of each machine program's key: without it they cannot be told apart.
  let arch: string | null = null;
  guard(found, "windows:", "the OS architecture", () => void (arch = osArchitecture(reader)));
  const machine: Source[] = [];
  if (arch !== null) {
    machine.push({
      path: `HKEY_LOCAL_MACHINE\\SOFTWARE\\${UNINSTALL}`,
      architecture: arch,
      manager: "windows",
    });
  }
  const wow = `HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\${UNINSTALL}`;
  machine.push({ path: wow, architecture: "x86", manager: "windows" });
  for (const s of machine) readUninstall(reader, s, found);
  for (const s of userSources(reader, found)) readUninstall(reader, s, found);
  if (offlineUsers) {
    for (const s of userSources(offlineUsers, found)) {
      readUninstall(offlineUsers, s, found);
    }
  }
  readCbs(reader, found);

  const byKey = new Map<string, WindowsSoftwareItem>();
  const kbs = new Set<string>();
  let duplicates = 0;
  for (const item of found.items) {
    // An update listed both as an Uninstall entry and as a CBS package is one update (the Uninstall name wins).
    if (
      item.KBId && item.SourceKey.startsWith(CBS_PACKAGES) && kbs.has(`${item.KBId}:${item.Architecture}`)
    ) continue;
    const key = `${item.Manager}:${item.SoftwareName}:${item.Architecture}`;
    if (byKey.has(key)) {
      duplicates++;
      continue;
    }
    byKey.set(key, item);
    if (item.KBId) kbs.add(`${item.KBId}:${item.Architecture}`);
  }
  if (duplicates) {
    found.warnings.push(
      `${duplicates} Uninstall entries repeat the name and architecture of another; the first is kept`,
    );
  }
  return { items: [...byKey.values()], unseen: [...found.unseen], warnings: found.warnings };
}

/**
 * The NTUSER.DAT of every local user profile (ProfileList, S-1-5-21-…) whose hive is not loaded, read from
 * disk with its transaction logs and mounted at HKEY_USERS\<SID>. With them a user's own programs stay
 * listed after logoff instead of flipping to Removed (the real agent's behaviour, SPEC §3.1). A profile
 * whose NTUSER.DAT does not exist is left out; one that cannot be read is mounted as unreadable, so its
 * programs are unseen, not gone. `read` takes a Windows path.
 */
export async function profileHives(
  reader: RegistryReader,
  env: Record<string, string | undefined>,
  read: FileReader,
): Promise<RegistryReader> {
  const loaded = new Set(loadedUsers(reader).map((s) => s.toUpperCase()));
  const profiles = withKey(
    reader,
    "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList",
    (k) =>
      k.subkeyNames().filter((sid) => /^S-1-5-21-/i.test(sid) && !loaded.has(sid.toUpperCase())).map(
        (sid) => {
          const sub = k.subkey(sid);
          try {
            return { sid, dir: sub ? text(sub.values(), "ProfileImagePath") : null };
          } finally {
            sub?.close();
          }
        },
      ),
  ) ?? [];
  const mounts: Mount[] = [];
  for (const { sid, dir } of profiles) {
    if (!dir) continue;
    const file = `${expandWindowsPath(dir, env).path.replace(/\\+$/, "")}\\NTUSER.DAT`;
    const m = await loadHive(`HKEY_USERS\\${sid}`, file, read);
    if (m) mounts.push(m);
  }
  return offlineRegistry(mounts);
}

/** The Windows software source of the software collector (live registry, or hives under host.root). */
export const windowsSoftware: SoftwareSource = {
  manager: "windows",
  platforms: ["windows"],
  keyPrefixes: ["windows:", "windows-user:"],
  present: (host) => Promise.resolve(host.os === "windows"),
  async read(host): Promise<SoftwareRead> {
    const reader = await host.registry();
    try {
      // An image's profiles are all mounted already; the live machine has only the logged-on users loaded.
      const users = reader.kind === "live"
        ? await profileHives(reader, host.environment(), missingAsNull((p) => host.readFile(p)))
        : undefined;
      const r = readWindowsSoftware(reader, users);
      // What the hives read say about themselves (dirty without logs, damage), once.
      const about = [...reader.warnings?.() ?? [], ...users?.warnings?.() ?? []];
      return { ...r, warnings: [...new Set([...about, ...r.warnings])] };
    } finally {
      reader.close();
    }
  },
};
