// inotify (any Linux, any user): one watch per directory, no process attribution; the fallback of fanotify.
import { errnoName, failure } from "../files/libc_posix.ts";
import { type DirBackend, type RawEvent, within } from "./tree.ts";
import { cpath, errno, IN, O_CLOEXEC, O_NONBLOCK, readSome, sys, WATCH_MASK } from "./sys_posix.ts";

const decoder = new TextDecoder();

/** An inotify instance, or why there is none. */
export function inotifyBackend(): DirBackend | string {
  const fd = sys().inotify_init1(O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return `inotify_init1: ${errnoName(errno())}`;
  /** Watch descriptor → the real path of its directory (kept current as directories move). */
  const paths = new Map<number, string>();
  const buf = new Uint8Array(1 << 16);
  const view = new DataView(buf.buffer);
  const mask = WATCH_MASK | IN.ONLYDIR | IN.DONT_FOLLOW | IN.EXCL_UNLINK;

  return {
    backend: "inotify",
    attribution: false,
    fd,
    mark(dir) {
      const p = cpath(dir);
      let wd: number;
      // Marking a directory again changes nothing: a failure is tried again until its errno can be believed.
      for (let attempt = 1; (wd = sys().inotify_add_watch(fd, p, mask)) < 0; attempt++) {
        const e = failure(attempt);
        if (e !== undefined) return errnoName(e);
      }
      // The same directory again (moved within the tree) keeps its descriptor under its new path.
      paths.set(wd, dir);
      return null;
    },
    unmarkUnder(dir) {
      for (const [wd, p] of paths) {
        if (!within(p, dir)) continue;
        sys().inotify_rm_watch(fd, wd);
        paths.delete(wd);
      }
    },
    flush() {
      for (const wd of paths.keys()) sys().inotify_rm_watch(fd, wd);
      paths.clear();
    },
    count: () => paths.size,
    read() {
      const events: RawEvent[] = [];
      const lost: string[] = [];
      let overflow = false;
      const n = readSome(fd, buf, "read inotify");
      for (let off = 0; off + 16 <= n;) {
        const wd = view.getInt32(off, true);
        const m = view.getUint32(off + 4, true);
        const len = view.getUint32(off + 12, true);
        let e = off + 16;
        while (e < off + 16 + len && buf[e] !== 0) e++;
        const name = len ? decoder.decode(buf.subarray(off + 16, e)) : null;
        off += 16 + len;
        if (m & IN.Q_OVERFLOW) {
          overflow = true;
          continue;
        }
        const dir = paths.get(wd);
        if (dir === undefined) continue;
        if (m & IN.UNMOUNT) lost.push(dir);
        if (m & IN.IGNORED) {
          // The directory is gone (or its file system): the kernel dropped the watch.
          paths.delete(wd);
          continue;
        }
        if (m & IN.UNMOUNT) continue;
        // Its own deletion or move is told by its parent's watch too.
        if (name === null && m & (IN.DELETE_SELF | IN.MOVE_SELF)) continue;
        events.push({ dir, name, mask: m });
      }
      return { events, overflow, lost };
    },
    close() {
      sys().close(fd);
    },
  };
}
