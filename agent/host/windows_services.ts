// Windows services and drivers, one reader: the live SCM (host.scm), or the Services key of an image's SYSTEM hive.
import type { Host, ScmService } from "./mod.ts";
import { getValue, type RegistryReader, type RegKey, type RegValue } from "./registry/reader.ts";
import { valueNumber, valueText } from "./registry/values.ts";

/** Service type bits (the Services key's Type, SERVICE_STATUS dwServiceType). */
export const SERVICE_KERNEL_DRIVER = 0x1;
export const SERVICE_FILE_SYSTEM_DRIVER = 0x2;
/** Own-process and shared-process services: what WMI's Win32_Service lists. */
export const SERVICE_WIN32 = 0x30;

export const SERVICES_KEY = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services";

const STATES = [
  "Unknown",
  "Stopped",
  "Start Pending",
  "Stop Pending",
  "Running",
  "Continue Pending",
  "Pause Pending",
  "Paused",
];

/** The SCM start type (0–4) → the startup type word, as WMI's Win32_Service.StartMode (what the real agent reads). */
export function startupType(start: number | null): string {
  switch (start) {
    case 0:
      return "Boot";
    case 1:
      return "System";
    case 2:
      return "Auto";
    case 3:
      return "Manual";
    case 4:
      return "Disabled";
    default:
      return start === null ? "Unknown" : `Unknown (${start})`;
  }
}

/** SERVICE_STATUS dwCurrentState → its word; "Unknown" when not known (an image's services do not run). */
export function serviceState(state: number | null): string {
  return state === null ? "Unknown" : STATES[state] ?? `Unknown (${state})`;
}

const text = (values: RegValue[], name: string) => {
  const v = getValue(values, name);
  return v ? valueText(v.type, v.data) : null;
};
const num = (values: RegValue[], name: string) => {
  const v = getValue(values, name);
  return v ? valueNumber(v.type, v.data) : null;
};

/**
 * One service or driver from its Services\<name> key values, as the SCM would describe it (no state: it is not
 * running anywhere); null for a key without a Type (not a service: a leftover, a parameters-only key).
 */
export function serviceFromValues(name: string, values: RegValue[]): ScmService | null {
  const type = num(values, "Type");
  if (type === null) return null;
  const start = num(values, "Start");
  return {
    name,
    type,
    displayName: text(values, "DisplayName") ?? name,
    description: text(values, "Description") ?? "",
    state: null,
    start,
    delayed: num(values, "DelayedAutostart") === 1,
    path: text(values, "ImagePath") ?? "",
    // A service without ObjectName runs as LocalSystem (the SCM says so too); a driver has no account.
    account: text(values, "ObjectName") ?? (type & SERVICE_WIN32 ? "LocalSystem" : ""),
  };
}

/**
 * Every service and driver the registry configures (HKLM\SYSTEM\CurrentControlSet\Services). A key that cannot
 * be read is kept by its name with an `error` and no type (it may be either: each reader keeps it, so its last
 * good data stays and nothing is reported Removed); the list itself throws when the Services key cannot be read.
 */
export function servicesFromRegistry(reader: RegistryReader): ScmService[] {
  const key = reader.open(SERVICES_KEY);
  if (!key) throw new Error(`${SERVICES_KEY} does not exist`);
  const out: ScmService[] = [];
  try {
    for (const name of key.subkeyNames()) {
      let sub: RegKey | null = null;
      try {
        sub = key.subkey(name);
        const item = sub && serviceFromValues(name, sub.values());
        if (item) out.push(item);
      } catch (e) {
        out.push({
          name,
          type: null,
          displayName: name,
          description: "",
          state: null,
          start: null,
          delayed: false,
          path: "",
          account: "",
          error: `cannot read ${SERVICES_KEY}\\${name}: ${(e as Error).message}`,
        });
      } finally {
        sub?.close();
      }
    }
  } finally {
    key.close();
  }
  return out;
}

/**
 * The services or drivers of a Windows host whose type has one of the `types` bits: the running machine's SCM
 * when `host` is the live Windows machine, otherwise the SYSTEM hive found under `host.root` (no state there).
 * Keys that could not be read come too (type null). Warnings: what the hive read says about itself (dirty
 * without logs, damage).
 */
export async function windowsServices(
  host: Host,
  types: number,
): Promise<{ list: ScmService[]; warnings: string[] }> {
  if (host.scm) return { list: host.scm.list(types), warnings: [] };
  const reader = await host.registry();
  try {
    const list = servicesFromRegistry(reader).filter((s) => s.type === null || (s.type & types) !== 0);
    return { list, warnings: reader.warnings?.() ?? [] };
  } finally {
    reader.close();
  }
}
