// The services collector: the host's service controller (systemd or SysV on Linux; Windows services on Windows).
import type { Collector } from "../types.ts";
import { implement } from "../spec.ts";
import spec from "./spec.ts";
import type { ServiceItem, ServiceSource } from "./types.ts";
import { systemd } from "./systemd.ts";
import { sysv } from "./sysv.ts";
import { windowsServices } from "./windows.ts";

/**
 * Every controller the collector knows, in order of preference; the first present for the host's OS is read.
 * The Windows source goes here too (platforms ["windows"]).
 */
export const SOURCES: ServiceSource[] = [systemd, sysv, windowsServices];

export function servicesCollector(sources: ServiceSource[] = SOURCES): Collector<ServiceItem> {
  return implement(spec, async (_settings, { host, signal }) => {
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
  });
}

export default servicesCollector();
