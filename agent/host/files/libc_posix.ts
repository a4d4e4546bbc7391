// Linux libc through FFI: byte-exact names (Deno's fs APIs turn invalid UTF-8 into U+FFFD), statx with
// nanoseconds and birth time, *at() calls relative to directory fds (no PATH_MAX limit), pread for hashing.

/** File type bits of st_mode. */
export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFIFO = 0o010000;
export const S_IFSOCK = 0o140000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

export const O_RDONLY = 0;
export const O_NOCTTY = 0o400;
export const O_NONBLOCK = 0o4000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_CLOEXEC = 0o2000000;
export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_EMPTY_PATH = 0x1000;
export const AT_NO_AUTOMOUNT = 0x800;
/** STATX_BASIC_STATS | STATX_BTIME */
const STATX_MASK = 0xfff;
const STATX_BTIME = 0x800;

export const DT_UNKNOWN = 0;
export const DT_DIR = 4;
export const DT_LNK = 10;

const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  4: "EINTR",
  5: "EIO",
  9: "EBADF",
  11: "EAGAIN",
  13: "EACCES",
  20: "ENOTDIR",
  6: "ENXIO",
  22: "EINVAL",
  24: "EMFILE",
  36: "ENAMETOOLONG",
  40: "ELOOP",
  61: "ENODATA",
  95: "EOPNOTSUPP",
  110: "ETIMEDOUT",
};

export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}

/** A failed system call: `code` is the errno name (EACCES, ENOENT, ...). */
export class SysError extends Error {
  override name = "SysError";
  constructor(readonly call: string, readonly errno: number) {
    super(`${call}: ${errnoName(errno)}`);
  }
  get code(): string {
    return errnoName(this.errno);
  }
}

export interface Stat {
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  /** Inode as a decimal string (it is 64-bit). */
  ino: string;
  dev: string;
  size: number;
  /** 512-byte blocks allocated: fewer than the size needs means the file has holes (sparse). */
  blocks: number;
  mtimeSec: number;
  mtimeNsec: number;
  ctimeSec: number;
  ctimeNsec: number;
  /** Birth time, null when the file system does not record it. */
  btimeSec: number | null;
  btimeNsec: number;
}

const SYMBOLS = {
  openat: { parameters: ["i32", "buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  getdents64: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
  readlinkat: { parameters: ["i32", "buffer", "buffer", "usize"], result: "isize" },
  pread: { parameters: ["i32", "buffer", "usize", "i64"], result: "isize" },
  lseek: { parameters: ["i32", "i64", "i32"], result: "i64" },
  fgetxattr: { parameters: ["i32", "buffer", "buffer", "usize"], result: "isize" },
  getxattr: { parameters: ["buffer", "buffer", "buffer", "usize"], result: "isize" },
  lgetxattr: { parameters: ["buffer", "buffer", "buffer", "usize"], result: "isize" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
let lib: Lib | undefined;
function libc(): Lib {
  if (!lib) {
    if (Deno.build.os !== "linux") throw new Error(`libc FFI: unsupported OS ${Deno.build.os}`);
    lib = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  }
  return lib;
}

/** This thread's errno: its address is fixed for the thread, so it is asked once and read directly after. */
let errnoView: Deno.UnsafePointerView | null | undefined;
function errno(): number {
  if (errnoView === undefined) {
    const p = libc().__errno_location();
    errnoView = p ? new Deno.UnsafePointerView(p) : null;
  }
  return errnoView ? errnoView.getInt32() : 0;
}

/** Tries a failed call gets before its errno is believed (see failure()). */
export const TRIES = 3;
const EIO = 5;
/** The errno failure() read at the try before. */
let lastErrno = 0;

/**
 * The errno of a call that just failed (its `attempt`-th try, from 1), once it can be believed; undefined: make
 * the call again. Deno's FFI gives errno only as the thread's variable, read after the call returned, and the
 * runtime may run its own code on this thread in between, whose failed system calls leave their errno there.
 * Under ctagent's V8 flags, of 2 million fgetxattr calls that each failed with ENODATA, 1-11 read as EAGAIN (once
 * one as ENOENT), and a first scan of a million files took one without an ACL for unreadable ("cannot read the
 * access ACL of fd 228: errno 11") in 3 runs of 6, which the next scan reported Added; a statx misread as ENOENT
 * would have the walk take a file for gone. So a failure counts once two tries in a row read the same errno
 * (after TRIES tries, the last one's; none read: EIO); an answer in `usual` (a call's everyday outcome, such as
 * ENODATA for a file without that attribute) is believed at once. Only failures are tried again. Each wrapper
 * loops over its own call rather than handing a closure to a helper: statx and openat are made per file, and a
 * closure per call would be garbage per file.
 */
export function failure(attempt: number, usual?: readonly number[]): number | undefined {
  const e = errno();
  const twice = attempt > 1 && e === lastErrno;
  lastErrno = e;
  return twice || attempt >= TRIES || usual?.includes(e) ? e || EIO : undefined;
}

const EMPTY = new Uint8Array(1);
const encoder = new TextEncoder();

/** A NUL-terminated copy of `path` (bytes or a string). */
export function cstr(path: Uint8Array | string): Uint8Array<ArrayBuffer> {
  const b = typeof path === "string" ? encoder.encode(path) : path;
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

/** openat(2); `name` must be NUL-terminated. Throws SysError. */
export function openAt(dirfd: number, name: Uint8Array<ArrayBuffer>, flags: number): number {
  for (let attempt = 1;; attempt++) {
    const fd = libc().openat(dirfd, name, flags | O_CLOEXEC, 0);
    if (fd >= 0) return fd;
    const e = failure(attempt);
    if (e !== undefined) throw new SysError("openat", e);
  }
}

export function close(fd: number): void {
  libc().close(fd);
}

const sx = new Uint8Array(256);
const sxView = new DataView(sx.buffer);
const sxWords = new Int32Array(sx.buffer);

/** The statx the last statAt() or fstat() read, as 32-bit words: a view, which the next one overwrites. */
export function lastStatWords(): Int32Array {
  return sxWords;
}

const TWO32 = 4294967296;

/** The bytes of a statx buffer parseStatx() reads (up to stx_dev_minor): what a read-ahead listing keeps of each. */
export const STATX_READ = 144;

/**
 * Parses a statx buffer (no BigInt: 64-bit fields are read as two halves); `at`: where in `view` it begins (a
 * read-ahead listing holds many, listing_ring.ts).
 */
export function parseStatx(buf: Uint8Array, view?: DataView, at = 0): Stat {
  const v = view ?? new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const bs = i64At(v, at + 80), bn = v.getUint32(at + 88, true);
  const hasBirth = (v.getUint32(at, true) & STATX_BTIME) !== 0 && (bs !== 0 || bn !== 0);
  const inoHi = v.getUint32(at + 36, true);
  return {
    nlink: v.getUint32(at + 16, true),
    uid: v.getUint32(at + 20, true),
    gid: v.getUint32(at + 24, true),
    mode: v.getUint16(at + 28, true),
    // Exact as a Number below 2^53; above, through BigInt (rare: some network file systems).
    ino: inoHi < 0x200000 ? String(u64At(v, at + 32)) : v.getBigUint64(at + 32, true).toString(),
    size: u64At(v, at + 40),
    blocks: u64At(v, at + 48),
    btimeSec: hasBirth ? bs : null,
    btimeNsec: hasBirth ? bn : 0,
    ctimeSec: i64At(v, at + 96),
    ctimeNsec: v.getUint32(at + 104, true),
    mtimeSec: i64At(v, at + 112),
    mtimeNsec: v.getUint32(at + 120, true),
    dev: devText(v.getUint32(at + 136, true), v.getUint32(at + 140, true)),
  };
}

// 64-bit fields as two halves (no BigInt); functions of their own, not closures made per call.
const u64At = (v: DataView, at: number) => v.getUint32(at + 4, true) * TWO32 + v.getUint32(at, true);
const i64At = (v: DataView, at: number) => v.getInt32(at + 4, true) * TWO32 + v.getUint32(at, true);
/** Little-endian words of a buffer read byte by byte (no DataView). */
const i32Of = (b: Uint8Array, o: number) => b[o] | b[o + 1] << 8 | b[o + 2] << 16 | b[o + 3] << 24;
const u32Of = (b: Uint8Array, o: number) => i32Of(b, o) >>> 0;
const i64Of = (b: Uint8Array, o: number) => i32Of(b, o + 4) * TWO32 + u32Of(b, o);

/**
 * Whether the statx buffer `buf` holds what `st` says: parseStatx(buf) would make an object with `st`'s every value.
 * A file hashed is most often still the version the walk stat-ed, whose Stat then serves again (no second object,
 * inode text or view per file in a first scan).
 */
export function statEquals(buf: Uint8Array, st: Stat): boolean {
  const inoHi = u32Of(buf, 36);
  if (inoHi >= 0x200000 || Number(st.ino) !== inoHi * TWO32 + u32Of(buf, 32)) return false;
  const bs = i64Of(buf, 80), bn = u32Of(buf, 88);
  const hasBirth = (u32Of(buf, 0) & STATX_BTIME) !== 0 && (bs !== 0 || bn !== 0);
  return st.nlink === u32Of(buf, 16) && st.uid === u32Of(buf, 20) && st.gid === u32Of(buf, 24) &&
    st.mode === (buf[28] | buf[29] << 8) && st.size === u32Of(buf, 44) * TWO32 + u32Of(buf, 40) &&
    st.blocks === u32Of(buf, 52) * TWO32 + u32Of(buf, 48) &&
    (hasBirth ? st.btimeSec === bs && st.btimeNsec === bn : st.btimeSec === null && st.btimeNsec === 0) &&
    st.ctimeSec === i64Of(buf, 96) && st.ctimeNsec === u32Of(buf, 104) && st.mtimeSec === i64Of(buf, 112) &&
    st.mtimeNsec === u32Of(buf, 120) && st.dev === devText(u32Of(buf, 136), u32Of(buf, 140));
}

/** The last device's "major:minor": a walk stays on one device, and a string per stat was garbage. */
let lastDev = { major: -1, minor: -1, text: "" };
function devText(major: number, minor: number): string {
  if (major !== lastDev.major || minor !== lastDev.minor) {
    lastDev = { major, minor, text: `${major}:${minor}` };
  }
  return lastDev.text;
}

/** statx(2) of `name` relative to `dirfd`; `follow` follows a final symlink. Throws SysError. */
export function statAt(dirfd: number, name: Uint8Array<ArrayBuffer>, follow: boolean): Stat {
  const e = statInto(dirfd, name, follow, sx);
  if (e !== 0) throw new SysError("statx", e);
  return parseStatx(sx, sxView);
}

/** statx(2) as statAt() makes it, into `out` (256 bytes at least), unparsed: 0, or the errno of a failure. */
export function statInto(
  dirfd: number,
  name: Uint8Array<ArrayBuffer>,
  follow: boolean,
  out: Uint8Array<ArrayBuffer>,
): number {
  const flags = AT_NO_AUTOMOUNT | (follow ? 0 : AT_SYMLINK_NOFOLLOW);
  for (let attempt = 1; libc().statx(dirfd, name, flags, STATX_MASK, out) !== 0; attempt++) {
    const e = failure(attempt);
    if (e !== undefined) return e;
  }
  return 0;
}

/** statx(2) of an open fd, parsed where it was read (no copy of the buffer: lastStatRaw() makes one). */
export function fstat(fd: number): Stat {
  const e = fstatInto(fd, sx);
  if (e !== 0) throw new SysError("statx", e);
  return parseStatx(sx, sxView);
}

/** statx(2) of an open fd into `out` (256 bytes at least), unparsed: 0, or the errno of a failure. */
export function fstatInto(fd: number, out: Uint8Array<ArrayBuffer>): number {
  for (
    let attempt = 1;
    libc().statx(fd, EMPTY, AT_EMPTY_PATH | AT_NO_AUTOMOUNT, STATX_MASK, out) !== 0;
    attempt++
  ) {
    const e = failure(attempt);
    if (e !== undefined) return e;
  }
  return 0;
}

/** A copy of the raw buffer of this thread's last statAt() or fstat(), for passing between threads. */
export function lastStatRaw(): Uint8Array {
  return sx.slice();
}

const linkBuf = new Uint8Array(4097);

/** readlinkat(2): the target's bytes. Throws SysError. */
export function readLinkAt(dirfd: number, name: Uint8Array<ArrayBuffer>): Uint8Array {
  for (let attempt = 1;; attempt++) {
    const n = Number(libc().readlinkat(dirfd, name, linkBuf, BigInt(linkBuf.length)));
    if (n >= 0) return linkBuf.slice(0, n);
    const e = failure(attempt);
    if (e !== undefined) throw new SysError("readlinkat", e);
  }
}

/** pread(2) into `buf`; returns the byte count (0 at end of file). Throws SysError. */
export function pread(fd: number, buf: Uint8Array<ArrayBuffer>, offset: number): number {
  for (let attempt = 1;; attempt++) {
    const n = Number(libc().pread(fd, buf, BigInt(buf.length), BigInt(offset)));
    if (n >= 0) return n;
    const e = failure(attempt);
    if (e !== undefined) throw new SysError("pread", e);
  }
}

export const SEEK_DATA = 3;
export const SEEK_HOLE = 4;

/**
 * lseek(2) with SEEK_DATA or SEEK_HOLE: the offset of the next data (or hole) at or after `offset`; null when
 * there is no data after it (ENXIO). Throws SysError (EINVAL where the file system cannot say).
 */
export function seekRegion(
  fd: number,
  offset: number,
  whence: typeof SEEK_DATA | typeof SEEK_HOLE,
): number | null {
  for (let attempt = 1;; attempt++) {
    const r = Number(libc().lseek(fd, BigInt(offset), whence));
    if (r >= 0) return r;
    const e = failure(attempt, SEEK_USUAL);
    if (e === ENXIO) return null;
    if (e !== undefined) throw new SysError("lseek", e);
  }
}

const ENXIO = 6;
/** No data after the offset: how every sparse file's last region ends. */
const SEEK_USUAL = [ENXIO];
/** The attribute is not there, or the file system has none: what most files answer. */
const XATTR_USUAL = [61, 95];

/**
 * getxattr(2) of an open fd, or of a NUL-terminated path (`follow`: a final symlink's target), into `buf`
 * (`size`: its length as the call takes it). Returns the value's length, or -errno: no Error is made, as an
 * attribute a file does not have is the usual answer.
 */
export function getXattr(
  target: number | Uint8Array<ArrayBuffer>,
  name: Uint8Array<ArrayBuffer>,
  buf: Uint8Array<ArrayBuffer>,
  size: bigint,
  follow = false,
): number {
  const l = libc();
  for (let attempt = 1;; attempt++) {
    const n = Number(
      typeof target === "number"
        ? l.fgetxattr(target, name, buf, size)
        : (follow ? l.getxattr : l.lgetxattr)(target, name, buf, size),
    );
    if (n >= 0) return n;
    const e = failure(attempt, XATTR_USUAL);
    if (e !== undefined) return -e;
  }
}

export interface DirEntry {
  /** The name's bytes, NUL-terminated (ready for the *at() calls). */
  name: Uint8Array<ArrayBuffer>;
  /** d_type: DT_DIR, DT_LNK, DT_UNKNOWN, ... */
  type: number;
  /** Its statx (not following a symlink), when a read-ahead listing made it (listing_ring.ts). */
  stat?: Stat;
}

const dents = new Uint8Array(64 * 1024);
const dv = new DataView(dents.buffer);

/**
 * getdents64(2): the next entries of an open directory into `buf` (struct linux_dirent64 records); the bytes
 * written, 0 at the end. Throws SysError.
 */
export function getdents(fd: number, buf: Uint8Array<ArrayBuffer>): number {
  for (let attempt = 1;; attempt++) {
    const n = Number(libc().getdents64(fd, buf, BigInt(buf.length)));
    if (n >= 0) return n;
    const e = failure(attempt);
    if (e !== undefined) throw new SysError("getdents64", e);
  }
}

/** Every entry of an open directory except "." and "..", in directory order. Throws SysError. */
export function readDirFd(fd: number): DirEntry[] {
  const out: DirEntry[] = [];
  for (;;) {
    const n = getdents(fd, dents);
    if (n === 0) return out;
    // One copy per chunk; names are views into it (no buffer per name).
    const chunk = dents.slice(0, n);
    for (let off = 0; off < n;) {
      const reclen = dv.getUint16(off + 16, true);
      const type = dents[off + 18];
      const start = off + 19;
      let end = start;
      while (dents[end] !== 0) end++;
      const len = end - start;
      const dot = dents[start] === 46 && (len === 1 || (len === 2 && dents[start + 1] === 46));
      if (!dot) out.push({ name: chunk.subarray(start, end + 1), type });
      off += reclen;
    }
  }
}
