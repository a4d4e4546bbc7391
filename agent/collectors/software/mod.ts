// The software collector: every package manager present on the host, each item saying its manager.
import type { Collector } from "../types.ts";
import { implement } from "../spec.ts";
import spec from "./spec.ts";
import type { SoftwareItem, SoftwareSource } from "./types.ts";
import { dpkg } from "./dpkg.ts";
import { rpm } from "./rpm.ts";
import { apk } from "./apk.ts";
import { pacman } from "./pacman.ts";
import { windowsSoftware } from "./windows.ts";

/** Every source the collector knows; those present on the host are read. */
export const SOURCES: SoftwareSource[] = [dpkg, rpm, apk, pacman, windowsSoftware];

/** The software item key (the spec's). */
export const softwareKey: (i: SoftwareItem) => string = spec.key;

export function softwareCollector(sources: SoftwareSource[] = SOURCES): Collector<SoftwareItem> {
  return implement(spec, async (_settings, { host, signal, log }) => {
    const items: SoftwareItem[] = [];
    const unseen: string[] = [];
    const warnings: string[] = [];
    let found = 0, failed = 0;
    for (const source of sources) {
      signal.throwIfAborted();
      if (!source.platforms.includes(host.os) || !(await source.present(host))) continue;
      found++;
      try {
        const got = await source.read(host, signal);
        for (const item of got.items) items.push(item); // not push(...): a stack frame per argument
        unseen.push(...got.unseen ?? []);
        warnings.push(...got.warnings ?? []);
      } catch (e) {
        if (signal.aborted) throw e;
        // One broken manager must not make its packages look removed, nor hide the others.
        failed++;
        unseen.push(...source.keyPrefixes ?? [`${source.manager}:`]);
        warnings.push(`${source.manager}: cannot read the package database: ${(e as Error).message}`);
        log.warn("software source failed", { manager: source.manager, error: e });
      }
    }
    if (found === 0) warnings.push("no known package manager found on this host");
    else if (failed === found) throw new Error(warnings.join("; "));
    return { items, unseen, warnings };
  });
}

export default softwareCollector();
