// A fake of the host's realtime watchers: the test says what the kernel would (events, overflows, lost
// watches, registry changes) and sees what was asked to be watched.
import type { HostWatch } from "../agent/host/watch/mod.ts";
import type {
  Backend,
  FsWatcherOptions,
  KeyRequest,
  RegistryWatcherOptions,
  WatchEvent,
  WatchNotice,
  WatchRequest,
} from "../agent/host/watch/types.ts";

export interface FakeWatch extends HostWatch {
  /** Every set of requests the file-system watcher was given, in order. */
  readonly requests: WatchRequest[][];
  readonly keys: KeyRequest[][];
  /** Tells the watchers' owner what the kernel would. */
  emit(events: WatchEvent[]): void;
  notice(n: WatchNotice): void;
  changed(keys: string[]): void;
  closed: boolean;
}

/**
 * A fake host watch with a file-system watcher of `backend` (attribution for fanotify) that refuses the request
 * paths in `refuse`, and a registry watcher.
 */
export function fakeWatch(opts: { backend?: Backend; refuse?: string[] } = {}): FakeWatch {
  const backend = opts.backend ?? "fanotify";
  let fs: FsWatcherOptions | undefined;
  let reg: RegistryWatcherOptions | undefined;
  let events = 0;
  const w: FakeWatch = {
    requests: [],
    keys: [],
    closed: false,
    files(o) {
      fs = o;
      return {
        tried: backend === "fanotify" ? [] : ["fanotify: fanotify_init: EPERM"],
        watcher: {
          backend,
          attribution: backend === "fanotify",
          watch(requests) {
            w.requests.push([...requests]);
            return {
              failed: requests.filter((r) => opts.refuse?.includes(r.path)).map((r) => ({
                path: r.path,
                why: "ENOSPC",
              })),
            };
          },
          stats: () => ({ watches: w.requests.at(-1)?.length ?? 0, events, overflows: 0 }),
          close() {
            w.closed = true;
            return Promise.resolve();
          },
        },
      };
    },
    registry(o) {
      reg = o;
      return {
        watch(keys) {
          w.keys.push([...keys]);
          return { failed: [] };
        },
        stats: () => ({ watches: w.keys.at(-1)?.length ?? 0, events: 0 }),
        close: () => Promise.resolve(),
      };
    },
    emit(e) {
      events += e.length;
      fs?.onEvents(e.filter((x) => !fs?.ignore?.some((i) => x.path === i || x.path.startsWith(i + "/"))));
    },
    notice: (n) => fs?.onNotice(n),
    changed: (keys) => reg?.onChange(keys),
  };
  return w;
}
