// The collector contract: one declarative spec per collector (spec.ts in its folder) plus how it collects.
import type { Host } from "../host/mod.ts";
import type { Logger } from "../log.ts";
import type { Settings } from "../config/dcr.ts";
import type { CollectorSettings } from "../config/agent_file.ts";

export type { CollectorSettings };
import type { Platform } from "../platform.ts";
import type { ScopeTest } from "./scope.ts";
import type { CapturedContent } from "../host/files/content.ts";

/** A field value of an item. Items are flat so they map 1:1 onto record columns. */
export type Value = string | number | boolean | null;

/** How far a run counts a collector's stored items (CollectContext.stored): as far as one asks (files: 5,000). */
export const STORED_COUNTED = 5_000;

/**
 * One thing a collector found. Keys are Log Analytics column names where one exists
 * (SoftwareName, CurrentVersion, SvcName, FileSystemPath, RegistryKey, ...), camel-free
 * extra names otherwise (Manager, Mode, Owner, ...).
 */
export type Item = Record<string, Value>;

/** The DCR's on/off switches (`enableSoftware`, ...). */
export type DcrSwitch = { [K in keyof Settings]: Settings[K] extends boolean ? K : never }[keyof Settings];

/** The DCR's frequencies, as `section.key` (`softwareSettings.softwareCollectionFrequency`, ...). */
export type DcrFrequency = {
  [K in keyof Settings]: Settings[K] extends object ? {
      [L in keyof Settings[K] & string]: Settings[K][L] extends number
        ? L extends `${string}Frequency` ? `${K & string}.${L}` : never
        : never;
    }[keyof Settings[K] & string]
    : never;
}[keyof Settings];

/**
 * When a collector runs. A DCR collector follows the DCR's switch and frequency; any other collector follows
 * ctagent's own settings (`--config FILE`: `{"collectors": {"<setting>": {"enabled": …, "frequency": …}}}`),
 * on with `defaultSeconds` unless they say otherwise.
 */
export type Schedule =
  | { dcr: DcrSwitch; frequency: DcrFrequency }
  | { dcr: null; setting: string; defaultSeconds: number };

/** How the page writes a value: `bytes` (1.2 KiB), `hash` (its first 12 characters), `time` (an ISO 8601 text, in the page's one time format); as it is otherwise. */
export type Format = "bytes" | "hash" | "time";

/** What the page knows of a field beyond its value. */
export interface FieldSpec {
  format?: Format;
  /** With `bytes`: the value counts KiB in items whose `field` is `value` (dpkg's Installed-Size). */
  kibWhen?: { field: string; value: string };
  /**
   * The field only says when something happened to the item (a modification time), not what it is: a change of
   * such fields alone (and volatile ones) is a timestamp-only change, which the page folds away.
   */
  timestamp?: boolean;
}

/** A column the page (inventory table) and `--once` show. */
export interface Column extends FieldSpec {
  field: string;
  label: string;
  /** Classes of its cells on the page: strong, mono, dim, num. */
  style?: string;
  /** Sort by the item key instead (it orders the same and needs no index). */
  sortAs?: "key";
}

/** One JSON mirror file (SPEC §7.12): the collector's items, all or those `keep` accepts. */
export interface MirrorFile<I extends Item = Item> {
  file: string;
  keep?(item: I): boolean;
}

/** What the page needs beyond the columns to show a collector. */
export interface PageSpec {
  /** One letter on the type badge. */
  icon: string;
  /** `g` then this key opens the collector's view. */
  shortcut: string;
  /** The collector's colour in light and dark mode (CSS colours). */
  color: readonly [light: string, dark: string];
  /** What an empty inventory says. */
  empty: string;
  /** How an item is titled: the first field, then each further non-empty one after `join` (default the name field). */
  title?: { fields: readonly string[]; join: string };
  /** The title is a path: lists show its last segment first. */
  path?: boolean;
  /** Fields a Modified change shows first, in this order (the others follow). */
  important?: readonly string[];
  /** The field shown beside an Added or Removed change. */
  summary?: string;
}

/** A machine path whose changes a collector's items follow (realtime re-collects them when it changes). */
export interface WatchPath {
  /** The path on the machine read (the host root is applied). */
  path: string;
  /** Levels below it whose changes count: 0 (the default) the entry alone, 1 a directory's entries, … */
  depth?: number;
  /**
   * The items it holds: those under these key prefixes (`dpkg:` for dpkg's database). Absent: any item of the
   * collector may change with it, and the whole collector runs.
   */
  keys?: readonly string[];
}

/** A Windows registry key whose changes a collector's items follow. */
export interface WatchKey {
  /** `HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services` */
  key: string;
  /** Its subkeys too. */
  subtree: boolean;
  /** As WatchPath.keys. */
  keys?: readonly string[];
}

/**
 * What a collector's items follow, for realtime re-collection: paths and registry keys it reads, declared
 * (files and registry add their DCR entries through `Collector.targets`).
 */
export interface WatchSpec {
  paths?: Readonly<Partial<Record<Platform, readonly WatchPath[]>>>;
  registry?: readonly WatchKey[];
  /**
   * State no file or key shows (a service's running state): re-collected this often (seconds) while realtime
   * is on, per platform.
   */
  pollSeconds?: Readonly<Partial<Record<Platform, number>>>;
  /** Poll only where this machine path exists (where the state it polls for is kept live), per platform. */
  pollIf?: Readonly<Partial<Record<Platform, string>>>;
}

/**
 * One thing to watch as realtime takes it: a path (the host root not applied) or a registry key, and the items
 * its changes reach: "path", the items keyed by the changed path itself (files, registry values); key prefixes;
 * or null, the whole collector.
 */
export type WatchTarget =
  | { path: string; depth: number; items: "path" | readonly string[] | null }
  | { key: string; subtree: boolean; items: "path" | readonly string[] | null };

/** The declarative part of a collector: everything but how it collects. */
export interface CollectorSpec<I extends Item = Item> {
  /** `[a-z][a-z0-9_]*`: the collector's name in the database, the API, URLs, records and settings. */
  name: string;
  /** The collector's title ("Software"). */
  label: string;
  /** What one item and many items are called ("package", "packages"). */
  nouns: readonly [one: string, many: string];
  platforms: readonly Platform[];
  schedule: Schedule;
  /** The Log Analytics ConfigChangeType / ConfigDataType of its records, per platform it runs on. */
  dataType: Readonly<Partial<Record<Platform, string>>>;
  /**
   * Whether its records go to AMA's streams. Only the DCR's four kinds do (SPEC §7.15); the others' records go
   * to the local store, the page, `--once` and a `--forward` endpoint.
   */
  toAma: boolean;
  /** AMA's change stream for its change records (SPEC §7.8): CONFIG_CHANGE_BLOB_V2 unless said otherwise. */
  changeStream?: "CONFIG_CHANGE_BLOB" | "CONFIG_CHANGE_BLOB_V2";
  /** Natural key: the same key in two runs is the same thing. */
  key(item: I): string;
  /** The field that names an item (`--once` lists changes by it). */
  nameField: string;
  /** Field whose old/new values fill the Previous/Current columns (e.g. CurrentVersion); JSON of the changed fields otherwise. */
  currentField?: string;
  /** Fields never diffed (a pid, a last-seen time). An item's `error` field is never diffed either. */
  volatile: readonly string[];
  /**
   * Fields whose content a version of ctagent changed (a new field, another unit, another source), one list per
   * such version, oldest first. The first run over items stored before a version refreshes these fields
   * without reporting them, so an upgrade is never a flood of Modified records.
   */
  revisions?: readonly (readonly string[])[];
  columns: readonly Column[];
  /** Fields the page's API sorts by, besides the columns' and key, first_seen, changed_at. */
  sortable?: readonly string[];
  /**
   * Fields the page's API filters the inventory on by exact value (`filter.FIELD=value`); the page shows them as
   * facets, each value with how many items have it.
   */
  filterable?: readonly string[];
  /** Fields that are no column but have a format or are timestamps (a column says so itself). */
  fields?: Readonly<Record<string, FieldSpec>>;
  /** Its JSON mirror files per platform; null when it has none. */
  mirror: Readonly<Partial<Record<Platform, readonly MirrorFile<I>[]>>> | null;
  /**
   * Whether it captures text content, which field holds the content's checksum, and which one says why an
   * item's content was not captured.
   */
  content: false | { checksumField: string; notCapturedField?: string };
  page: PageSpec;
  /** What its items follow, for realtime re-collection (none: only its scheduled runs see changes). */
  watch?: WatchSpec;
}

/**
 * A part of a collector's items: the keys named and every key starting with one of the prefixes. A run given a
 * scope (a realtime re-collection) looks only there: what it does not find there is gone, and nothing outside
 * it is touched.
 */
export interface Scope {
  keys: readonly string[];
  prefixes: readonly string[];
}

export interface CollectContext {
  host: Host;
  signal: AbortSignal;
  log: Logger;
  /**
   * When the run started (ms since the epoch): the moment facts that depend on the date are judged at (a
   * password past its maximum age). A collector never reads the clock itself; without it, it leaves them unknown.
   */
  now?: number;
  /**
   * The fingerprints the collector gave its stored items, by key (items stored with an error have none).
   * A collector that finds the same fingerprint again says `same(key)` instead of building the item (files:
   * no re-hash, no item at all). Look a key up before reporting it: once reported, it reads as empty. Keys
   * looked up in key order (code point order, agent/key_order.ts) are answered fastest: the run reads its
   * stored fingerprints a window at a time, front to back.
   */
  previous?: { get(key: string): string | undefined };
  /**
   * How many items the collector has stored, counted up to STORED_COUNTED and no further: a rescan of many may
   * be done differently (files: its walks read the listings ahead on another thread).
   */
  stored?: number;
  /**
   * Where a streaming collector puts what it finds, as it finds it, so a run of any size holds only a few
   * items at a time. Without a sink the collector returns everything in `Collected`.
   */
  sink?: ItemSink;
  /**
   * Only the items of this scope are wanted (a realtime re-collection of what changed). Items outside it are
   * dropped by the run; a collector that can, looks only there (files walk only toward it).
   */
  scope?: ScopeTest;
  /** What `Collector.begin` began for this run before its turn, for the collector to take over. */
  begun?: Begun;
  /** What the collector's last whole run left for the next (`Collected.ahead`), as it left it. */
  ahead?: string;
}

/**
 * Work a collector's run began before its turn (`Collector.begin`). The pipeline stops it once the run is over
 * (or skipped); the collector stops what it took over itself.
 */
export interface Begun {
  stop(): void;
}

/** Text content of one file version, stored once per checksum. */
export type Content = CapturedContent;

/** What a streaming collector hands over. A returned promise must be awaited before the next call. */
export interface ItemSink<I extends Item = Item> {
  /**
   * One item of this run. `fingerprint` is an opaque text that is equal next time only when the item would
   * be exactly the same (files: stat key, owner and group names, link target, rule); none for an error item.
   */
  add(item: I, fingerprint?: string): void | Promise<void>;
  /** The item under `key` is exactly as stored: its fingerprint equals `ctx.previous.get(key)`. */
  same(key: string): void | Promise<void>;
  /**
   * The `count` stored items whose keys begin with `prefix` are all exactly as stored (files: a subtree whose
   * digest did not change), as `same` of each, none named. False: not done (a sink that cannot; nothing said).
   */
  sameUnder?(prefix: string, count: number): boolean;
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
  /**
   * What the next run can begin before its turn, or take from this one (files: where its first walk's thread reading
   * ahead begins, and the subtrees it saw whole), as text only the collector reads: kept with the collector's
   * state, handed to `Collector.begin` and to the next run (`CollectContext.ahead`). None: nothing.
   */
  ahead?: string;
}

/** How a collector collects: reads the host through `ctx.host` only. */
export type Collect<I extends Item = Item> = (
  settings: Settings,
  ctx: CollectContext,
) => Promise<Collected<I>>;

/** A collector: its spec and how it collects. */
export interface Collector<I extends Item = Item> extends CollectorSpec<I> {
  collect: Collect<I>;
  /**
   * What to watch that the settings or the machine say (files: the DCR's fileInfo entries; registry: its
   * registryInfo keys; scheduled tasks: where each source of the host's OS reads, the Windows task store where
   * Windows says it is), besides `watch`'s declared paths.
   */
  targets?: (settings: Settings, host: Host) => WatchTarget[];
  /**
   * Begins, before the run's turn, what its last run said the next can (`Collected.ahead`): `--once` calls it
   * as soon as it holds the data directory, so that slow reading overlaps the start (files: a rescan's walk
   * finds its listings read ahead already). Undefined: nothing begun (`ahead` unusable here).
   */
  begin?: (ahead: string, host: Host) => Begun | undefined;
}
