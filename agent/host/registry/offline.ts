// An offline registry: hive files mounted at key paths (SOFTWARE at HKLM\SOFTWARE, NTUSER.DAT at HKU\<SID>), read on any OS.
import { join } from "node:path";
import { type Hive, type HiveKey, openHive } from "./hive.ts";
import { getValue, normalizeKeyPath, type RegistryReader, type RegKey } from "./reader.ts";
import { valueNumber, valueText } from "./values.ts";

export interface Mount {
  /** Where the hive's root key appears, e.g. `HKEY_LOCAL_MACHINE\SOFTWARE`. */
  path: string;
  hive: Hive;
  /** Names under the hive's root that stand for another key there (SYSTEM's CurrentControlSet → ControlSet001). */
  links?: Record<string, string>;
}

const upper = (s: string) => s.toUpperCase();

function hiveKey(mount: Mount, k: HiveKey, path: string, atRoot: boolean): RegKey {
  let children: HiveKey[] | undefined;
  const kids = () => (children ??= mount.hive.subkeys(k));
  const self: RegKey = {
    path,
    lastWrite: k.lastWrite,
    // Like the live registry, a link (CurrentControlSet) is listed beside the key it stands for.
    subkeyNames: () => [
      ...kids().map((c) => c.name),
      ...(atRoot && mount.links ? Object.keys(mount.links) : []),
    ],
    values: () => mount.hive.values(k),
    subkey(name) {
      const want = upper(name);
      const found = kids().find((c) => upper(c.name) === want);
      if (found) return hiveKey(mount, found, `${path}\\${found.name}`, false);
      const link = atRoot && mount.links
        ? Object.entries(mount.links).find(([from]) => upper(from) === want)
        : undefined;
      const target = link && kids().find((c) => upper(c.name) === upper(link[1]));
      // A link keeps its own name in the path, as the live registry shows HKLM\SYSTEM\CurrentControlSet\...
      return target ? hiveKey(mount, target, `${path}\\${link[0]}`, false) : null;
    },
    close() {},
  };
  return self;
}

/** A key that only exists because hives are mounted below it (HKEY_LOCAL_MACHINE, HKEY_USERS). */
function virtualKey(path: string, names: string[], open: (p: string) => RegKey | null): RegKey {
  return {
    path,
    lastWrite: null,
    subkeyNames: () => names,
    values: () => [],
    subkey: (name) => open(`${path}\\${name}`),
    close() {},
  };
}

/** A registry made of mounted hives. Keys above the mounts exist as empty keys listing what is below. */
export function offlineRegistry(mounts: Mount[]): RegistryReader {
  const normalized = mounts.map((m) => ({ ...m, path: normalizeKeyPath(m.path) }));
  const open = (raw: string): RegKey | null => {
    const path = normalizeKeyPath(raw);
    const P = upper(path);
    const mount = normalized
      .filter((m) => P === upper(m.path) || P.startsWith(upper(m.path) + "\\"))
      .sort((a, b) => b.path.length - a.path.length)[0];
    if (mount) {
      let key: RegKey | null = hiveKey(mount, mount.hive.root(), mount.path, true);
      for (const part of path.slice(mount.path.length).split("\\").filter(Boolean)) {
        key = key.subkey(part);
        if (!key) return null;
      }
      return key;
    }
    const below = new Map<string, string>();
    for (const m of normalized) {
      if (upper(m.path).startsWith(P + "\\")) {
        const next = m.path.slice(path.length + 1).split("\\")[0];
        below.set(upper(next), next);
      }
    }
    return below.size ? virtualKey(path, [...below.values()], open) : null;
  };
  return { kind: "offline", open, close() {} };
}

/** SYSTEM's current control set (`Select\Current`), as the link the live registry shows as CurrentControlSet. */
export function systemLinks(system: Hive): Record<string, string> {
  const select = system.lookup("Select");
  const current = select ? getValue(system.values(select), "Current") : undefined;
  const n = current ? valueNumber(current.type, current.data) : null;
  return { CurrentControlSet: `ControlSet${String(n ?? 1).padStart(3, "0")}` };
}

/** Mounts for a SYSTEM hive file's bytes at HKLM\SYSTEM, CurrentControlSet resolved. */
export function systemMount(bytes: Uint8Array, source = "SYSTEM"): Mount {
  const hive = openHive(bytes, source);
  return { path: "HKEY_LOCAL_MACHINE\\SYSTEM", hive, links: systemLinks(hive) };
}

/** Finds `relative` under `root` matching each segment case-insensitively (NTFS images on Linux keep case). */
async function findPath(root: string, relative: string): Promise<string | null> {
  let dir = root;
  for (const part of relative.split(/[\\/]/).filter(Boolean)) {
    let hit: string | undefined;
    try {
      for await (const e of Deno.readDir(dir)) if (upper(e.name) === upper(part)) hit = e.name;
    } catch {
      return null;
    }
    if (!hit) return null;
    dir = join(dir, hit);
  }
  return dir;
}

/**
 * The registry of a Windows installation seen as files under `root` (a mounted disk or image, a real path):
 * SOFTWARE and SYSTEM from Windows\System32\config, and each profile's NTUSER.DAT at HKEY_USERS\<SID>
 * (profiles from SOFTWARE's ProfileList). Hives that are absent are left out; returns what it mounted.
 */
export async function offlineRegistryFromRoot(
  root: string,
): Promise<{ reader: RegistryReader; mounted: string[] }> {
  const mounts: Mount[] = [];
  const config = "Windows/System32/config";
  const soft = await findPath(root, `${config}/SOFTWARE`);
  if (soft) {
    mounts.push({ path: "HKEY_LOCAL_MACHINE\\SOFTWARE", hive: openHive(await Deno.readFile(soft), soft) });
  }
  const sys = await findPath(root, `${config}/SYSTEM`);
  if (sys) mounts.push(systemMount(await Deno.readFile(sys), sys));
  const software = mounts[0]?.path.endsWith("SOFTWARE") ? mounts[0].hive : undefined;
  const profiles = software?.lookup("Microsoft\\Windows NT\\CurrentVersion\\ProfileList");
  if (software && profiles) {
    for (const p of software.subkeys(profiles)) {
      const image = getValue(software.values(p), "ProfileImagePath");
      const dir = image ? valueText(image.type, image.data) : null;
      // "C:\Users\x" or "%SystemDrive%\Users\x": the part after the drive is the path on the image.
      const rel = dir?.replace(/^(%\w+%|[A-Za-z]:)/, "");
      const file = rel ? await findPath(root, `${rel}/NTUSER.DAT`) : null;
      if (file) {
        mounts.push({ path: `HKEY_USERS\\${p.name}`, hive: openHive(await Deno.readFile(file), file) });
      }
    }
  }
  return { reader: offlineRegistry(mounts), mounted: mounts.map((m) => m.path) };
}
