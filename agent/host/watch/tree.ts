// The directory-marking watchers (fanotify, inotify) alike: which directories a set of requests needs marked,
// marking new ones as they come, real paths named as the requests name them, mount changes noticed.
import type { Backend, FsWatcher, FsWatcherOptions, Origin, WatchEvent, WatchRequest } from "./types.ts";
import { IN, O_CLOEXEC, O_NONBLOCK, O_RDONLY, POLLERR, POLLPRI, pollSet, sys } from "./sys_posix.ts";
import { cpath } from "./sys_posix.ts";

/** One event as a directory watcher reads it: on the entry `name` of the directory at real path `dir`. */
export interface RawEvent {
  dir: string;
  /** null: the directory itself (deleted, moved). */
  name: string | null;
  mask: number;
  origin?: Origin;
}

/** A kernel interface that watches directories one by one (their entries and themselves). */
export interface DirBackend {
  readonly backend: Backend;
  readonly attribution: boolean;
  /** The descriptor to poll for events. */
  readonly fd: number;
  /** Starts watching the directory at real path `dir`: null, or why it cannot (ENOSPC, ENOENT …). */
  mark(dir: string): string | null;
  /** Stops watching `dir` and what is below it (inotify: a directory moved away keeps its watch otherwise). */
  unmarkUnder?(dir: string): void;
  /** Stops watching everything. */
  flush(): void;
  /** Directories watched. */
  count(): number;
  /** The events queued (none when nothing is); `overflow` when the kernel dropped some. */
  read(): { events: RawEvent[]; overflow: boolean; lost: string[] };
  close(): void;
}

/** `a/b` → `a`; `/a` → `/`. */
export function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

const join = (dir: string, name: string) => (dir === "/" ? "/" + name : `${dir}/${name}`);

/** Whether `path` is `dir` or lies below it. */
export function within(path: string, dir: string): boolean {
  return path === dir || dir === "/" || (path.startsWith(dir) && path.charCodeAt(dir.length) === 47);
}

/**
 * The requests as a lookup: how many levels below `path` are still watched (its depth left), or -1 when no
 * request covers it.
 */
export function coverage(requests: readonly WatchRequest[]) {
  const byPath = new Map<string, number>();
  for (const r of requests) byPath.set(r.path, Math.max(r.depth, byPath.get(r.path) ?? -1));
  return (path: string): number => {
    let left = -1;
    for (let p = path, below = 0;; below++) {
      const d = byPath.get(p);
      if (d !== undefined && d - below > left) left = d - below;
      if (p === "/") break;
      p = parentOf(p);
    }
    return left;
  };
}

const realOrNull = (p: string) => {
  try {
    return Deno.realPathSync(p);
  } catch {
    return null;
  }
};

const devOf = (p: string) => {
  try {
    return String(Deno.statSync(p).dev);
  } catch {
    return "";
  }
};

/** How long the first event of a batch waits for others in the kernel's queue before they are read (ms). */
const GATHER_MS = 20;

/** An FsWatcher made of a directory backend: requests become marks, events become request paths. */
export function treeWatcher(b: DirBackend, opts: FsWatcherOptions): FsWatcher {
  const max = opts.maxWatches ?? 100_000;
  let requests: WatchRequest[] = [];
  let left = coverage([]);
  /** Real path → the request path it is seen as (longest first): a request below a symlink is named as asked. */
  let names: [real: string, path: string][] = [];
  /** The devices of the marked request roots: a mount over one hides it (re-marked, scanned). */
  let devs = new Map<string, string>();
  let events = 0, overflows = 0;
  const ignore = opts.ignore ?? [];

  /** Marks the directory at request path `dir` and those below it up to `depth` levels; false once refused. */
  const markTree = (dir: string, real: string, depth: number, failed: (why: string) => void): void => {
    if (b.count() >= max) return failed(`more than ${max} directories to watch`);
    const why = b.mark(real);
    if (why) return why === "ENOENT" || why === "ENOTDIR" ? undefined : failed(`${why} (${dir})`);
    if (depth <= 0) return;
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(real)];
    } catch {
      return; // gone meanwhile, or unreadable: its entries' events still come from its mark
    }
    for (const e of entries) {
      if (e.isDirectory) markTree(join(dir, e.name), join(real, e.name), depth - 1, failed);
    }
  };

  const arm = (r: WatchRequest, failed: { path: string; why: string }[]) => {
    let refused: string | undefined;
    const fail = (why: string) => void (refused ??= why);
    const parent = parentOf(r.path);
    const realParent = realOrNull(parent);
    if (realParent && r.path !== "/") markTree(parent, realParent, 0, fail);
    const real = realOrNull(r.path);
    if (real && r.depth > 0) markTree(r.path, real, r.depth - 1, fail);
    devs.set(r.path, `${devOf(parent)}:${devOf(r.path)}`);
    if (refused) failed.push({ path: r.path, why: refused });
  };

  const nameOf = (realDir: string): string | null => {
    for (const [real, path] of names) {
      if (within(realDir, real)) return real === "/" ? path + realDir : path + realDir.slice(real.length);
    }
    return null;
  };

  const convert = (raw: RawEvent[]): WatchEvent[] => {
    const out: WatchEvent[] = [];
    for (const e of raw) {
      const dir = nameOf(e.dir);
      if (dir === null) continue;
      const path = e.name === null ? dir : join(dir, e.name);
      const depthLeft = left(path);
      if (depthLeft < 0 || ignore.some((i) => within(path, i))) continue;
      const dirent =
        (e.mask & (IN.CREATE | IN.DELETE | IN.MOVED_FROM | IN.MOVED_TO | IN.DELETE_SELF | IN.MOVE_SELF)) !==
          0;
      const isDir = (e.mask & IN.ISDIR) !== 0 || e.name === null;
      // A directory that came: mark it and what is below it before it is scanned, so nothing made in it is lost.
      if (isDir && e.name !== null && (e.mask & (IN.CREATE | IN.MOVED_TO)) && depthLeft > 0) {
        markTree(
          path,
          join(e.dir, e.name),
          depthLeft - 1,
          (why) => opts.onNotice({ kind: "lost", path, why }),
        );
      }
      if (isDir && e.name !== null && (e.mask & IN.MOVED_FROM)) b.unmarkUnder?.(join(e.dir, e.name));
      out.push({
        path,
        dirent,
        moved: (e.mask & IN.MOVED_TO) !== 0,
        dir: isDir,
        ...(e.origin ? { origin: e.origin } : {}),
      });
    }
    return out;
  };

  // The mount table: poll() says POLLPRI when it changes.
  const mounts = sys().open(cpath("/proc/self/mountinfo"), O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0);
  const poller = pollSet([
    { fd: b.fd, events: 1 },
    ...(mounts >= 0 ? [{ fd: mounts, events: POLLPRI }] : []),
  ]);
  const remounted = () => {
    for (const r of requests) {
      const now = `${devOf(parentOf(r.path))}:${devOf(r.path)}`;
      if (now === devs.get(r.path)) continue;
      const failed: { path: string; why: string }[] = [];
      arm(r, failed);
      opts.onNotice({
        kind: "lost",
        path: r.path,
        why: failed[0]?.why ?? "a file system was mounted or unmounted there",
      });
    }
  };
  const loop = (async () => {
    for (;;) {
      const ready = await poller.wait();
      if (!ready) return;
      if (ready[1] & (POLLPRI | POLLERR)) remounted();
      if (!ready[0]) continue;
      // Events come one at a time as they are made: let a few milliseconds' worth gather in the kernel's queue,
      // so a storm of writes costs one read, one conversion and one hand-over per batch rather than per write
      // (the queue holds thousands; a batch waits anyway for its quiet time, far longer than this).
      await new Promise((r) => setTimeout(r, GATHER_MS));
      for (;;) {
        let got;
        try {
          got = b.read();
        } catch (e) {
          opts.onNotice({ kind: "lost", path: "/", why: (e as Error).message });
          break;
        }
        if (got.overflow) {
          overflows++;
          opts.onNotice({ kind: "overflow" });
        }
        for (const path of got.lost) {
          const name = nameOf(path);
          if (name !== null && left(name) >= 0) opts.onNotice({ kind: "lost", path: name, why: "unmounted" });
        }
        if (!got.events.length) {
          if (!got.overflow && !got.lost.length) break;
          continue;
        }
        events += got.events.length;
        const out = convert(got.events);
        if (out.length) opts.onEvents(out);
      }
    }
  })();

  let closing: Promise<void> | undefined;
  return {
    backend: b.backend,
    attribution: b.attribution,
    watch(next) {
      b.flush();
      requests = [...next];
      left = coverage(requests);
      devs = new Map();
      const pairs = new Map<string, string>();
      for (const r of requests) {
        for (const p of [parentOf(r.path), r.path]) {
          const real = realOrNull(p);
          if (real !== null) pairs.set(real, p);
        }
      }
      names = [...pairs].sort((a, b) => b[0].length - a[0].length);
      const failed: { path: string; why: string }[] = [];
      for (const r of requests) arm(r, failed);
      return { failed };
    },
    stats: () => ({ watches: b.count(), events, overflows }),
    // Once only: a descriptor closed twice could be another thread's by then (test files share a process).
    close: () =>
      closing ??= (async () => {
        poller.stop();
        await loop;
        poller.close();
        if (mounts >= 0) sys().close(mounts);
        b.close();
      })(),
  };
}
