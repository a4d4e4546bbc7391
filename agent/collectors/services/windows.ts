// Windows services: the Service Control Manager (host.scm), or the SYSTEM hive of an offline image.
//
// The services collector calls `readWindowsServices(host)` on Windows. Like WMI's Win32_Service (what the real
// agent reads), only Win32 services are listed, not drivers (the kernel_modules collector shows those, from the
// same reader: agent/host/windows_services.ts). Startup types as WMI's StartMode names them: Auto (delayed or
// not: DelayedAutoStart says which), Manual, Disabled (Boot and System are for drivers). SvcDescription is plain
// text (an indirect "@dll,-id" string stays as stored offline).
import type { Host, ScmService } from "../../host/mod.ts";
import type { ServiceItem } from "./types.ts";
import type { RegistryReader } from "../../host/registry/reader.ts";
import {
  SERVICE_WIN32,
  servicesFromRegistry as servicesKey,
  serviceState,
  startupType,
  windowsServices as serviceList,
} from "../../host/windows_services.ts";

export { serviceState, startupType };

/**
 * A Windows service: the same columns as every service item, plus whether an Auto service starts delayed.
 * SvcState is Running | Stopped | Paused | … Pending, or Unknown offline; SvcPath is the binary path as
 * configured; SvcRunlevels is always "" (Windows has none).
 */
export type WindowsServiceItem = ServiceItem & { DelayedAutoStart: boolean };

/** SvcController of Windows services (the services collector's sources say systemd | sysv | windows). */
export const CONTROLLER = "windows";

/** A Win32 service, or a key that could not be read (type unknown). */
const isService = (s: ScmService) => s.type === null || (s.type & SERVICE_WIN32) !== 0;

/**
 * Services as the registry configures them (HKLM\SYSTEM\CurrentControlSet\Services); state is not known
 * offline. A service whose key cannot be read is kept by its name with an `error` (its last good data
 * stays); the list itself throws when the Services key cannot be read.
 */
export function servicesFromRegistry(reader: RegistryReader): WindowsServiceItem[] {
  return servicesKey(reader).filter(isService).map(serviceItem);
}

/** A service as the SCM (or the image's Services key) describes it. */
function serviceItem(s: ScmService): WindowsServiceItem {
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
  const { list, warnings } = await serviceList(host, SERVICE_WIN32);
  return { items: list.filter(isService).map(serviceItem), warnings };
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
