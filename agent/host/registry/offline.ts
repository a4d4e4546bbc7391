// An offline registry: hive files mounted at key paths (SOFTWARE at HKLM\SOFTWARE, NTUSER.DAT at HKU\<SID>), read on any OS.
import { join } from "node:path";
import { type Hive, type HiveKey, openHive } from "./hive.ts";
import { type LogFile, recoverHive } from "./hive_log.ts";
import { getValue, normalizeKeyPath, type RegistryReader, type RegKey } from "./reader.ts";
import { valueNumber, valueText } from "./values.ts";

/** A hive mounted at a key path. */
export interface HiveMount {
  /** Where the hive's root key appears, e.g. `HKEY_LOCAL_MACHINE\SOFTWARE`. */
  path: string;
  hive: Hive;
  /** Names under the hive's root that stand for another key there (SYSTEM's CurrentControlSet → ControlSet001). */
  links?: Record<string, string>;
  /** Why the links cannot be followed (SYSTEM's Select key is unreadable); they are listed, never opened. */
  linkError?: string;
  /** What a reader of this hive should be told (dirty without its logs, damaged hive bins). */
  warnings?: string[];
}

/**
 * A hive file that is there but cannot be read (damaged, unreadable): every key at and below its path is
 * unreadable (kept, never Removed), never absent.
 */
export interface BrokenMount {
  path: string;
  error: string;
  warnings?: string[];
}

export type Mount = HiveMount | BrokenMount;

const upper = (s: string) => s.toUpperCase();

function hiveKey(mount: HiveMount, k: HiveKey, path: string, atRoot: boolean): RegKey {
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
      if (link && mount.linkError) throw new Error(`${path}\\${link[0]}: ${mount.linkError}`);
      const target = link && kids().find((c) => upper(c.name) === upper(link[1]));
      // A link keeps its own name in the path, as the live registry shows HKLM\SYSTEM\CurrentControlSet\...
      return target ? hiveKey(mount, target, `${path}\\${link[0]}`, false) : null;
    },
    close() {},
  };
  return self;
}

/** A key that only exists because hives are mounted below it (HKEY_LOCAL_MACHINE, HKEY_USERS). */
function virtualKey(
  path: string,
  names: string[],
  open: (p: string) => RegKey | null,
  incomplete?: string,
): RegKey {
  return {
    path,
    lastWrite: null,
    subkeyNames: () => {
      if (incomplete) throw new Error(`cannot list ${path}: ${incomplete}`);
      return names;
    },
    values: () => [],
    subkey: (name) => open(`${path}\\${name}`),
    close() {},
  };
}

export interface OfflineOptions {
  /** Warnings about the registry as a whole (a user hive that could not be placed), always reported. */
  warnings?: string[];
  /**
   * Keys above the mounts whose list of subkeys is not known in full, and why (HKEY_USERS when the profile
   * list cannot be read): listing them throws, so what is below is unseen rather than gone.
   */
  incomplete?: Record<string, string>;
}

/**
 * A registry made of mounted hives. Keys above the mounts exist as empty keys listing what is below. Its
 * `warnings()` are those of the hives opened so far (a collector hears only about the hives it read).
 */
export function offlineRegistry(mounts: Mount[], opts: OfflineOptions = {}): RegistryReader {
  const normalized = mounts.map((m) => ({ ...m, path: normalizeKeyPath(m.path) }));
  const incomplete = new Map(
    Object.entries(opts.incomplete ?? {}).map(([p, why]) => [upper(normalizeKeyPath(p)), why]),
  );
  const touched = new Set<Mount>();
  const open = (raw: string): RegKey | null => {
    const path = normalizeKeyPath(raw);
    const P = upper(path);
    const mount = normalized
      .filter((m) => P === upper(m.path) || P.startsWith(upper(m.path) + "\\"))
      .sort((a, b) => b.path.length - a.path.length)[0];
    if (mount) {
      touched.add(mount);
      if ("error" in mount) throw new Error(`${mount.path} cannot be read: ${mount.error}`);
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
    const why = incomplete.get(P);
    return below.size || why ? virtualKey(path, [...below.values()], open, why) : null;
  };
  return {
    kind: "offline",
    open,
    close() {},
    warnings: () => [...new Set([...opts.warnings ?? [], ...[...touched].flatMap((m) => m.warnings ?? [])])],
  };
}

/** SYSTEM's current control set (`Select\Current`), as the link the live registry shows as CurrentControlSet. */
export function systemLinks(system: Hive): Record<string, string> {
  const select = system.lookup("Select");
  const current = select ? getValue(system.values(select), "Current") : undefined;
  const n = current ? valueNumber(current.type, current.data) : null;
  return { CurrentControlSet: `ControlSet${String(n ?? 1).padStart(3, "0")}` };
}

/** A SYSTEM hive mounted at HKLM\SYSTEM, CurrentControlSet resolved (unopenable when Select is unreadable). */
export function systemMount(hive: Hive | Uint8Array, source = "SYSTEM"): Mount {
  const h = hive instanceof Uint8Array ? openHive(hive, source) : hive;
  const path = "HKEY_LOCAL_MACHINE\\SYSTEM";
  try {
    return { path, hive: h, links: systemLinks(h) };
  } catch (e) {
    const linkError = `Select\\Current cannot be read: ${(e as Error).message}`;
    return { path, hive: h, links: { CurrentControlSet: "" }, linkError };
  }
}

/**
 * Reads files by path: the bytes, or null when there is no such file. Any other failure (access denied,
 * an I/O error) throws: a file that is there but unreadable is never taken for an absent one.
 */
export type FileReader = (path: string) => Promise<Uint8Array | null>;

/** A reader whose missing file (ENOENT) is null; any other failure stays a failure. */
export function missingAsNull(read: (path: string) => Promise<Uint8Array>): FileReader {
  return async (path) => {
    try {
      return await read(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || (e as { code?: unknown }).code === "ENOENT") return null;
      throw e;
    }
  };
}

/** `Deno.readFile` with a missing file as null. */
export const readFileOrNull: FileReader = missingAsNull((path) => Deno.readFile(path));

/**
 * A hive file, read with the transaction logs beside it (`<file>.LOG1`, `.LOG2`, `.LOG`) applied as
 * Windows applies them on load, mounted at `path`; an error mount when it cannot be read; null when the
 * file does not exist. Never throws. Logs are only read, never written, and so is the hive.
 */
export async function loadHive(path: string, file: string, read: FileReader): Promise<Mount | null> {
  let bytes: Uint8Array | null;
  try {
    bytes = await read(file);
  } catch (e) {
    return { path, error: `cannot read ${file}: ${(e as Error).message}` };
  }
  if (!bytes) return null;
  const warnings: string[] = [];
  const logs: LogFile[] = [];
  for (const ext of ["LOG1", "LOG2", "LOG"]) {
    const source = `${file}.${ext}`;
    try {
      const log = await read(source);
      if (log?.length) logs.push({ source, bytes: log });
    } catch (e) {
      warnings.push(`cannot read ${source}: ${(e as Error).message}`);
    }
  }
  try {
    const recovered = recoverHive(bytes, logs, file);
    const hive = openHive(recovered.bytes, file);
    warnings.push(...recovered.warnings);
    for (const d of hive.damage) {
      warnings.push(
        `${file}: the hive bin at 0x${
          d.bin.toString(16)
        } is damaged (${d.what}): what it holds cannot be read`,
      );
    }
    return { path, hive, warnings };
  } catch (e) {
    return { path, error: (e as Error).message, warnings };
  }
}

/**
 * Reads files under `root` by a relative path matched one segment at a time case-insensitively (an NTFS
 * image mounted on Linux keeps case, Windows paths in the registry do not).
 */
export function imageReader(
  root: string,
): { read: FileReader; find: (relative: string) => Promise<string | null> } {
  const find = async (relative: string): Promise<string | null> => {
    let dir = root;
    for (const part of relative.split(/[\\/]/).filter(Boolean)) {
      let hit: string | undefined;
      try {
        for await (const e of Deno.readDir(dir)) if (upper(e.name) === upper(part)) hit = e.name;
      } catch (e) {
        if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
        throw new Error(`cannot list ${dir}: ${(e as Error).message}`);
      }
      if (!hit) return null;
      dir = join(dir, hit);
    }
    return dir;
  };
  const read: FileReader = async (relative) => {
    const path = await find(relative);
    return path === null ? null : await readFileOrNull(path);
  };
  return { read, find };
}

/** A binary SID at `at` of `sd` (a security descriptor, a SAM record) as text (`S-1-5-21-…`), or null if cut short. */
export function sidAt(sd: Uint8Array, at: number): string | null {
  if (at + 8 > sd.length) return null;
  const count = sd[at + 1];
  if (at + 8 + count * 4 > sd.length) return null;
  const view = new DataView(sd.buffer, sd.byteOffset, sd.byteLength);
  let authority = 0;
  for (let i = 2; i < 8; i++) authority = authority * 256 + sd[at + i];
  const subs = Array.from({ length: count }, (_, i) => view.getUint32(at + 8 + i * 4, true));
  return `S-${sd[at]}-${authority}${subs.map((s) => `-${s}`).join("")}`;
}

const KEY_ALL_ACCESS = 0xf003f;

/**
 * The user a profile hive belongs to: Windows gives the root key of each NTUSER.DAT one access-allowed
 * entry with full control for its user (beside SYSTEM and Administrators). That SID when there is exactly
 * one such domain or local account (S-1-5-21-…), else null.
 */
export function profileOwner(hive: Hive): string | null {
  const sd = hive.security(hive.root());
  if (sd.length < 20) return null;
  const view = new DataView(sd.buffer, sd.byteOffset, sd.byteLength);
  const dacl = view.getUint32(16, true);
  if (!dacl || dacl + 8 > sd.length) return null;
  const users = new Set<string>();
  let at = dacl + 8;
  for (let i = 0; i < view.getUint16(dacl + 4, true) && at + 8 <= sd.length; i++) {
    const type = sd[at], size = view.getUint16(at + 2, true);
    if (size < 8) return null;
    const sid = sidAt(sd, at + 8);
    if (
      type === 0 && (view.getUint32(at + 4, true) & KEY_ALL_ACCESS) === KEY_ALL_ACCESS &&
      sid?.startsWith("S-1-5-21-")
    ) {
      users.add(sid);
    }
    at += size;
  }
  return users.size === 1 ? [...users][0] : null;
}

const PROFILE_LIST = "Microsoft\\Windows NT\\CurrentVersion\\ProfileList";

/**
 * The SYSTEM hive of a Windows installation under `root` (a real path), its logs applied, at HKLM\SYSTEM with
 * CurrentControlSet resolved; an error mount when it cannot be read; null when there is none.
 */
export async function systemHiveOf(root: string): Promise<Mount | null> {
  const path = "HKEY_LOCAL_MACHINE\\SYSTEM";
  const sys = await loadHive(path, "Windows/System32/config/SYSTEM", imageReader(root).read);
  return sys && "hive" in sys ? { ...systemMount(sys.hive), warnings: sys.warnings } : sys;
}

/**
 * The registry of a Windows installation seen as files under `root` (a mounted disk or image, a real path):
 * SOFTWARE, SYSTEM and SAM from Windows\System32\config, and each user's NTUSER.DAT at HKEY_USERS\<SID> (the
 * profiles of SOFTWARE's ProfileList, and any Users\*\NTUSER.DAT, its SID read from the hive's own root
 * key), each with its transaction logs applied. A hive that is absent is left out; one that cannot be read
 * is mounted as unreadable, so only what it holds is unseen. Returns what it mounted.
 */
export async function offlineRegistryFromRoot(
  root: string,
): Promise<{ reader: RegistryReader; mounted: string[] }> {
  const { read, find } = imageReader(root);
  const mounts: Mount[] = [];
  const config = "Windows/System32/config";
  const soft = await loadHive("HKEY_LOCAL_MACHINE\\SOFTWARE", `${config}/SOFTWARE`, read);
  if (soft) mounts.push(soft);
  const sys = await systemHiveOf(root);
  if (sys) mounts.push(sys);
  // The local accounts, where the live registry shows them (HKLM\SAM; only SYSTEM may read it there).
  const sam = await loadHive("HKEY_LOCAL_MACHINE\\SAM", `${config}/SAM`, read);
  if (sam) mounts.push(sam);

  // Profiles: SID → where its NTUSER.DAT is. ProfileImagePath "C:\Users\x" or "%SystemDrive%\Users\x": the
  // part after the drive is the path on the image; a profile moved off this disk is looked for in Users.
  let profilesUnknown: string | undefined;
  const profiles: { sid: string; dir: string | null }[] = [];
  if (soft && "error" in soft) profilesUnknown = `the profile list in SOFTWARE cannot be read: ${soft.error}`;
  else if (soft) {
    try {
      const list = soft.hive.lookup(PROFILE_LIST);
      for (const p of list ? soft.hive.subkeys(list) : []) {
        const image = getValue(soft.hive.values(p), "ProfileImagePath");
        const dir = image ? valueText(image.type, image.data) : null;
        profiles.push({ sid: p.name, dir: dir?.replace(/^(%\w+%|[A-Za-z]:)/, "") ?? null });
      }
    } catch (e) {
      profilesUnknown = `the profile list in SOFTWARE cannot be read: ${(e as Error).message}`;
    }
  }
  const users = new Set<string>();
  const taken = new Set<string>();
  const mountUser = async (sid: string, file: string) => {
    const m = await loadHive(`HKEY_USERS\\${sid}`, file, read);
    if (!m) return false;
    mounts.push(m);
    users.add(upper(sid));
    taken.add(upper((await find(file)) ?? file));
    return true;
  };
  for (const { sid, dir } of profiles) {
    if (!dir) continue;
    const leaf = dir.split(/[\\/]/).filter(Boolean).pop();
    if (!await mountUser(sid, `${dir}/NTUSER.DAT`) && leaf) await mountUser(sid, `Users/${leaf}/NTUSER.DAT`);
  }
  // Users\*\NTUSER.DAT that no profile led to: the SID its root key grants full control.
  const warnings: string[] = [];
  let homes: string[] = [];
  try {
    const usersDir = await find("Users");
    if (usersDir) {
      for await (const e of Deno.readDir(usersDir)) if (e.isDirectory) homes.push(e.name);
    }
  } catch (e) {
    // Who else has a hive here cannot be known: the users cannot be listed, so none of them reads as gone.
    profilesUnknown ??= `the Users folder cannot be listed: ${(e as Error).message}`;
    homes = [];
  }
  for (const home of homes) {
    const file = `Users/${home}/NTUSER.DAT`;
    let m: Mount | null;
    try {
      const found = await find(file);
      if (!found || taken.has(upper(found))) continue;
      m = await loadHive("", file, read);
    } catch (e) {
      warnings.push(`${file}: ${(e as Error).message}`);
      continue;
    }
    const sid = m && "hive" in m ? profileOwner(m.hive) : null;
    if (m && sid && !users.has(upper(sid))) {
      mounts.push({ ...m, path: `HKEY_USERS\\${sid}` });
      users.add(upper(sid));
    } else if (m) {
      warnings.push(`${file}: in no profile, and the hive does not say whose it is: not read`);
    }
  }
  const reader = offlineRegistry(mounts, {
    warnings,
    incomplete: profilesUnknown ? { HKEY_USERS: profilesUnknown } : {},
  });
  return { reader, mounted: mounts.map((m) => m.path) };
}
