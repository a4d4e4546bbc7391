// The kernel_modules collector: the loaded kernel modules and the kernel's taint (Linux: /proc and /lib/modules);
// Windows' kernel and file system drivers (the SCM, or an image's SYSTEM hive).
import type { Collector } from "../types.ts";
import { implement } from "../spec.ts";
import spec from "./spec.ts";
import type { ModuleItem } from "./item.ts";
import { readLinuxModules } from "./linux.ts";
import { readWindowsDrivers } from "./windows.ts";

export const kernelModulesCollector: Collector<ModuleItem> = implement(
  spec,
  (_settings, { host, signal }) =>
    host.os === "windows" ? readWindowsDrivers(host) : readLinuxModules(host, signal),
);

export default kernelModulesCollector;
