// One item of the registry collector: a registry value.

/** One registry value, as the Log Analytics Registry columns (SPEC §2) plus the key's last write time. */
export interface RegistryItem {
  [field: string]: string | number | boolean | null;
  /** HKEY_LOCAL_MACHINE, HKEY_USERS, ... (full names, whatever abbreviation the DCR used). */
  Hive: string;
  /** The key's full path including the hive: `HKEY_LOCAL_MACHINE\SOFTWARE\...`. */
  RegistryKey: string;
  /** "" is the key's default value. */
  ValueName: string;
  ValueData: string;
  ValueType: string;
  /** ISO 8601 UTC; volatile (it moves whenever anything in the key is written). */
  KeyLastWritten: string | null;
}
