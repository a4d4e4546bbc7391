// How a walk's read-ahead thread reads a tree (listing_worker.ts runs it; read_ahead.ts reads a subtree the thread
// left to the walk the same way): in the order the walk enters its directories, each directory's listing with every
// entry's statx into the shared ring (listing_ring.ts), and the END of each subtree read whole, with its digest.
// Where the walk says it is (it listed a directory itself, the thread not there yet), the thread goes past: what
// sorts before it is only gone through, by d_type, to what lies beyond. It only reads: it opens directories
// (relative to their parent's fd, never following a symlink below the top), lists and stats. What it cannot read
// it leaves out; the walk meets the error itself.
import * as libc from "./libc_posix.ts";
import { STATX_READ } from "./libc_posix.ts";
import { bytesToPath, pathToBytes } from "./names.ts";
import { keyOrder } from "../../key_order.ts";
import { dirPrefix } from "./walk_limits.ts";
import {
  entryDigest,
  EntrySum,
  type ListingWriter,
  Position,
  ringMayHold,
  SubtreeDigest,
} from "./listing_ring.ts";

/** What the thread is started with (plain data and the ring's shared memory). */
export interface ReadAheadInit {
  control: SharedArrayBuffer;
  ring: SharedArrayBuffer;
  /** Where the walk is when it lists a directory itself (listing_ring.ts Position): what the thread goes past. */
  position: SharedArrayBuffer;
  /** The walk's path of the first directory it lists, and the real one to open. */
  path: string;
  real: string;
  /** Whether opening `real` may follow a symlink at its end (the base of a pattern is resolved; a literal not). */
  follow: boolean;
  /** The depth of the first directory, and the deepest the walk enters. */
  depth: number;
  maxDepth: number;
  /**
   * Subtrees the last run kept (paths, items under each): the thread leaves some to the walk (DELEGATED), so that
   * the walk, with nothing else to do while the thread reads, reads them, and the two read the tree at once.
   */
  kept?: [string, number][];
  /** Whether every kept subtree is left to the walk, waiting or not (tests). */
  delegateAlways?: boolean;
}

/** Where a lister's reading goes: the ring (ListingWriter), or nowhere (digestOf: the digest alone). */
export interface ListingSink {
  stopped(): boolean;
  begin(path: string, self: Uint8Array): boolean;
  entry(src: Uint8Array, start: number, len: number, type: number, errno: number, stat: Uint8Array): boolean;
  end(broken?: boolean): boolean;
  subtreeEnd(path: string, self: Uint8Array, d: SubtreeDigest): boolean;
  delegated(path: string): boolean;
}

const NOWHERE: ListingSink = {
  stopped: () => false,
  begin: () => true,
  entry: () => true,
  end: () => true,
  subtreeEnd: () => true,
  delegated: () => true,
};

/** What a lister reads for. */
interface ListerOptions {
  sink: ListingSink;
  /** Where the walk is (the thread goes past what it did); none: the walk waits for nothing. */
  position?: Position;
  maxDepth: number;
  /** Whether to leave the subdirectory at `path` to the walk; `listed`: the entries listed so far. */
  delegate?(path: string, listed: number): boolean;
  /** Each directory listed, by its statx. */
  entered?(self: Uint8Array): void;
}

const DIR_FLAGS = libc.O_RDONLY | libc.O_DIRECTORY | libc.O_NONBLOCK;

/** Whether every key in the directory `key` (a dirPrefix) sorts before `at` (one too): the walk is past them all. */
const pastBelow = (key: string, at: string) => keyOrder(key, at) < 0 && !at.startsWith(key);

/** Walks and writes; returns when done or asked to stop. */
export function readAhead(init: ReadAheadInit, w: ListingWriter): void {
  // Kept subtrees are left to the walk, to read while the thread reads on, as long as the walk has fewer items
  // left to it than the thread listed itself. Not one inside another kept that the ring can hold (the thread,
  // reading that whole, lets the walk go past it at once).
  const kept = new Map((init.kept ?? []).filter((k) => ringMayHold(init.ring.byteLength, k[1])));
  const outermost = new Map([...kept].filter(([p]) => {
    for (let i = p.lastIndexOf("/"); i > 0; i = p.lastIndexOf("/", i - 1)) {
      if (kept.has(p.slice(0, i))) return false;
    }
    return true;
  }));
  let left = 0;
  const list = lister({
    sink: w,
    position: new Position(init.position),
    maxDepth: init.maxDepth,
    delegate(path, listed) {
      const items = outermost.get(path);
      if (items === undefined || (left >= listed && !init.delegateAlways)) return false;
      left += items;
      return true;
    },
  });
  let top: number;
  try {
    top = libc.openAt(
      libc.AT_FDCWD,
      libc.cstr(pathToBytes(init.real)),
      DIR_FLAGS | (init.follow ? 0 : libc.O_NOFOLLOW),
    );
  } catch {
    return;
  }
  try {
    list(top, init.path, init.depth);
  } finally {
    libc.close(top);
  }
}

/**
 * The digest of the subtree of the directory `fd` (at `path`, `depth`) as the thread would put in its END record,
 * read here; null when some of it could not be read. `entered` is told each directory's statx.
 */
export function digestOf(
  fd: number,
  path: string,
  depth: number,
  maxDepth: number,
  entered: (self: Uint8Array) => void,
): SubtreeDigest | null {
  return lister({ sink: NOWHERE, maxDepth, entered })(fd, path, depth) || null;
}

/** The thread's reading of a directory and its subtree, into `o.sink`. */
function lister(o: ListerOptions): (fd: number, path: string, depth: number) => SubtreeDigest | null | false {
  const w = o.sink;
  const sx = new Uint8Array(256);
  const sxWords = new Int32Array(sx.buffer);
  const stat = sx.subarray(0, STATX_READ);
  const self = new Uint8Array(256);
  const dv = new DataView(self.buffer);
  const dents = new Uint8Array(64 * 1024);
  const dentsView = new DataView(dents.buffer);
  /** The entry's name, NUL-terminated, for statx. */
  const name = new Uint8Array(4098);
  const visited = new Set<string>();
  /** Entries listed so far. */
  let listed = 0;
  const entry = new SubtreeDigest();

  /**
   * Lists the directory `fd` into the ring, with its entries' statx; one the walk is past (it listed it itself)
   * is only gone through, by d_type, to what lies beyond. Then its subdirectories, and the END of its subtree when
   * all of it was listed into the ring, each entry stat'ed. Returns the subtree's digest then, else null; false
   * when asked to stop.
   */
  const list = (fd: number, path: string, depth: number): SubtreeDigest | null | false => {
    if (w.stopped()) return false;
    // A directory seen already (by identity) is not listed twice: the walk does not enter it again.
    if (libc.fstatInto(fd, self) !== 0) return null;
    const id = `${dv.getUint32(136, true)}:${dv.getUint32(140, true)}:${dv.getUint32(32, true)}:${
      dv.getUint32(36, true)
    }`;
    if (visited.has(id)) return null;
    visited.add(id);
    o.entered?.(self);
    const prefix = dirPrefix(path, "/");
    const at = o.position?.read();
    const put = at === undefined || keyOrder(prefix, dirPrefix(at, "/")) > 0;
    const dirs: { name: Uint8Array<ArrayBuffer>; key: string }[] = [];
    const deeper = depth + 1 <= o.maxDepth;
    let begun = false;
    // Its own statx (`self` is the next directory's soon), and its subtree's digest while all of it is put.
    const mine = put ? self.slice(0, STATX_READ) : self;
    const digest = new SubtreeDigest(), sum = new EntrySum();
    let whole = put;
    for (;;) {
      let n: number;
      try {
        n = libc.getdents(fd, dents);
      } catch {
        // Unreadable: the walk meets the error itself (records of it that went are marked so).
        if (begun && !w.end(true)) return false;
        return null;
      }
      if (put && !begun) {
        if (!w.begin(path, self)) return null;
        begun = true;
      }
      if (n === 0) break;
      // The kernel's records read where they lie: a name is copied into the ring and, NUL-terminated, for statx.
      for (let off = 0; off < n;) {
        const reclen = dentsView.getUint16(off + 16, true);
        const type = dents[off + 18];
        const start = off + 19;
        off += reclen;
        let end = start;
        while (dents[end] !== 0) end++;
        const len = end - start;
        if (dents[start] === 46 && (len === 1 || (len === 2 && dents[start + 1] === 46))) continue;
        let dir: boolean;
        if (put || type === libc.DT_UNKNOWN) {
          for (let i = 0; i <= len; i++) name[i] = dents[start + i];
          const errno = libc.statInto(fd, name, false, sx);
          if (put) {
            if (!w.entry(dents, start, len + 1, type, errno, stat)) return false;
            listed++;
            sum.add(entryDigest(entry, dents, start, len, type, errno === 0 ? sxWords : null));
            if (errno !== 0) whole = false;
          }
          dir = errno === 0 && ((sx[28] | (sx[29] << 8)) & libc.S_IFMT) === libc.S_IFDIR;
        } else dir = type === libc.DT_DIR;
        if (dir && deeper) {
          dirs.push({
            name: dents.slice(start, end + 1),
            key: bytesToPath(dents.subarray(start, end)) + "/",
          });
        }
      }
    }
    if (begun && !w.end()) return false;
    digest.entries(sum);
    // Entered as the walk enters them: where their contents' keys sort (walk_limits.ts keyOrderedDescents).
    dirs.sort((a, b) => keyOrder(a.key, b.key));
    for (const d of dirs) {
      const key = prefix + d.key;
      // All of it behind the walk: left to it.
      const now = o.position?.read();
      if (now !== undefined && pastBelow(key, dirPrefix(now, "/"))) {
        whole = false;
        continue;
      }
      // A kept subtree left to the walk, to read it while the thread reads on.
      if (put && o.delegate?.(key.slice(0, -1), listed)) {
        if (!w.delegated(key.slice(0, -1))) return false;
        whole = false;
        continue;
      }
      let fd2: number;
      try {
        fd2 = libc.openAt(fd, d.name, DIR_FLAGS | libc.O_NOFOLLOW);
      } catch {
        whole = false;
        continue;
      }
      let sub: SubtreeDigest | null | false;
      try {
        sub = list(fd2, key.slice(0, -1), depth + 1);
      } finally {
        libc.close(fd2);
      }
      if (sub === false) return false;
      if (sub === null) whole = false;
      else digest.digest(sub);
    }
    if (!whole) return null;
    if (!w.subtreeEnd(path, mine, digest)) return w.stopped() ? false : null;
    return digest;
  };
  return list;
}
