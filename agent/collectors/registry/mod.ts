// The registry collector: the values under each enabled DCR registryInfo key, recursion honoured, exact data.
import type { RegistryInfo } from "../../config/dcr.ts";
import type { Collector } from "../types.ts";
import { implement } from "../spec.ts";
import spec from "./spec.ts";
import type { RegistryItem } from "./item.ts";
import { registryCase, type RegistryReader, type RegKey, splitKeyPath } from "../../host/registry/reader.ts";
import { renderValue } from "../../host/registry/values.ts";
import { breather } from "../../breathe.ts";

/** Deepest recursion below a configured key; deeper keys are reported as cut, never silently. */
export const MAX_DEPTH = 512;

export type { RegistryItem };

/** The registry item key (the spec's). */
export const registryKey: (i: RegistryItem) => string = spec.key;

function describe(info: RegistryInfo, i: number): string {
  return `registrySettings.registryInfo[${i}]${info.name ? ` (${info.name})` : ""}`;
}

type RegistryRead = { items: RegistryItem[]; unseen: string[]; warnings: string[] };

/** Reads the values `info` asks for from an open reader. Pure over the reader: the tests give it hives. */
export function readRegistryInfo(
  reader: RegistryReader,
  infos: readonly RegistryInfo[],
  signal?: AbortSignal,
): RegistryRead {
  const walk = walkRegistryInfo(reader, infos, signal);
  for (;;) {
    const step = walk.next();
    if (step.done) return step.value;
  }
}

/**
 * readRegistryInfo as the collector runs it: the event loop gets a turn between keys every few ms, so that a
 * stop signal is heard during a walk of a whole hive.
 */
async function readRegistryInfoBreathing(
  reader: RegistryReader,
  infos: readonly RegistryInfo[],
  signal: AbortSignal,
): Promise<RegistryRead> {
  const breathe = breather(signal);
  const walk = walkRegistryInfo(reader, infos, signal);
  for (;;) {
    const step = walk.next();
    if (step.done) return step.value;
    await breathe();
  }
}

/** The walk of readRegistryInfo; it yields once per key read. */
function* walkRegistryInfo(
  reader: RegistryReader,
  infos: readonly RegistryInfo[],
  signal?: AbortSignal,
): Generator<void, RegistryRead> {
  const items = new Map<string, RegistryItem>();
  const unseen: string[] = [];
  const warnings: string[] = [];

  for (const [i, info] of infos.entries()) {
    if (!info.enabled) continue;
    const where = describe(info, i);
    let path: string, known: string, hive: string;
    try {
      hive = splitKeyPath(info.keyName).hive;
      // The registry's own spelling: overlapping entries written in another case give the same items.
      ({ path, known } = registryCase(reader, info.keyName));
    } catch (e) {
      warnings.push(`${where}: ${(e as Error).message}`);
      continue;
    }
    const wanted = info.valueName.toUpperCase();
    let cut = 0;

    const visit = function* (key: RegKey, depth: number): Generator<void, void> {
      signal?.throwIfAborted();
      yield;
      const lastWrite = key.lastWrite?.toISOString() ?? null;
      let found = false;
      for (const v of key.values()) {
        if (info.valueName && v.name.toUpperCase() !== wanted) continue;
        found = true;
        const item: RegistryItem = {
          Hive: hive,
          RegistryKey: key.path,
          ValueName: v.name,
          ...renderValue(v.type, v.data),
          KeyLastWritten: lastWrite,
        };
        const k = registryKey(item);
        if (!items.has(k)) items.set(k, item);
      }
      if (depth === 0 && info.valueName && !found && !info.recurse) {
        warnings.push(`${where}: value ${JSON.stringify(info.valueName)} not found in ${key.path}`);
      }
      if (!info.recurse) return;
      if (depth >= MAX_DEPTH) {
        cut++;
        return;
      }
      for (const name of key.subkeyNames()) {
        let sub: RegKey | null = null;
        try {
          sub = key.subkey(name);
          if (sub) yield* visit(sub, depth + 1);
        } catch (e) {
          if (signal?.aborted) throw e;
          // An unreadable subkey (access denied, corrupt cell): its previous values stay, never "Removed".
          unseen.push(`${key.path}\\${name}\\`);
          warnings.push(`${where}: cannot read ${key.path}\\${name}: ${(e as Error).message}`);
        } finally {
          sub?.close();
        }
      }
    };

    let key: RegKey | null;
    try {
      key = reader.open(path);
    } catch (e) {
      if (signal?.aborted) throw e;
      // Spelled as far as the registry could say: the stored items under it carry that spelling.
      unseen.push(`${known}\\`);
      warnings.push(`${where}: cannot read ${path}: ${(e as Error).message}`);
      continue;
    }
    if (!key) {
      warnings.push(`${where}: key ${path} does not exist`);
      continue;
    }
    try {
      yield* visit(key, 0);
    } catch (e) {
      if (signal?.aborted) throw e;
      unseen.push(`${known}\\`);
      warnings.push(`${where}: cannot read ${path}: ${(e as Error).message}`);
    } finally {
      key.close();
    }
    if (cut) {
      warnings.push(`${where}: ${cut} keys deeper than ${MAX_DEPTH} levels below ${path} were not read`);
    }
  }
  return { items: [...items.values()], unseen, warnings };
}

export function registryCollector(): Collector<RegistryItem> {
  return implement(spec, async (settings, { host, signal }) => {
    const infos = settings.registrySettings.registryInfo;
    if (!infos.some((i) => i.enabled)) return { items: [], warnings: [] };
    const reader = await host.registry();
    try {
      const r = await readRegistryInfoBreathing(reader, infos, signal);
      // What the hives read say about themselves (dirty without logs, damaged bins).
      return { ...r, warnings: [...reader.warnings?.() ?? [], ...r.warnings] };
    } finally {
      reader.close();
    }
  }, {
    // Each enabled entry's key; a notification says only "something under it", so the collector reads again
    // (its entries are the DCR's keys, a small read).
    targets: (settings) =>
      settings.registrySettings.registryInfo.filter((i) => i.enabled).map((i) => ({
        key: i.keyName,
        subtree: i.recurse,
        items: null,
      })),
  });
}

export default registryCollector();
