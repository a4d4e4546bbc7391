// Deno.watchFs (ReadDirectoryChangesW on Windows; inotify or kqueue elsewhere): the portable watcher, without
// process attribution. Each request watches its parent directory (the entry itself) and its own tree.
import type { FsWatcher, FsWatcherOptions, WatchEvent, WatchRequest } from "./types.ts";

/** The portable watcher; `windows`: `\` separators and names compared without case. */
export function watchFsWatcher(opts: FsWatcherOptions & { windows?: boolean }): FsWatcher {
  const windows = opts.windows ?? Deno.build.os === "windows";
  const sep = windows ? "\\" : "/";
  const fold = (p: string) => (windows ? p.toLowerCase() : p);
  const parentOf = (p: string) => {
    const i = p.lastIndexOf(sep);
    const up = i <= 0 ? sep : p.slice(0, i);
    return windows && /^[A-Za-z]:$/.test(up) ? up + sep : up;
  };
  const under = (p: string, dir: string) => p === dir || p.startsWith(dir.endsWith(sep) ? dir : dir + sep);
  let requests: WatchRequest[] = [];
  let watchers: Deno.FsWatcher[] = [];
  let events = 0, overflows = 0;
  const ignore = (opts.ignore ?? []).map(fold);
  let generation = 0;

  /** The request path `raw` lies in (as the request spells it), with the levels below it; null when none. */
  const named = (raw: string): { path: string; below: number; depth: number } | null => {
    const f = fold(raw);
    let best: { path: string; below: number; depth: number } | null = null;
    for (const r of requests) {
      const rf = fold(r.path);
      if (!under(f, rf)) continue;
      const rest = raw.slice(r.path.length);
      const below = rest ? rest.split(sep).filter(Boolean).length : 0;
      if (below <= r.depth && (!best || r.depth - below > best.depth - best.below)) {
        best = { path: r.path + rest, below, depth: r.depth };
      }
    }
    return best;
  };

  const listen = (path: string, recursive: boolean, gen: number): string | null => {
    let w: Deno.FsWatcher;
    try {
      w = Deno.watchFs(path, { recursive });
    } catch (e) {
      return (e as Error).message;
    }
    watchers.push(w);
    (async () => {
      try {
        for await (const e of w) {
          if (gen !== generation) break;
          if (e.flag === "rescan") {
            overflows++;
            opts.onNotice({ kind: "overflow" });
            continue;
          }
          const out: WatchEvent[] = [];
          for (const p of e.paths) {
            const n = named(p);
            if (!n || ignore.some((i) => under(fold(n.path), i))) continue;
            const dirent = e.kind === "create" || e.kind === "remove" || e.kind === "rename" ||
              e.kind === "any";
            out.push({ path: n.path, dirent, moved: e.kind === "rename", dir: null });
          }
          events += e.paths.length;
          if (out.length) opts.onEvents(out);
        }
      } catch (e) {
        if (gen === generation) opts.onNotice({ kind: "lost", path, why: (e as Error).message });
      }
    })();
    return null;
  };

  const closeAll = () => {
    for (const w of watchers) {
      try {
        w.close();
      } catch {
        // closed already
      }
    }
    watchers = [];
  };

  return {
    backend: "watchfs",
    attribution: false,
    watch(next) {
      closeAll();
      const gen = ++generation;
      requests = [...next];
      const failed: { path: string; why: string }[] = [];
      const parents = new Set<string>();
      for (const r of requests) {
        const parent = parentOf(r.path);
        if (parent !== r.path && !parents.has(fold(parent))) {
          parents.add(fold(parent));
          const why = listen(parent, false, gen);
          if (why) failed.push({ path: r.path, why });
        }
        if (r.depth > 0) {
          let dir = false;
          try {
            dir = Deno.statSync(r.path).isDirectory;
          } catch {
            // not there (yet): its parent's watch sees it come; the scheduled scan covers what is made in it
          }
          if (dir) {
            const why = listen(r.path, r.depth > 1, gen);
            if (why) failed.push({ path: r.path, why });
          }
        }
      }
      return { failed };
    },
    stats: () => ({ watches: watchers.length, events, overflows }),
    close() {
      generation++;
      closeAll();
      return Promise.resolve();
    },
  };
}
