// Windows' drivers in the modules view: kernel and file system drivers, from the one reader of services and
// drivers (agent/host/windows_services.ts: the live SCM, or an image's SYSTEM hive), as the services collector.
import type { Host, ScmService } from "../../host/mod.ts";
import {
  SERVICE_FILE_SYSTEM_DRIVER,
  SERVICE_KERNEL_DRIVER,
  serviceState,
  startupType,
  windowsServices,
} from "../../host/windows_services.ts";
import type { Collected } from "../types.ts";
import type { ModuleItem } from "./item.ts";
import { EMPTY } from "./linux.ts";

const DRIVERS = SERVICE_KERNEL_DRIVER | SERVICE_FILE_SYSTEM_DRIVER;

/** What the driver's own file would tell (version, signature): not read on Windows, and said so. */
export const DRIVER_FILE_NOTE = "the driver file is not read on Windows: no version or signature";

/**
 * One driver: its service name, image path, start type and state (Unknown in an image: nothing runs there). A
 * key that could not be read (type unknown) is kept as an item with its error: its last good data stays.
 */
export function driverItem(s: ScmService): ModuleItem {
  const item: ModuleItem = {
    Kind: "driver",
    Module: s.name,
    ...EMPTY,
    // Wine's SCM gives "" for a driver created without one; an image's key, its name (as Windows' SCM does).
    DisplayName: s.displayName || s.name,
    DriverType: s.type === null
      ? null
      : s.type & SERVICE_FILE_SYSTEM_DRIVER
      ? "File system driver"
      : "Kernel driver",
    StartType: startupType(s.start),
    State: serviceState(s.state),
    Path: s.path || null,
    Description: s.description || null,
    FileNote: DRIVER_FILE_NOTE,
  };
  if (s.error) item.error = s.error;
  return item;
}

/** The kernel and file system drivers of a Windows host (the live SCM, or the SYSTEM hive under its root). */
export async function readWindowsDrivers(host: Host): Promise<Collected<ModuleItem>> {
  const { list, warnings } = await windowsServices(host, DRIVERS);
  const failed = list.filter((s) => s.error).length;
  if (failed) warnings.push(`${failed} drivers or services whose configuration could not be read`);
  return { items: list.map(driverItem), warnings };
}
