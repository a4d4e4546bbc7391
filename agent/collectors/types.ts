// The collector contract: every collector is one folder that implements this and one line in mod.ts.
import type { Host } from "../host/mod.ts";
import type { Logger } from "../log.ts";
import type { Settings } from "../config/dcr.ts";

export type CollectorName = "software" | "services" | "files" | "registry";
export type Platform = "linux" | "windows";

/** A field value of an item. Items are flat so they map 1:1 onto record columns. */
export type Value = string | number | boolean | null;

/**
 * One thing a collector found. Keys are Log Analytics column names where one exists
 * (SoftwareName, CurrentVersion, SvcName, FileSystemPath, RegistryKey, ...), camel-free
 * extra names otherwise (Manager, Mode, Owner, ...).
 */
export type Item = Record<string, Value>;

export interface CollectContext {
  host: Host;
  signal: AbortSignal;
  log: Logger;
  /**
   * The collector's previous items by key, for collectors that can skip unchanged work (files: no re-hash).
   * Return such an object as-is when nothing about the thing changed: the diff then skips it for free.
   * Never mutate these objects: build a new item when anything differs.
   */
  previous?: ReadonlyMap<string, Item>;
}

export interface Collected<I extends Item = Item> {
  items: I[];
  /**
   * Key prefixes whose items could not be seen this time (an unreadable directory, a package manager
   * whose database failed to read). Previous items under them are kept, never reported Removed.
   */
  unseen?: string[];
  /** Things the user should know about this run: limits that cut items, sources skipped. */
  warnings?: string[];
  /** Captured text content of files, stored deduplicated by checksum in the same transaction as the run. */
  contents?: { checksum: string; text: string; size: number }[];
}

export interface Collector<I extends Item = Item> {
  name: CollectorName;
  platforms: readonly Platform[];
  /** The Log Analytics ConfigChangeType / ConfigDataType of this collector's records on `os`. */
  dataType(os: Platform): string;
  /** Natural key: the same key in two runs is the same thing. */
  key(item: I): string;
  /** Fields never diffed (a pid, a last-seen time). An item's `error` field is never diffed either. */
  volatile?: readonly string[];
  /** Field whose old/new values fill the Previous/Current columns (e.g. CurrentVersion); JSON of the changed fields otherwise. */
  currentField?: string;
  /** Whether the DCR enables this collector, and how often it runs (seconds). */
  schedule(settings: Settings): { enabled: boolean; frequency: number };
  collect(settings: Settings, ctx: CollectContext): Promise<Collected<I>>;
}
