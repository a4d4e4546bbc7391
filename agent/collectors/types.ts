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
   * The fingerprints the collector gave its stored items, by key (items stored with an error have none).
   * A collector that finds the same fingerprint again says `same(key)` instead of building the item (files:
   * no re-hash, no item at all). Look a key up before reporting it: once reported, it reads as empty.
   */
  previous?: ReadonlyMap<string, string>;
  /**
   * Where a streaming collector puts what it finds, as it finds it, so a run of any size holds only a few
   * items at a time. Without a sink the collector returns everything in `Collected`.
   */
  sink?: ItemSink;
}

/** Text content of one file version, stored once per checksum. */
export interface Content {
  checksum: string;
  text: string;
  size: number;
}

/** What a streaming collector hands over. A returned promise must be awaited before the next call. */
export interface ItemSink<I extends Item = Item> {
  /**
   * One item of this run. `fingerprint` is an opaque text that is equal next time only when the item would
   * be exactly the same (files: stat key, owner and group names, link target, rule); none for an error item.
   */
  add(item: I, fingerprint?: string): void | Promise<void>;
  /** The item under `key` is exactly as stored: its fingerprint equals `ctx.previous.get(key)`. */
  same(key: string): void | Promise<void>;
  /** Captured text content. */
  content(c: Content): void | Promise<void>;
}

export interface Collected<I extends Item = Item> {
  /** The items found (none when they went to `ctx.sink`). */
  items: I[];
  /** Keys whose stored items stand unchanged (fingerprint matched), when there was no sink. */
  same?: string[];
  /**
   * Key prefixes whose items could not be seen this time (an unreadable directory, a package manager
   * whose database failed to read). Previous items under them are kept, never reported Removed.
   */
  unseen?: string[];
  /** Things the user should know about this run: limits that cut items, sources skipped. */
  warnings?: string[];
  /** Captured text content of files, stored deduplicated by checksum in the same transaction as the run. */
  contents?: Content[];
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
  /**
   * Fields whose content a version of ctagent changed (a new field, another unit, another source), one list per
   * such version, oldest first. The first run over items stored before a version refreshes these fields
   * without reporting them, so an upgrade is never a flood of Modified records.
   */
  revisions?: readonly (readonly string[])[];
  /** Field whose old/new values fill the Previous/Current columns (e.g. CurrentVersion); JSON of the changed fields otherwise. */
  currentField?: string;
  /** Whether its records go to AMA's streams (default true): only the DCR's four kinds do (SPEC §7.15). */
  toAma?: boolean;
  /** Whether the DCR enables this collector, and how often it runs (seconds). */
  schedule(settings: Settings): { enabled: boolean; frequency: number };
  collect(settings: Settings, ctx: CollectContext): Promise<Collected<I>>;
}
