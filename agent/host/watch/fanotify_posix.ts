// fanotify (Linux ≥ 5.9, root): directory marks whose events carry the directory, the entry name and the pid
// (FAN_REPORT_DFID_NAME), and a pidfd (FAN_REPORT_PIDFD, 5.15) that tells whether the pid still names the process.
import { errnoName, failure } from "../files/libc_posix.ts";
import type { DirBackend, RawEvent } from "./tree.ts";
import type { Origin } from "./types.ts";
import { processResolver } from "./proc_posix.ts";
import {
  cpath,
  errno,
  IN,
  O_CLOEXEC,
  O_DIRECTORY,
  O_PATH,
  O_RDONLY,
  readSome,
  sys,
  WATCH_MASK,
} from "./sys_posix.ts";

const FAN_CLOEXEC = 0x1;
const FAN_NONBLOCK = 0x2;
const FAN_REPORT_PIDFD = 0x80;
const FAN_REPORT_DFID_NAME = 0xc00;
const FAN_MARK_ADD = 0x1;
const FAN_MARK_ONLYDIR = 0x8;
const FAN_MARK_FLUSH = 0x80;
const FAN_EVENT_ON_CHILD = 0x08000000;
const FAN_ONDIR = 0x40000000;
const AT_FDCWD = -100;

const INFO_FID = 1, INFO_DFID_NAME = 2, INFO_DFID = 3, INFO_PIDFD = 4;

const decoder = new TextDecoder();

const sameBytes = (a: Uint8Array, b: Uint8Array) => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

/**
 * A fanotify group, or the reason there is none (not root, an old kernel, a container without
 * CAP_SYS_ADMIN). `pid` is this process's: its own writes are never reported back to it.
 */
export function fanotifyBackend(): DirBackend | string {
  let pidfds = true;
  let fd = sys().fanotify_init(
    FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_DFID_NAME | FAN_REPORT_PIDFD,
    O_RDONLY,
  );
  if (fd < 0) {
    // Before 5.15 there is no pidfd: pids are still told, without the check that they were not reused.
    pidfds = false;
    fd = sys().fanotify_init(FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_DFID_NAME, O_RDONLY);
  }
  if (fd < 0) return `fanotify_init: ${errnoName(errno())}`;
  const resolve = processResolver();
  /** A descriptor on each file system marked, by fsid: where directory handles are opened. */
  const mountFds = new Map<string, number>();
  const statfs = new Uint8Array(120);
  let marks = 0;
  const buf = new Uint8Array(1 << 16);
  const view = new DataView(buf.buffer);
  const self = Deno.pid;
  const mask = BigInt(WATCH_MASK | FAN_EVENT_ON_CHILD | FAN_ONDIR);

  const hex = (b: Uint8Array, at: number, len: number) => {
    let k = "";
    for (let i = at; i < at + len; i++) k += b[i].toString(16).padStart(2, "0");
    return k;
  };
  const fsidKey = (b: Uint8Array, at: number) => hex(b, at, 8);

  /** The path a directory handle names now, or null when the directory is gone (ESTALE). */
  const pathOf = (fsid: string, handle: Uint8Array<ArrayBuffer>): string | null => {
    const mfd = mountFds.get(fsid);
    if (mfd === undefined) return null;
    const hfd = sys().open_by_handle_at(mfd, handle, O_PATH | O_CLOEXEC);
    if (hfd < 0) return null;
    try {
      return Deno.readLinkSync(`/proc/self/fd/${hfd}`);
    } catch {
      return null;
    } finally {
      sys().close(hfd);
    }
  };

  return {
    backend: "fanotify",
    attribution: true,
    fd,
    mark(dir) {
      const p = cpath(dir);
      // Marking a directory again changes nothing: a failure is tried again until its errno can be believed.
      for (
        let attempt = 1;
        sys().fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_ONLYDIR, mask, AT_FDCWD, p) !== 0;
        attempt++
      ) {
        const e = failure(attempt);
        if (e !== undefined) return errnoName(e);
      }
      marks++;
      const dfd = sys().open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
      if (dfd >= 0) {
        if (sys().fstatfs(dfd, statfs) === 0 && !mountFds.has(fsidKey(statfs, 56))) {
          mountFds.set(fsidKey(statfs, 56), dfd);
        } else sys().close(dfd);
      }
      return null;
    },
    flush() {
      sys().fanotify_mark(fd, FAN_MARK_FLUSH, 0n, AT_FDCWD, cpath("/"));
      for (const m of mountFds.values()) sys().close(m);
      mountFds.clear();
      marks = 0;
    },
    count: () => marks,
    read() {
      const events: RawEvent[] = [];
      let overflow = false;
      const n = readSome(fd, buf, "read fanotify");
      if (n === 0) return { events, overflow, lost: [] };
      const dirs = new Map<string, string | null>();
      let lastFid = new Uint8Array(0), lastDir: string | null = null;
      const who = new Map<number, Origin>();
      for (let off = 0; off + 24 <= n;) {
        const len = view.getUint32(off, true);
        const metaLen = view.getUint16(off + 6, true);
        const m = Number(view.getBigUint64(off + 8, true));
        const pid = view.getInt32(off + 20, true);
        let dir: string | null = null, name: string | null = null, pidfd: number | undefined, named = false;
        for (let i = off + metaLen; i + 4 <= off + len;) {
          const type = buf[i], ilen = view.getUint16(i + 2, true);
          if (ilen < 4) break;
          if (type === INFO_PIDFD) pidfd = view.getInt32(i + 4, true);
          else if (type === INFO_DFID_NAME || type === INFO_DFID || type === INFO_FID) {
            const hbytes = view.getUint32(i + 12, true);
            // The file system id and the directory's handle name the directory: looked up once per read, and
            // not even that for the next event of the same directory (a storm's events mostly are).
            const fid = buf.subarray(i + 4, i + 20 + hbytes);
            if (!sameBytes(fid, lastFid)) {
              const key = String.fromCharCode.apply(null, fid as unknown as number[]);
              let at = dirs.get(key);
              if (at === undefined) {
                dirs.set(key, at = pathOf(fsidKey(buf, i + 4), buf.slice(i + 12, i + 20 + hbytes)));
              }
              lastFid = fid.slice();
              lastDir = at;
            }
            dir = lastDir;
            named = true;
            if (type === INFO_DFID_NAME) {
              let e = i + 20 + hbytes;
              const start = e;
              while (e < i + ilen && buf[e] !== 0) e++;
              const text = decoder.decode(buf.subarray(start, e));
              name = text === "." ? null : text;
            }
          }
          i += ilen;
        }
        off += len;
        if (m & IN.Q_OVERFLOW) overflow = true;
        // A directory gone before its event was read (ESTALE): its own removal comes from its parent's mark.
        if (!named || dir === null || pid === self) {
          if (pidfd !== undefined && pidfd >= 0) sys().close(pidfd);
          continue;
        }
        let origin = who.get(pid);
        if (!origin) who.set(pid, origin = resolve(pid, pidfds ? pidfd : undefined));
        if (pidfd !== undefined && pidfd >= 0) sys().close(pidfd);
        events.push({ dir, name, mask: m, origin });
      }
      return { events, overflow, lost: [] };
    },
    close() {
      for (const m of mountFds.values()) sys().close(m);
      mountFds.clear();
      sys().close(fd);
    },
  };
}
