// The one interface the registry, Windows software and Windows services collectors read the registry through.

/** The root keys by their full names; abbreviations map onto them. */
export const HIVES = [
  "HKEY_LOCAL_MACHINE",
  "HKEY_USERS",
  "HKEY_CURRENT_USER",
  "HKEY_CLASSES_ROOT",
  "HKEY_CURRENT_CONFIG",
] as const;
export type HiveName = typeof HIVES[number];

const ABBREVIATIONS: Record<string, HiveName> = {
  HKLM: "HKEY_LOCAL_MACHINE",
  HKU: "HKEY_USERS",
  HKCU: "HKEY_CURRENT_USER",
  HKCR: "HKEY_CLASSES_ROOT",
  HKCC: "HKEY_CURRENT_CONFIG",
};

/**
 * Splits `HKEY_LOCAL_MACHINE\Software\X` (or `HKLM\Software\X`, any case, stray or doubled backslashes)
 * into the full hive name and the path below it. Throws a TypeError naming the path for an unknown hive.
 */
export function splitKeyPath(path: string): { hive: HiveName; subPath: string } {
  const parts = path.split("\\").filter(Boolean);
  const first = (parts.shift() ?? "").toUpperCase();
  const hive = ABBREVIATIONS[first] ?? HIVES.find((h) => h === first);
  if (!hive) {
    throw new TypeError(
      `Registry key ${JSON.stringify(path)}: unknown hive ${JSON.stringify(first)} (expected one of ${
        HIVES.join(", ")
      } or HKLM, HKU, HKCU, HKCR, HKCC)`,
    );
  }
  return { hive, subPath: parts.join("\\") };
}

/** The canonical spelling of a key path: full hive name, single backslashes, no trailing backslash. */
export function normalizeKeyPath(path: string): string {
  const { hive, subPath } = splitKeyPath(path);
  return subPath ? `${hive}\\${subPath}` : hive;
}

export interface RegValue {
  /** "" is the key's default value. */
  name: string;
  /** The REG_* type number. */
  type: number;
  data: Uint8Array;
}

/** An open key. Close it when done (the live reader holds an OS handle). */
export interface RegKey {
  /** Full path, canonical hive name, as opened. */
  path: string;
  lastWrite: Date | null;
  subkeyNames(): string[];
  values(): RegValue[];
  /** A subkey, or null when it does not exist. Throws when it exists but cannot be opened. */
  subkey(name: string): RegKey | null;
  close(): void;
}

export interface RegistryReader {
  /** "live" (the running Windows machine) or "offline" (hive files). */
  kind: "live" | "offline";
  /** Opens a key by full path; null when it does not exist. Throws when it exists but cannot be read. */
  open(path: string): RegKey | null;
  /** Releases what the reader holds (library handles, loaded hives). */
  close(): void;
  /** What a run should report about the hives read so far (dirty without logs, damage); offline only. */
  warnings?(): string[];
}

/** Reads one named value of a key, or undefined. Value names compare case-insensitively, as in Windows. */
export function getValue(values: RegValue[], name: string): RegValue | undefined {
  const want = name.toUpperCase();
  return values.find((v) => v.name.toUpperCase() === want);
}

/** Opens `path`, hands the key to `fn`, closes it. Returns null when the key does not exist. */
export function withKey<T>(reader: RegistryReader, path: string, fn: (key: RegKey) => T): T | null {
  const key = reader.open(path);
  if (!key) return null;
  try {
    return fn(key);
  } finally {
    key.close();
  }
}

/**
 * `path` spelled as the registry spells it (`hklm\\software\\foo` → `HKEY_LOCAL_MACHINE\\SOFTWARE\\Foo`), so the
 * same key always gives the same RegistryKey whatever case the DCR used. Falls back to the normalized path
 * as given when a level does not exist, or cannot be listed (access denied, an unreadable hive); then
 * `known` is the deepest ancestor whose spelling is the registry's, so what cannot be read is marked
 * unseen in the spelling its stored items have.
 */
export function registryCase(reader: RegistryReader, path: string): { path: string; known: string } {
  const normalized = normalizeKeyPath(path);
  const { hive, subPath } = splitKeyPath(normalized);
  let key: RegKey | null = null;
  let out: string = hive;
  try {
    key = reader.open(hive);
    for (const part of subPath.split("\\").filter(Boolean)) {
      if (!key) return { path: normalized, known: out };
      const want = part.toUpperCase();
      const real = key.subkeyNames().find((n) => n.toUpperCase() === want);
      if (real === undefined) return { path: normalized, known: out };
      const next: RegKey | null = key.subkey(real);
      key.close();
      key = next;
      out += `\\${real}`;
    }
    return key ? { path: out, known: out } : { path: normalized, known: out };
  } catch {
    return { path: normalized, known: out };
  } finally {
    key?.close();
  }
}
