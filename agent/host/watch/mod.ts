// Realtime watchers: the best file-system watcher this machine allows (fanotify, then inotify, then
// Deno.watchFs), and the registry's change notification on Windows.
import type {
  Backend,
  FsWatcher,
  FsWatcherOptions,
  RegistryWatcher,
  RegistryWatcherOptions,
} from "./types.ts";
import { treeWatcher } from "./tree.ts";
import { fanotifyBackend } from "./fanotify_posix.ts";
import { inotifyBackend } from "./inotify_posix.ts";
import { watchFsWatcher } from "./watchfs.ts";
import { registryWatcher } from "./registry_windows.ts";

export type * from "./types.ts";

/** The watchers of a host. */
export interface HostWatch {
  /**
   * Opens the first of `prefer` (default fanotify, inotify, watchfs) that this machine allows. `tried` says
   * why each one before it could not be used.
   */
  files(
    opts: FsWatcherOptions & { prefer?: readonly Backend[] },
  ): { watcher: FsWatcher | null; tried: string[] };
  /** The registry's change notification (the live Windows machine only). */
  registry?(opts: RegistryWatcherOptions): RegistryWatcher;
}

/** Which watchers can be tried on the running OS, best first. */
export function backendsFor(os: string): Backend[] {
  return os === "linux" ? ["fanotify", "inotify", "watchfs"] : ["watchfs"];
}

/** The running machine's watchers. */
export function liveWatch(opts: { liveWindows: boolean }): HostWatch {
  return {
    files(o) {
      const tried: string[] = [];
      for (const b of o.prefer ?? backendsFor(Deno.build.os)) {
        if (b === "watchfs") return { watcher: watchFsWatcher(o), tried };
        if (Deno.build.os !== "linux") {
          tried.push(`${b}: Linux only`);
          continue;
        }
        const made = b === "fanotify" ? fanotifyBackend() : inotifyBackend();
        if (typeof made !== "string") return { watcher: treeWatcher(made, o), tried };
        tried.push(`${b}: ${made}`);
      }
      return { watcher: null, tried };
    },
    registry: opts.liveWindows ? (o) => registryWatcher(o) : undefined,
  };
}
