// The realtime watchers' one interface: what to watch, what they report, how they are asked.

/** Who made a change (fanotify only): the process as /proc told it when the event was read. */
export interface Origin {
  pid: number;
  /** The executable (/proc/<pid>/exe). */
  exe?: string;
  /** The process name (comm). */
  name?: string;
  /** Its command line, arguments quoted where needed. */
  cmdline?: string;
  /** The real user. */
  uid?: number;
  user?: string;
  /** The login user (audit loginuid), when it is another than `user` (sudo, su). */
  loginUser?: string;
  ppid?: number;
  parent?: string;
  /** Why the rest is missing (the process exited before it could be named …). */
  note?: string;
}

/** A tree to watch: the entry at `path` and what lies up to `depth` levels below it (0: the entry alone). */
export interface WatchRequest {
  /** The path as the collectors name it, on the machine read (the host root applied: a real path). */
  path: string;
  depth: number;
}

/** Something happened to the entry at `path` (a path of a request's tree, as the request names it). */
export interface WatchEvent {
  path: string;
  /** The entry itself came, went or moved (so its directory changed too); false: its content or metadata. */
  dirent: boolean;
  /** It moved here: what is below it came with it. */
  moved: boolean;
  /** Whether it is a directory; null when the watcher cannot tell. */
  dir: boolean | null;
  origin?: Origin;
}

/** What a watcher could not watch, or lost: its part must be scanned instead. */
export type WatchNotice =
  /** Events were lost (the kernel's queue overflowed): everything watched must be scanned. */
  | { kind: "overflow" }
  /** `path` (and below) is no longer watched (unmounted, a watch refused): scan it, and it is re-armed. */
  | { kind: "lost"; path: string; why: string };

export type Backend = "fanotify" | "inotify" | "watchfs";

/** A file-system watcher of one kind. */
export interface FsWatcher {
  readonly backend: Backend;
  /** Whether its events name the process that made them. */
  readonly attribution: boolean;
  /**
   * Watches exactly these trees from now on (what else was watched is dropped). Returns what could not be
   * watched, per request path.
   */
  watch(requests: readonly WatchRequest[]): { failed: { path: string; why: string }[] };
  /** Watches set (directories marked), events read, overflows. */
  stats(): { watches: number; events: number; overflows: number };
  close(): Promise<void>;
}

export interface FsWatcherOptions {
  onEvents(events: WatchEvent[]): void;
  onNotice(n: WatchNotice): void;
  /** Paths whose events are dropped (the agent's own data directory: its writes would feed back). */
  ignore?: readonly string[];
  /** Most directories watched (beyond it a request is refused: its tree falls back to the scheduled scan). */
  maxWatches?: number;
}

/** A registry key to watch (Windows): its values, and its subkeys' with `subtree`. */
export interface KeyRequest {
  /** `HKEY_LOCAL_MACHINE\SOFTWARE\…` */
  key: string;
  subtree: boolean;
}

export interface RegistryWatcher {
  /** Watches exactly these keys from now on; returns the ones that cannot be watched. */
  watch(keys: readonly KeyRequest[]): { failed: { key: string; why: string }[] };
  stats(): { watches: number; events: number };
  close(): Promise<void>;
}

export interface RegistryWatcherOptions {
  /** Something changed under these requested keys (the key as requested). */
  onChange(keys: string[]): void;
  onNotice(n: { kind: "lost"; path: string; why: string }): void;
}
