// Windows services: the Service Control Manager (host.scm), or the SYSTEM hive of an offline image.
//
// The services collector calls `readWindowsServices(host)` on Windows. Like WMI's Win32_Service (what the real
// agent reads), only Win32 services are listed, not drivers. Startup types as WMI's StartMode names them: Auto
// (delayed or not: DelayedAutoStart says which), Manual, Disabled (Boot and System are for drivers). SvcDescription
// is plain text (an indirect "@dll,-id" string stays as stored offline).
import type { Host, ScmService } from "../../host/mod.ts";
import type { ServiceItem } from "./types.ts";
import { getValue, type RegistryReader, type RegKey, type RegValue } from "../../host/registry/reader.ts";
import { valueNumber, valueText } from "../../host/registry/values.ts";

/**
 * A Windows service: the same columns as every service item, plus whether an Auto service starts delayed.
 * SvcState is Running | Stopped | Paused | … Pending, or Unknown offline; SvcPath is the binary path as
 * configured; SvcRunlevels is always "" (Windows has none).
 */
export type WindowsServiceItem = ServiceItem & { DelayedAutoStart: boolean };

/** SvcController of Windows services (the services collector's sources say systemd | sysv | windows). */
export const CONTROLLER = "windows";
const SERVICE_WIN32 = 0x30;
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

export function serviceState(state: number): string {
  return STATES[state] ?? `Unknown (${state})`;
}

const text = (values: RegValue[], name: string) => {
  const v = getValue(values, name);
  return v ? valueText(v.type, v.data) : null;
};
const num = (values: RegValue[], name: string) => {
  const v = getValue(values, name);
  return v ? valueNumber(v.type, v.data) : null;
};

/** One service from its Services\<name> key values; null for drivers and keys that are not services. */
export function serviceFromValues(name: string, values: RegValue[]): WindowsServiceItem | null {
  const type = num(values, "Type");
  if (type === null || (type & SERVICE_WIN32) === 0) return null;
  return {
    SvcName: name,
    SvcDisplayName: text(values, "DisplayName") ?? name,
    SvcDescription: text(values, "Description") ?? "",
    SvcState: "Unknown",
    SvcStartupType: startupType(num(values, "Start")),
    SvcAccount: text(values, "ObjectName") ?? "LocalSystem",
    SvcPath: text(values, "ImagePath") ?? "",
    SvcController: CONTROLLER,
    SvcRunlevels: "",
    DelayedAutoStart: num(values, "Start") === 2 && num(values, "DelayedAutostart") === 1,
  };
}

const SERVICES = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services";

/**
 * Services as the registry configures them (HKLM\SYSTEM\CurrentControlSet\Services); state is not known
 * offline. A service whose key cannot be read is kept by its name with an `error` (its last good data
 * stays); the list itself throws when the Services key cannot be read.
 */
export function servicesFromRegistry(reader: RegistryReader): WindowsServiceItem[] {
  const key = reader.open(SERVICES);
  if (!key) throw new Error(`${SERVICES} does not exist`);
  const out: WindowsServiceItem[] = [];
  try {
    for (const name of key.subkeyNames()) {
      let sub: RegKey | null = null;
      try {
        sub = key.subkey(name);
        const item = sub && serviceFromValues(name, sub.values());
        if (item) out.push(item);
      } catch (e) {
        out.push({
          ...unreadService(name),
          error: `cannot read ${SERVICES}\\${name}: ${(e as Error).message}`,
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

/** A service known only by its name: what an item with an error carries (never diffed, never reported). */
function unreadService(name: string): WindowsServiceItem {
  return {
    SvcName: name,
    SvcDisplayName: name,
    SvcDescription: "",
    SvcState: "Unknown",
    SvcStartupType: "Unknown",
    SvcAccount: "",
    SvcPath: "",
    SvcController: CONTROLLER,
    SvcRunlevels: "",
    DelayedAutoStart: false,
  };
}

/** A service as the SCM describes it. */
function scmItem(s: ScmService): WindowsServiceItem {
  const item: WindowsServiceItem = {
    SvcName: s.name,
    SvcDisplayName: s.displayName,
    SvcDescription: s.description,
    SvcState: serviceState(s.state),
    SvcStartupType: startupType(s.start),
    SvcAccount: s.account,
    SvcPath: s.path,
    SvcController: CONTROLLER,
    SvcRunlevels: "",
    DelayedAutoStart: s.start === 2 && s.delayed,
  };
  if (s.error) item.error = s.error;
  return item;
}

/**
 * The services of a Windows host: the running machine's SCM when `host` is the live Windows machine,
 * otherwise the SYSTEM hive found under `host.root` (state "Unknown" there). Items carry an `error` field
 * when one service's configuration cannot be read; the list itself throws only when the SCM (or the
 * Services key) is unreachable. Warnings: what the hive read says about itself (dirty without logs, damage).
 */
export async function readWindowsServices(
  host: Host,
): Promise<{ items: WindowsServiceItem[]; warnings: string[] }> {
  if (host.scm) return { items: host.scm.list().map(scmItem), warnings: [] };
  const reader = await host.registry();
  try {
    const items = servicesFromRegistry(reader);
    return { items, warnings: reader.warnings?.() ?? [] };
  } finally {
    reader.close();
  }
}

/**
 * The Windows source for the services collector (its `ServiceSource` shape: add it to SOURCES in
 * services/mod.ts). Typed structurally so this file stands alone.
 */
export const windowsServices = {
  controller: CONTROLLER,
  platforms: ["windows"] as const,
  present: (host: Host): Promise<boolean> => Promise.resolve(host.os === "windows"),
  async read(
    host: Host,
    _signal?: AbortSignal,
  ): Promise<{ items: WindowsServiceItem[]; warnings: string[] }> {
    const { items, warnings } = await readWindowsServices(host);
    const failed = items.filter((i) => i.error).length;
    if (failed) warnings.push(`${failed} services whose configuration could not be read`);
    return { items, warnings };
  },
};
