// The services collector: the host's service controller (systemd or SysV on Linux; Windows services on Windows).
import type { Collector, Platform } from "../types.ts";
import type { ServiceItem, ServiceSource } from "./types.ts";
import { systemd } from "./systemd.ts";
import { sysv } from "./sysv.ts";
import { windowsServices } from "./windows.ts";

/**
 * Every controller the collector knows, in order of preference; the first present for the host's OS is read.
 * The Windows source goes here too (platforms ["windows"]).
 */
export const SOURCES: ServiceSource[] = [systemd, sysv, windowsServices];

export function serviceKey(i: ServiceItem): string {
  return i.SvcName;
}

/** ConfigChangeType / ConfigDataType of service records (SPEC §2). */
export function servicesDataType(os: Platform): string {
  return os === "windows" ? "WindowsServices" : "Daemons";
}

export function servicesCollector(sources: ServiceSource[] = SOURCES): Collector<ServiceItem> {
  return {
    name: "services",
    platforms: ["linux", "windows"],
    dataType: servicesDataType,
    key: serviceKey,
    // systemd's ActiveState passes through activating/deactivating as timers fire: shown, never a change.
    volatile: ["ActiveState"],
    // 0.2: the real agent's SvcPath (the unit file), SvcRunlevels (WantedBy), SysV's controller name (init),
    // WMI's startup types (Auto, the delay apart).
    revisions: [["SvcPath", "SvcRunlevels", "SvcController", "SvcStartupType", "DelayedAutoStart"]],
    schedule: (s) => ({
      enabled: s.enableServices,
      frequency: s.servicesSettings.serviceCollectionFrequency,
    }),
    async collect(_settings, { host, signal }) {
      for (const source of sources) {
        signal.throwIfAborted();
        if (!source.platforms.includes(host.os) || !(await source.present(host))) continue;
        // A controller that cannot be read throws: the run fails and nothing is reported Removed.
        const { items, warnings } = await source.read(host, signal);
        return { items, warnings };
      }
      // Nothing seen is not "everything removed": keep what was there before.
      return {
        items: [],
        unseen: [""],
        warnings: [
          `no known service controller found on this host (tried ${
            sources.map((s) => s.controller).join(", ")
          })`,
        ],
      };
    },
  };
}
