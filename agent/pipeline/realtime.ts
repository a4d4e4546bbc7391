// Realtime: what the collectors' specs say they follow is watched; a change there re-collects just what it
// touched through the same pipeline (a partial run of the scheduler), debounced and batched, with who made it.
// Lost events fall back to a scan of what was watched; the scheduled scans reconcile and count what was missed.
import type { Collector, Scope, WatchTarget } from "../collectors/types.ts";
import { watchTargets } from "../collectors/spec.ts";
import type { Settings } from "../config/dcr.ts";
import type { Host } from "../host/mod.ts";
import type {
  Backend,
  FsWatcher,
  Origin,
  RegistryWatcher,
  WatchEvent,
  WatchNotice,
  WatchRequest,
} from "../host/watch/types.ts";
import type { Logger } from "../log.ts";
import { type Clock, realClock } from "../clock.ts";
import type { PartialRun, Scheduler } from "./scheduler.ts";
import { type ScopeTest, scopeTest } from "../collectors/scope.ts";

/** How a collector is followed between its scheduled runs. */
export type RealtimeMode = Backend | "regnotify" | "polling";

export interface RealtimeCollectorStatus {
  name: string;
  /** How its changes are seen (none: only by its scheduled runs). */
  modes: RealtimeMode[];
  /** Paths and keys followed. */
  targets: number;
  /** Paths or keys that could not be watched (their changes wait for the scheduled run), and why. */
  unwatched: { path: string; why: string }[];
  /** Realtime runs, and the changes they found. */
  runs: number;
  changes: number;
  /** Changes a scheduled run found that realtime should have seen and did not. */
  missed: number;
  /** Rescans after lost events (overflow, a watch lost, an unmount). */
  fallbacks: number;
  lastFallback?: { at: number; why: string };
  lastRunAt?: number;
}

export interface RealtimeStatus {
  /** False with --no-realtime (or `"no-realtime": true` in --config). */
  on: boolean;
  /** The file-system watcher in use, and whether it names the processes; why better ones were not usable. */
  backend: Backend | null;
  attribution: boolean;
  tried: string[];
  /** Directories (or trees) and registry keys watched, events read, kernel queue overflows. */
  watches: number;
  events: number;
  overflows: number;
  collectors: RealtimeCollectorStatus[];
  /** When this was true (epoch ms). */
  at: number;
}

export interface Realtime {
  /** Follows what `settings` say (collectors switched on and off, the DCR's paths and keys). */
  apply(settings: Settings): void;
  /** A scheduled (whole) run of `name` starts: what it finds is checked against what realtime saw. */
  wholeRunStarting(name: string): void;
  /** It ended: `changes` are the keys it reported (null when it failed). */
  wholeRunDone(name: string, changes: readonly { key: string }[] | null): void;
  status(): RealtimeStatus;
  stop(): Promise<void>;
}

export interface RealtimeOptions {
  collectors: readonly Collector[];
  host: Host;
  log: Logger;
  scheduler: Pick<Scheduler, "runPartial" | "status">;
  settings: Settings;
  /** File-system watchers to try, best first (default: the host's order). */
  prefer?: readonly Backend[];
  /** Real paths never followed (the agent's data directory: its own writes would feed back). */
  ignore?: readonly string[];
  /**
   * A batch runs once no event came for `quietMs`, or `maxWaitMs` after its first event; in a storm (events keep
   * coming) the wait grows to ten times what the last run of the collector took (twenty times for runs of
   * 200 ms and more), up to `stormMaxMs`, so realtime runs take at most about a tenth of the time however many
   * events come, a twentieth in a storm (its writes to a file between two runs are one change: fewer runs,
   * fewer changes to store; `deno task bench realtime`).
   */
  quietMs?: number;
  maxWaitMs?: number;
  stormMaxMs?: number;
  clock?: Clock;
  /** Told the status when it changed (at most every `stateMs`): the daemon keeps it for `ctagent status`. */
  onState?: (s: RealtimeStatus) => void | Promise<void>;
  stateMs?: number;
}

/** An origin as the change record's fields (strings, as every record field). */
export function originFields(
  o: Origin | undefined,
  detectedBy: string,
  several: boolean,
): Record<string, string> {
  const f: Record<string, string> = { DetectedBy: detectedBy };
  if (!o) return f;
  const put = (k: string, v: string | number | undefined) => {
    if (v !== undefined && v !== "") f[k] = String(v);
  };
  put("ProcessId", o.pid);
  put("ProcessName", o.name);
  put("ProcessPath", o.exe);
  put("ProcessCommandLine", o.cmdline);
  put("UserId", o.uid);
  put("UserName", o.user);
  put("LoginUserName", o.loginUser);
  put("ParentProcessId", o.ppid);
  put("ParentProcessName", o.parent);
  const notes = [o.note, several ? "more than one process changed it; the last one is named" : undefined];
  put("ProcessNote", notes.filter(Boolean).join("; "));
  return f;
}

/** Who made what a batch holds under one key or prefix: the last process, and whether others did too. */
interface Made {
  origin?: Origin;
  several: boolean;
}

/** What one collector's next partial run looks at. */
interface Batch {
  keys: Map<string, Made>;
  prefixes: Map<string, Made>;
  /** The whole collector (a target whose items are all of them, a fallback, a poll). */
  whole?: Made;
  reasons: Set<string>;
  detectedBy: Set<string>;
  firstAt: number;
  lastAt: number;
}

function made(into: Map<string, Made>, key: string, origin: Origin | undefined): void {
  const m = into.get(key);
  if (!m) into.set(key, { origin, several: false });
  else merge(m, origin);
}

/** The last process of a key is named; the same process told again after it exited keeps what was known of it. */
function merge(m: Made, origin: Origin | undefined): void {
  if (!origin) return;
  if (m.origin && m.origin.pid !== origin.pid) m.several = true;
  if (m.origin?.pid === origin.pid && m.origin.exe !== undefined && origin.exe === undefined) return;
  m.origin = origin;
}

interface Followed {
  collector: Collector;
  targets: WatchTarget[];
  /** This collector's file-system targets with their real paths (the host root applied). */
  fs: { target: Extract<WatchTarget, { path: string }>; real: string }[];
  keys: Extract<WatchTarget, { key: string }>[];
  poll?: number;
  pollTimer?: unknown;
  pending?: Batch;
  timer?: unknown;
  running?: Promise<void>;
  unwatched: { path: string; why: string }[];
  stats: Omit<RealtimeCollectorStatus, "name" | "modes" | "targets" | "unwatched">;
  /** Since when its watches stand as they are. */
  armedAt: number;
  /** How long its last realtime run took (ms): the batching window grows with it. */
  lastRunMs: number;
  /** Its realtime runs that failed in a row, and when the next may start (the batch of a failed one waits). */
  failures: number;
  retryAt: number;
  /** When its last scheduled run ended, and whether one ended since it was armed. */
  lastWholeEnd: number;
  /** While a scheduled run goes: the scopes realtime looked at meanwhile (they explain what that run finds). */
  whole?: { explained: (ScopeTest | "all")[]; disturbed: boolean; trusted: boolean };
}

/** The pause before a failed realtime run's batch is looked at again; it doubles with each failure in a row. */
export const RETRY_FIRST_MS = 1_000;
export const RETRY_MAX_MS = 300_000;

/** Starts realtime for the collectors `settings` switch on. */
export function startRealtime(opts: RealtimeOptions): Realtime {
  const { host, log } = opts;
  const clock = opts.clock ?? realClock;
  const quietMs = opts.quietMs ?? 150;
  const maxWaitMs = opts.maxWaitMs ?? 500;
  const stormMaxMs = opts.stormMaxMs ?? 10_000;
  const windows = host.os === "windows";
  const sep = windows ? "\\" : "/";
  const fold = (p: string) => (windows ? p.toLowerCase() : p);
  const followed = new Map<string, Followed>();
  let stopped = false;
  let fsWatcher: FsWatcher | null = null;
  let regWatcher: RegistryWatcher | undefined;
  let tried: string[] = [];
  let fsKey = "", regKey = "";

  /** The machine path of a real path (the host root taken off), or null when it is outside the root. */
  const machinePath = (real: string): string | null => {
    if (host.root === "/" || host.root === "") return real;
    const root = host.root.endsWith(sep) ? host.root.slice(0, -1) : host.root;
    if (real === root) return sep;
    return real.startsWith(root + sep) ? real.slice(root.length) : null;
  };
  const parentOf = (p: string) => {
    const i = p.lastIndexOf(sep);
    return i <= 0 ? sep : p.slice(0, i);
  };
  /** Levels from `base` down to `path` (0: the same), or -1 when `path` is not at or below it. */
  const levels = (path: string, base: string): number => {
    const p = fold(path), b = fold(base);
    if (p === b) return 0;
    // Every event of a storm comes here for every target: counted in place, nothing allocated.
    const start = b.endsWith(sep) ? b.length : b.length + 1;
    if (!p.startsWith(b) || (start > b.length && p[b.length] !== sep)) return -1;
    let n = 1;
    for (let i = p.indexOf(sep, start); i >= 0; i = p.indexOf(sep, i + 1)) n++;
    return n;
  };
  /** The target of `f` whose tree holds `path`, if any. */
  const targetOf = (f: Followed, path: string) => {
    for (const t of f.fs) {
      const l = levels(path, t.target.path);
      if (l >= 0 && l <= t.target.depth) return t.target;
    }
    return undefined;
  };

  // ---- status ----
  let stateTimer: unknown;
  const publish = () => {
    if (!opts.onState || stateTimer !== undefined) return;
    stateTimer = clock.setTimeout(() => {
      stateTimer = undefined;
      if (!stopped) void opts.onState?.(status());
    }, opts.stateMs ?? 2000);
  };
  const status = (): RealtimeStatus => {
    const s = fsWatcher?.stats();
    const r = regWatcher?.stats();
    return {
      on: true,
      backend: fsWatcher?.backend ?? null,
      attribution: fsWatcher?.attribution ?? false,
      tried,
      watches: (s?.watches ?? 0) + (r?.watches ?? 0),
      events: (s?.events ?? 0) + (r?.events ?? 0),
      overflows: s?.overflows ?? 0,
      collectors: [...followed.values()].map((f) => {
        const modes: RealtimeMode[] = [];
        if (f.fs.length && fsWatcher && f.unwatched.length < f.fs.length + f.keys.length) {
          modes.push(fsWatcher.backend);
        }
        if (f.keys.length && regWatcher) modes.push("regnotify");
        if (f.poll) modes.push("polling");
        return {
          name: f.collector.name,
          modes,
          targets: f.targets.length,
          unwatched: f.unwatched.slice(0, 20),
          ...f.stats,
        };
      }),
      at: clock.now(),
    };
  };

  // ---- batches ----
  const batchOf = (f: Followed): Batch => {
    const now = clock.now();
    f.pending ??= {
      keys: new Map(),
      prefixes: new Map(),
      reasons: new Set(),
      detectedBy: new Set(),
      firstAt: now,
      lastAt: now,
    };
    f.pending.lastAt = now;
    return f.pending;
  };

  const schedule = (f: Followed) => {
    const b = f.pending;
    if (!b || f.running || stopped) return;
    clock.clearTimeout(f.timer);
    // Short runs (a few files) keep a write's latency under a second; the longer runs take (a storm's
    // hundreds of files), the smaller the share of time they get: a tenth, down to a twentieth.
    const share = Math.min(20, Math.max(10, f.lastRunMs / 10));
    const wait = Math.min(stormMaxMs, Math.max(maxWaitMs, f.lastRunMs * share));
    const due = Math.max(f.retryAt, Math.min(b.firstAt + wait, b.lastAt + quietMs));
    f.timer = clock.setTimeout(() => void flush(f), Math.max(0, due - clock.now()));
  };

  /** Runs what `f` has pending as one partial run; what comes meanwhile waits for the next. */
  const flush = (f: Followed) => {
    const b = f.pending;
    if (!b || f.running || stopped) return;
    f.pending = undefined;
    const scope: Scope | "all" = b.whole
      ? "all"
      : { keys: [...b.keys.keys()], prefixes: [...b.prefixes.keys()] };
    f.whole?.explained.push(scope === "all" ? "all" : scopeTest(scope));
    const by = [...b.detectedBy].join(", ");
    // Moved-in trees are the mover's; any other prefix (a directory made) holds what others may have made.
    const movedPrefixes = [...b.prefixes].filter(([, m]) => m.origin);
    const origin = (key: string): Record<string, string> | undefined => {
      let m = b.keys.get(key);
      if (!m) {
        let best = "";
        for (const [p, pm] of movedPrefixes) {
          if (key.startsWith(p) && p.length > best.length) [best, m] = [p, pm];
        }
      }
      m ??= b.whole;
      return originFields(m?.origin, by, m?.several ?? false);
    };
    const partial: PartialRun = { scope, origin, reason: [...b.reasons].join(", ") };
    f.running = (async () => {
      const started = clock.monotonic();
      const summary = await opts.scheduler.runPartial(f.collector.name, partial) as
        | { counts?: { added: number; removed: number; modified: number }; status?: string }
        | undefined;
      f.lastRunMs = clock.monotonic() - started;
      f.stats.runs++;
      f.stats.lastRunAt = clock.now();
      const c = summary?.counts;
      if (c) f.stats.changes += c.added + c.removed + c.modified;
      if (summary?.status !== "failed") {
        f.failures = 0;
        f.retryAt = 0;
      } else if (!stopped) {
        // Nothing it found was stored (a run is one transaction): what it was to look at is looked at again, with
        // what came meanwhile, after a pause that doubles with each failure in a row (a full disk, a database
        // another process holds); the scheduled run may be most of its frequency away.
        f.failures++;
        const pause = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (f.failures - 1));
        f.retryAt = clock.now() + pause;
        again(f, b);
        log.warn(`realtime: the ${f.collector.name} run failed; what it was to look at is looked at again`, {
          in_s: pause / 1000,
          failed_in_a_row: f.failures,
        });
      }
    })().finally(() => {
      f.running = undefined;
      schedule(f);
      publish();
    });
  };

  /** Puts what batch `b` held back into `f`'s next one; what came since names the processes it names. */
  const again = (f: Followed, b: Batch) => {
    const next = batchOf(f);
    for (const [k, m] of b.keys) if (!next.keys.has(k)) next.keys.set(k, m);
    for (const [p, m] of b.prefixes) if (!next.prefixes.has(p)) next.prefixes.set(p, m);
    next.whole ??= b.whole;
    for (const r of b.reasons) next.reasons.add(r);
    for (const d of b.detectedBy) next.detectedBy.add(d);
  };

  /** Everything `f` watches, rescanned at once (`why` is logged and shown). */
  const fallback = (f: Followed, why: string, only?: string) => {
    const b = batchOf(f);
    b.reasons.add("fallback");
    b.detectedBy.add("rescan");
    for (const { target } of f.fs) {
      if (only !== undefined && levels(target.path, only) < 0 && levels(only, target.path) < 0) continue;
      const at = only !== undefined && levels(only, target.path) > 0 ? only : target.path;
      if (target.items === "path") {
        b.keys.set(at, { several: false });
        b.prefixes.set(at.endsWith(sep) ? at : at + sep, { several: false });
      } else if (target.items) { for (const k of target.items) b.prefixes.set(k, { several: false }); }
      else b.whole = { several: false };
    }
    if (only === undefined && f.keys.length) b.whole = { several: false };
    f.stats.fallbacks++;
    f.stats.lastFallback = { at: clock.now(), why };
    if (f.whole) f.whole.disturbed = true;
    schedule(f);
    publish();
  };

  // ---- events ----
  const onEvents = (events: WatchEvent[]) => {
    if (stopped) return;
    const touched = new Set<Followed>();
    for (const e of events) {
      const path = machinePath(e.path);
      if (path === null) continue;
      for (const f of followed.values()) {
        const t = targetOf(f, path);
        if (!t) continue;
        const b = batchOf(f);
        b.reasons.add("realtime");
        b.detectedBy.add(fsWatcher?.backend ?? "realtime");
        if (t.items === "path") {
          made(b.keys, path, e.origin);
          // Its directory's entries changed: the directory too (its times), where a rule reports it.
          if (e.dirent && targetOf(f, parentOf(path))) made(b.keys, parentOf(path), e.origin);
          // What came or went below it; a moved tree is the mover's, a made one may hold others' files.
          if (e.dirent && e.dir !== false) {
            const p = path.endsWith(sep) ? path : path + sep;
            if (e.moved) made(b.prefixes, p, e.origin);
            else if (!b.prefixes.has(p)) b.prefixes.set(p, { several: false });
          }
        } else if (t.items) { for (const k of t.items) made(b.prefixes, k, e.origin); }
        else {
          b.whole ??= { several: false };
          merge(b.whole, e.origin);
        }
        touched.add(f);
      }
    }
    for (const f of touched) schedule(f);
  };

  const onNotice = (n: WatchNotice) => {
    if (stopped) return;
    if (n.kind === "overflow") {
      log.warn("realtime: events were lost (the kernel's queue overflowed); rescanning everything watched");
      for (const f of followed.values()) {
        if (f.fs.length) fallback(f, "events lost: the kernel's queue overflowed");
      }
      return;
    }
    const path = machinePath(n.path) ?? n.path;
    log.warn("realtime: a watch was lost; rescanning what it covered", { path, why: n.why });
    for (const f of followed.values()) {
      if (f.fs.some((t) => levels(t.target.path, path) >= 0 || levels(path, t.target.path) >= 0)) {
        fallback(f, `watch lost at ${path}: ${n.why}`, path);
      }
      if (f.keys.some((k) => k.key === n.path)) fallback(f, `watch lost at ${n.path}: ${n.why}`);
    }
  };

  const onKeys = (keys: string[]) => {
    if (stopped) return;
    for (const f of followed.values()) {
      const hit = f.keys.filter((k) => keys.includes(k.key));
      if (!hit.length) continue;
      const b = batchOf(f);
      b.reasons.add("realtime");
      b.detectedBy.add("regnotify");
      for (const k of hit) {
        if (k.items === "path") {
          b.prefixes.set(k.key.endsWith("\\") ? k.key : k.key + "\\", { several: false });
        } else if (k.items) { for (const p of k.items) b.prefixes.set(p, { several: false }); }
        else b.whole ??= { several: false };
      }
      schedule(f);
    }
  };

  // ---- watching ----
  const exists = (machinePath: string) => {
    try {
      host.statSync(machinePath);
      return true;
    } catch {
      return false;
    }
  };
  const arm = (settings: Settings) => {
    const enabled = new Set(opts.scheduler.status().filter((c) => c.state === "enabled").map((c) => c.name));
    const now = clock.now();
    for (const [name, f] of followed) {
      if (!enabled.has(name)) {
        clock.clearTimeout(f.timer);
        clock.clearTimeout(f.pollTimer);
        followed.delete(name);
      }
    }
    for (const c of opts.collectors) {
      if (!enabled.has(c.name)) continue;
      let targets: WatchTarget[];
      try {
        targets = watchTargets(c, settings, host);
      } catch (e) {
        log.warn("realtime: cannot tell what to watch", { collector: c.name, error: e });
        targets = [];
      }
      const pollIf = c.watch?.pollIf?.[host.os];
      const poll = pollIf === undefined || exists(pollIf) ? c.watch?.pollSeconds?.[host.os] : undefined;
      if (!targets.length && !poll) continue;
      const prev = followed.get(c.name);
      const same = prev && JSON.stringify(prev.targets) === JSON.stringify(targets);
      const f: Followed = same ? prev : {
        collector: c,
        targets,
        fs: targets.flatMap((t) => "path" in t ? [{ target: t, real: host.path(t.path) }] : []),
        keys: targets.flatMap((t) => "key" in t ? [t] : []),
        unwatched: [],
        stats: prev?.stats ?? { runs: 0, changes: 0, missed: 0, fallbacks: 0 },
        armedAt: now,
        lastRunMs: prev?.lastRunMs ?? 0,
        failures: prev?.failures ?? 0,
        retryAt: prev?.retryAt ?? 0,
        lastWholeEnd: prev?.lastWholeEnd ?? 0,
        pending: prev?.pending,
      };
      if (prev && !same) {
        clock.clearTimeout(prev.timer);
        clock.clearTimeout(prev.pollTimer);
      }
      if (!same && poll) {
        f.poll = poll;
        const tick = () => {
          f.pollTimer = clock.setTimeout(tick, poll * 1000);
          const b = batchOf(f);
          b.whole ??= { several: false };
          b.reasons.add("poll");
          b.detectedBy.add("poll");
          schedule(f);
        };
        f.pollTimer = clock.setTimeout(tick, poll * 1000);
      }
      followed.set(c.name, f);
    }

    // One file-system watcher for every collector's paths; it is asked again only when they change.
    const requests = new Map<string, WatchRequest>();
    for (const f of followed.values()) {
      for (const { target, real } of f.fs) {
        const r = requests.get(real);
        if (!r || r.depth < target.depth) requests.set(real, { path: real, depth: target.depth });
      }
    }
    const nextFs = JSON.stringify([...requests.values()].sort((a, b) => (a.path < b.path ? -1 : 1)));
    if (nextFs !== fsKey) {
      fsKey = nextFs;
      if (requests.size && !fsWatcher && host.watch) {
        const opened = host.watch.files({ prefer: opts.prefer, onEvents, onNotice, ignore: opts.ignore });
        fsWatcher = opened.watcher;
        tried = opened.tried;
        if (!fsWatcher) {
          log.warn("realtime: no file-system watcher can be used here", { tried: tried.join("; ") });
        } else if (tried.length) {
          log.info(`realtime: ${fsWatcher.backend} in use`, { tried: tried.join("; ") });
        }
      }
      const failed = fsWatcher ? fsWatcher.watch([...requests.values()]).failed : [];
      for (const f of followed.values()) {
        f.unwatched = fsWatcher
          ? f.fs.flatMap((t) =>
            failed.filter((x) => x.path === t.real).map((x) => ({ path: t.target.path, why: x.why }))
          )
          : f.fs.map((t) => ({ path: t.target.path, why: "no file-system watcher" }));
        f.armedAt = now;
      }
      for (const x of failed) {
        log.warn("realtime: cannot watch a path; its changes wait for the scheduled scan", x);
      }
      if (fsWatcher) {
        log.info(`realtime: watching ${requests.size} path(s) with ${fsWatcher.backend}`, {
          directories: fsWatcher.stats().watches,
          attribution: fsWatcher.attribution,
        });
      }
    }
    const keys = [...followed.values()].flatMap((f) =>
      f.keys.map((k) => ({ key: k.key, subtree: k.subtree }))
    );
    const nextReg = JSON.stringify(keys);
    if (nextReg !== regKey) {
      regKey = nextReg;
      if (keys.length && !regWatcher && host.watch?.registry) {
        regWatcher = host.watch.registry({ onChange: onKeys, onNotice });
      }
      const failed = regWatcher
        ? regWatcher.watch(keys).failed
        : keys.map((k) => ({ key: k.key, why: "not the live Windows registry" }));
      for (const f of followed.values()) {
        f.unwatched = [
          ...f.unwatched.filter((u) => !f.keys.some((k) => k.key === u.path)),
          ...failed.filter((x) => f.keys.some((k) => k.key === x.key)).map((x) => ({
            path: x.key,
            why: x.why,
          })),
        ];
      }
    }
    publish();
  };

  arm(opts.settings);

  return {
    apply: (settings) => {
      if (!stopped) arm(settings);
    },
    wholeRunStarting(name) {
      const f = followed.get(name);
      if (!f) return;
      // A whole run is trusted to judge realtime once the watches stood before the previous one ended.
      const trusted = f.lastWholeEnd > 0 && f.armedAt <= f.lastWholeEnd;
      const explained: (ScopeTest | "all")[] = [];
      if (f.pending) {
        const p = f.pending;
        explained.push(
          p.whole ? "all" : scopeTest({ keys: [...p.keys.keys()], prefixes: [...p.prefixes.keys()] }),
        );
      }
      f.whole = { explained, disturbed: false, trusted };
    },
    wholeRunDone(name, changes) {
      const f = followed.get(name);
      if (!f) return;
      const w = f.whole;
      f.whole = undefined;
      if (changes === null) return;
      f.lastWholeEnd = clock.now();
      if (!w || !w.trusted || w.disturbed || !changes.length) return;
      const p = f.pending;
      if (p) {
        w.explained.push(
          p.whole ? "all" : scopeTest({ keys: [...p.keys.keys()], prefixes: [...p.prefixes.keys()] }),
        );
      }
      if (w.explained.includes("all")) return;
      const tests = w.explained as ScopeTest[];
      const unwatched = f.unwatched.map((u) => u.path);
      let missed = 0;
      for (const { key } of changes) {
        if (tests.some((t) => t.has(key))) continue;
        // Only what realtime follows can be missed by it: a key of a watched tree, or of watched items.
        const covered = f.keys.length > 0 || f.fs.some(({ target: t }) => {
          if (t.items === "path") {
            const l = levels(key, t.path);
            return l >= 0 && l <= t.depth && !unwatched.some((u) => levels(key, u) >= 0);
          }
          return t.items === null || t.items.some((k) => key.startsWith(k));
        });
        if (covered) missed++;
      }
      if (missed) {
        f.stats.missed += missed;
        log.warn(`realtime missed ${missed} change(s) the scheduled ${name} scan found`, { collector: name });
        publish();
      }
    },
    status,
    async stop() {
      stopped = true;
      for (const f of followed.values()) {
        clock.clearTimeout(f.timer);
        clock.clearTimeout(f.pollTimer);
      }
      clock.clearTimeout(stateTimer);
      await fsWatcher?.close();
      await regWatcher?.close();
      await Promise.all([...followed.values()].map((f) => f.running));
      await opts.onState?.(status());
    },
  };
}

/** What realtime is when it is off (--no-realtime). */
export function realtimeOff(): RealtimeStatus {
  return {
    on: false,
    backend: null,
    attribution: false,
    tried: [],
    watches: 0,
    events: 0,
    overflows: 0,
    collectors: [],
    at: Date.now(),
  };
}
