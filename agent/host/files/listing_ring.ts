// The listings a walk's read-ahead thread makes (listing_worker.ts) on their way to the walk (walk_posix.ts): one
// record per directory (its entries with their statx), in a ring of shared memory that the thread writes and the
// walk reads, each side waiting for the other with Atomics. Plain bytes both ways: no message, no object crosses.
//
// A record, after its u32 length (which counts itself; WRAP instead: the rest of the ring is skipped):
//   u8 flags (MORE: the directory's entries go on in the next record; BROKEN: its listing failed, not to be used;
//     END: not a listing, the end of the directory's subtree, LINKS with it when a symlink is in the subtree;
//     DELEGATED: not a listing, a subtree the thread left to the walk)
//   the directory's own statx (STATX_READ bytes: its identity, dev and ino)
//   u32 path length, the path (UTF-8: the walk's path of the directory)
//   a listing: u32 entry count, u32 length of the names, the names (each: u16 length with its NUL, the name and
//   NUL), then per entry (ENTRY bytes): u8 d_type, i32 errno of its statx, its statx (STATX_READ bytes, unused
//   when the errno is not 0);
//   an END: the digest of the subtree (two u32), put after the subtree's last record when the thread read all of
//   it (SubtreeDigest), so the walk, looking ahead (ListingReader.scanEnds), can tell a subtree unchanged since
//   its last run before it reads it;
//   a DELEGATED: nothing more (its statx all zero): the thread left the directory and its subtree to the walk.
// The walk copies only the names out of the ring (they must outlive the listing); the rest it reads in place.
import { type DirEntry, parseStatx, S_IFLNK, S_IFMT, STATX_READ } from "./libc_posix.ts";

/**
 * The ring's control words (an Int32Array on its own SharedArrayBuffer): bytes in the ring, the thread's state,
 * the walk's "stop", and whether the thread began (it may hold fds from then on).
 */
export const USED = 0, STATE = 1, STOP = 2, STARTED = 3;
export const CONTROL_WORDS = 4;
/** STATE: the thread is reading ahead; it is done (or stopped); it failed. */
export const RUNNING = 0, DONE = 1, FAILED = 2;
/** The ring's size, and the most a record holds before the next one goes on with the directory. */
export const RING_BYTES = 1 << 20;
export const CHUNK_BYTES = 128 << 10;
const WRAP = 0xffffffff;
/**
 * Record flags: the directory goes on in the next record; its listing failed (the walk lists it itself); END; an
 * END's subtree holds a symlink (a walk that follows links reports more than its stats); DELEGATED.
 */
const MORE = 1, BROKEN = 2, END = 4, LINKS = 8, DELEGATED = 16;
/** An entry's fixed part: d_type, errno, statx. */
const ENTRY = 1 + 4 + STATX_READ;

/**
 * Whether a ring of `ringBytes` may hold a whole subtree of `items` entries at once: each takes ~200 bytes of it (its
 * fixed part, its name, its share of the records' headers). Only then can the walk see the subtree's END before it
 * reads the subtree (looking ahead for one it cannot, it would wait for the thread to fill the ring in vain), and
 * only such ones does the thread leave to the walk (tree_reader.ts).
 */
export const ringMayHold = (ringBytes: number, items: number): boolean => items * 200 <= ringBytes;
/** The largest name with its framing: 4096 bytes and the NUL (PATH_MAX; names are at most 255 on Linux). */
const NAME_MAX = 2 + 4097;
/** The longest directory path a record carries (paths have no limit: the walk goes by directory fds). */
export const PATH_BYTES = 60 << 10;
/** The largest header: length, flags, statx, the path, entry count and names' length. */
const HEAD_MAX = 5 + STATX_READ + 4 + PATH_BYTES + 8;
/** The largest record, and what the ring must have free for the thread never to wait for room (a WRAP's skip too). */
const RECORD_MAX = HEAD_MAX + CHUNK_BYTES + NAME_MAX + ENTRY;
const WRITER_ROOM = 2 * RECORD_MAX;

/**
 * The digest of a directory's subtree as the thread reads it (tree_reader.ts; a walk without a thread makes the same
 * itself: walk_posix.ts WalkDigest): two 32-bit lanes over the sum of its entries' own digests (EntrySum: each of
 * its name, d_type and statx, all but the access time, which reading moves; summed, so in any order) and their
 * count, then each subdirectory's digest, in the order read. Equal digests mean the same names with the same stat
 * (ctime included: any change of content, mode, owner or ACL moves it) below the directory.
 */
export class SubtreeDigest {
  h1 = 0x9e3779b9;
  h2 = 0x85ebca6b;
  /** Whether the subtree holds a symlink. */
  links = false;
  /** Back to its start (one reused for every entry). */
  reset(): void {
    this.h1 = 0x9e3779b9;
    this.h2 = 0x85ebca6b;
    this.links = false;
  }
  /** Mixes in `len` bytes of `src` from `start`. */
  bytes(src: Uint8Array, start: number, len: number): void {
    let a = this.h1, b = this.h2;
    for (let i = start, end = start + len; i < end; i++) {
      a = Math.imul(a ^ src[i], 0x01000193);
      b = Math.imul(b ^ src[i], 0x5bd1e995);
    }
    this.h1 = a;
    this.h2 = b;
  }
  /** Mixes in a 32-bit word. */
  word(w: number): void {
    let a = Math.imul(this.h1 ^ w, 0xcc9e2d51);
    a ^= a >>> 15;
    let b = Math.imul(this.h2 ^ w, 0x1b873593);
    b ^= b >>> 13;
    this.h1 = a;
    this.h2 = b;
  }
  /** Mixes in a statx (`words`: it as 32-bit words) but its access time and the fields before nlink. */
  statx(words: Int32Array): void {
    // Words 4-15: nlink, uid, gid, mode, ino, size, blocks, attributes_mask; 20-35: btime, ctime, mtime, rdev, dev.
    for (let i = 4; i < 16; i++) this.word(words[i]);
    for (let i = 20; i < 36; i++) this.word(words[i]);
  }
  /** Mixes in the entries of its directory. */
  entries(sum: EntrySum): void {
    this.word(sum.count);
    this.word(sum.s1);
    this.word(sum.s2);
    this.links ||= sum.links;
  }
  /** Mixes in another digest (a subdirectory's). */
  digest(d: SubtreeDigest): void {
    this.word(d.h1);
    this.word(d.h2);
    this.links ||= d.links;
  }
}

/** The entries of a directory, in any order: the sum of their own digests (entryDigest), lane by lane. */
export class EntrySum {
  s1 = 0;
  s2 = 0;
  count = 0;
  /** Whether one is a symlink. */
  links = false;
  add(e: SubtreeDigest): void {
    this.s1 = (this.s1 + e.h1) | 0;
    this.s2 = (this.s2 + e.h2) | 0;
    this.count++;
    this.links ||= e.links;
  }
}

/**
 * An entry's own digest, into `e` (reset first): its name (`len` bytes of `src` from `start`), d_type and, when its
 * statx was read (`words`, as 32-bit words; null: it failed), the statx; `e.links` says whether it is a symlink.
 */
export function entryDigest(
  e: SubtreeDigest,
  src: Uint8Array,
  start: number,
  len: number,
  type: number,
  words: Int32Array | null,
): SubtreeDigest {
  e.reset();
  e.bytes(src, start, len);
  e.word(type);
  if (words) {
    e.statx(words);
    // stx_mode: the low half of word 7.
    e.links = (words[7] & S_IFMT) === S_IFLNK;
  }
  return e;
}

/** A digest's text: 16 hex digits. */
export const digestText = (h1: number, h2: number): string =>
  (h1 >>> 0).toString(16).padStart(8, "0") + (h2 >>> 0).toString(16).padStart(8, "0");

/** The text of a subtree's digest `d` when it may be kept (`links`: a symlink in it is no matter), else undefined. */
export const keptDigest = (d: SubtreeDigest | null, links: boolean): string | undefined =>
  d && (links || !d.links) ? digestText(d.h1, d.h2) : undefined;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The read-ahead thread's side: builds a directory's records and puts them into the ring. */
export class ListingWriter {
  readonly #ctl: Int32Array;
  readonly #ring: Uint8Array;
  readonly #size: number;
  #w = 0;
  /** The record being made: header and names; its entries' fixed parts apart, joined when it is put. */
  readonly #rec = new Uint8Array(HEAD_MAX + CHUNK_BYTES + NAME_MAX + ENTRY);
  readonly #view = new DataView(this.#rec.buffer);
  readonly #fixed = new Uint8Array(CHUNK_BYTES + ENTRY);
  readonly #fixedView = new DataView(this.#fixed.buffer);
  #at = 0;
  #fixedAt = 0;
  #count = 0;
  #countAt = 0;
  /** The header of the directory being written, for the records that go on with it. */
  #head: Uint8Array | null = null;

  constructor(ctl: Int32Array, ring: Uint8Array) {
    this.#ctl = ctl;
    this.#ring = ring;
    this.#size = ring.length;
  }

  /** Whether the walk asked the thread to stop. */
  stopped(): boolean {
    return Atomics.load(this.#ctl, STOP) !== 0;
  }

  /**
   * Starts the records of the directory at `path` whose own statx is `self`; false for a path too long to carry
   * (PATH_BYTES: the walk lists that directory itself).
   */
  begin(path: string, self: Uint8Array): boolean {
    const p = encoder.encode(path);
    if (p.length > PATH_BYTES) return false;
    const head = new Uint8Array(STATX_READ + 4 + p.length);
    head.set(self.subarray(0, STATX_READ));
    new DataView(head.buffer).setUint32(STATX_READ, p.length, true);
    head.set(p, STATX_READ + 4);
    this.#head = head;
    this.#start();
    return true;
  }

  #start(): void {
    const head = this.#head!;
    // The length and the flags (set when put), the header, the entry count and the names' length (set when put).
    this.#at = 5;
    this.#rec.set(head, this.#at);
    this.#at += head.length;
    this.#countAt = this.#at;
    this.#at += 8;
    this.#fixedAt = 0;
    this.#count = 0;
  }

  /**
   * Adds an entry: its name (`len` bytes of `src` from `start`, its NUL included), d_type, and its statx (`stat`:
   * STATX_READ bytes) or the errno that failed it.
   */
  entry(src: Uint8Array, start: number, len: number, type: number, errno: number, stat: Uint8Array): boolean {
    if (len > NAME_MAX - 2) throw new Error(`a name of ${len} bytes`);
    const rec = this.#rec, at = this.#at + 2;
    this.#view.setUint16(this.#at, len, true);
    for (let i = 0; i < len; i++) rec[at + i] = src[start + i];
    this.#at = at + len;
    const f = this.#fixedAt;
    this.#fixed[f] = type;
    this.#fixedView.setInt32(f + 1, errno, true);
    if (errno === 0) this.#fixed.set(stat, f + 5);
    this.#fixedAt = f + ENTRY;
    this.#count++;
    if (this.#at - this.#countAt + this.#fixedAt < CHUNK_BYTES) return true;
    if (!this.#put(MORE)) return false;
    this.#start();
    return true;
  }

  /**
   * Puts the END record of the directory at `path` (its own statx `self`): its subtree, all read, has the digest
   * `d`. False: stopped meanwhile, or a path too long to carry.
   */
  subtreeEnd(path: string, self: Uint8Array, d: SubtreeDigest): boolean {
    const p = encoder.encode(path);
    if (p.length > PATH_BYTES) return false;
    const rec = this.#rec, v = this.#view;
    rec.set(self.subarray(0, STATX_READ), 5);
    let at = 5 + STATX_READ;
    v.setUint32(at, p.length, true);
    rec.set(p, at + 4);
    at += 4 + p.length;
    v.setUint32(at, d.h1 >>> 0, true);
    v.setUint32(at + 4, d.h2 >>> 0, true);
    return this.#write(at + 8, d.links ? END | LINKS : END);
  }

  /** Puts the DELEGATED record of the directory at `path`. False: stopped meanwhile, or a path too long to carry. */
  delegated(path: string): boolean {
    const p = encoder.encode(path);
    if (p.length > PATH_BYTES) return false;
    const rec = this.#rec;
    rec.fill(0, 5, 5 + STATX_READ);
    let at = 5 + STATX_READ;
    this.#view.setUint32(at, p.length, true);
    rec.set(p, at + 4);
    at += 4 + p.length;
    return this.#write(at, DELEGATED);
  }

  /**
   * Ends the directory: its last record goes into the ring (`broken`: marked so, its listing failed after records
   * of it went). False: stopped meanwhile.
   */
  end(broken = false): boolean {
    const ok = this.#put(broken ? BROKEN : 0);
    this.#head = null;
    return ok;
  }

  #put(flags: number): boolean {
    const v = this.#view;
    v.setUint32(this.#countAt, this.#count, true);
    v.setUint32(this.#countAt + 4, this.#at - this.#countAt - 8, true);
    this.#rec.set(this.#fixed.subarray(0, this.#fixedAt), this.#at);
    return this.#write(this.#at + this.#fixedAt, flags);
  }

  /** Puts the record made in #rec (`n` bytes, its length and flags set here) into the ring. */
  #write(n: number, flags: number): boolean {
    this.#view.setUint32(0, n, true);
    this.#rec[4] = flags;
    if (this.#w + n > this.#size) {
      // It does not fit before the end: the rest is skipped (marked when there is room for the mark).
      const skip = this.#size - this.#w;
      if (!this.#room(skip)) return false;
      if (skip >= 4) new DataView(this.#ring.buffer).setUint32(this.#w, WRAP, true);
      this.#w = 0;
      this.#publish(skip);
    }
    if (!this.#room(n)) return false;
    this.#ring.set(this.#rec.subarray(0, n), this.#w);
    this.#w = (this.#w + n) % this.#size;
    this.#publish(n);
    return true;
  }

  #publish(n: number): void {
    Atomics.add(this.#ctl, USED, n);
    Atomics.notify(this.#ctl, USED);
  }

  /** Waits until `n` bytes are free; false when the walk asked to stop meanwhile. */
  #room(n: number): boolean {
    for (;;) {
      if (this.stopped()) return false;
      const used = Atomics.load(this.#ctl, USED);
      if (this.#size - used >= n) return true;
      Atomics.wait(this.#ctl, USED, used, 100);
    }
  }
}

/** A directory's listing as read ahead: the walk's path of it, its identity, where its record is in the ring. */
export interface Listing {
  path: string;
  dev: string;
  ino: string;
  /** The directory goes on in the next record. */
  more: boolean;
  /** Its listing failed after records of it went: not to be used. */
  broken: boolean;
  /** Not a listing: the END of the directory's subtree. */
  end: boolean;
  /** Not a listing: the thread left the directory to the walk. */
  delegated: boolean;
  /** Where its entry count (an END: its digest) is in the ring. */
  entriesAt: number;
}

/** An END record looked at ahead of the walk (ListingReader.scanEnds): the directory's identity and digest. */
export interface SubtreeEnd {
  dev: string;
  ino: string;
  digest: string;
  /** The subtree holds a symlink. */
  links: boolean;
}

/**
 * The walk's side: looks at the records in the ring in the order they were put; each is read (entries()) or
 * passed, then given back to the thread (done()).
 */
export class ListingReader {
  readonly #ctl: Int32Array;
  readonly #ring: Uint8Array;
  readonly #view: DataView;
  readonly #size: number;
  #r = 0;
  /** The record looked at and not yet given back, and its length. */
  #open = 0;
  /** Bytes given back in all: where #r is in the stream of records. */
  #read = 0;
  /** How far scanEnds looked: where in the stream of records, and in the ring. */
  #scanned = 0;
  #scanAt = 0;
  /** The END records scanEnds saw and the walk has not read yet, by the directory's path. */
  readonly ends = new Map<string, SubtreeEnd>();
  /** Where the last record scanEnds looked through is: in the stream of records, and in the ring (-1: none). */
  #lastRead = 0;
  #lastAt = -1;

  constructor(ctl: Int32Array, ring: Uint8Array) {
    this.#ctl = ctl;
    this.#ring = ring;
    this.#view = new DataView(ring.buffer, ring.byteOffset, ring.byteLength);
    this.#size = ring.length;
  }

  /** The next record's header, if one is there now (call done() before asking for the one after). */
  next(): Listing | undefined {
    if (this.#open) throw new Error("listing_ring: the record before is not done");
    let used = Atomics.load(this.#ctl, USED);
    if (used === 0) return undefined;
    const size = this.#size;
    if (size - this.#r < 4 || this.#view.getUint32(this.#r, true) === WRAP) {
      const skip = size - this.#r;
      this.#r = 0;
      this.#free(skip);
      used -= skip;
      if (used === 0) return undefined;
    }
    const at = this.#r, v = this.#view;
    const n = v.getUint32(at, true);
    this.#open = n;
    const self = parseStatx(this.#ring, v, at + 5);
    const p = at + 5 + STATX_READ;
    const len = v.getUint32(p, true);
    return {
      path: decoder.decode(this.#ring.subarray(p + 4, p + 4 + len)),
      dev: self.dev,
      ino: self.ino,
      more: (this.#ring[at + 4] & MORE) !== 0,
      broken: (this.#ring[at + 4] & BROKEN) !== 0,
      end: (this.#ring[at + 4] & END) !== 0,
      delegated: (this.#ring[at + 4] & DELEGATED) !== 0,
      entriesAt: p + 4 + len,
    };
  }

  /**
   * Looks through the records put after the open one (none open: after those read) that it has not looked
   * through yet, and keeps their END records in `ends` (they stay in the ring, to be read in turn).
   */
  scanEnds(): void {
    const size = this.#size, v = this.#view;
    const start = this.#read + this.#open;
    if (this.#scanned < start) {
      this.#scanned = start;
      this.#scanAt = (this.#r + this.#open) % size;
    }
    const put = this.#read + Atomics.load(this.#ctl, USED);
    while (this.#scanned < put) {
      const at = this.#scanAt;
      if (size - at < 4 || v.getUint32(at, true) === WRAP) {
        this.#scanned += size - at;
        this.#scanAt = 0;
        continue;
      }
      const n = v.getUint32(at, true);
      this.#lastRead = this.#scanned;
      this.#lastAt = at;
      if (this.#ring[at + 4] & END) {
        const self = parseStatx(this.#ring, v, at + 5);
        const p = at + 5 + STATX_READ;
        const len = v.getUint32(p, true);
        const path = decoder.decode(this.#ring.subarray(p + 4, p + 4 + len));
        const d = p + 4 + len;
        this.ends.set(path, {
          dev: self.dev,
          ino: self.ino,
          digest: digestText(v.getUint32(d, true), v.getUint32(d + 4, true)),
          links: (this.#ring[at + 4] & LINKS) !== 0,
        });
      }
      this.#scanned += n;
      this.#scanAt = (at + n) % size;
    }
  }

  /** The path of the last record scanEnds looked through, while it is in the ring; else undefined. */
  lastPath(): string | undefined {
    if (this.#lastAt < 0 || this.#lastRead < this.#read) return undefined;
    const p = this.#lastAt + 5 + STATX_READ;
    return decoder.decode(this.#ring.subarray(p + 4, p + 4 + this.#view.getUint32(p, true)));
  }

  /** Whether the thread may have to wait for room: the walk, looking ahead, cannot wait for more to be put. */
  full(): boolean {
    return this.#size - Atomics.load(this.#ctl, USED) < WRITER_ROOM;
  }

  /** The entries of the record `l` (the one open), appended to `out`: names are copied out, stats parsed. */
  entries(l: Listing, out: DirEntry[]): DirEntry[] {
    const ring = this.#ring, v = this.#view;
    const count = v.getUint32(l.entriesAt, true);
    const namesAt = l.entriesAt + 8;
    const namesEnd = namesAt + v.getUint32(l.entriesAt + 4, true);
    const names = ring.slice(namesAt, namesEnd);
    let at = 0, f = namesEnd;
    for (let i = 0; i < count; i++, f += ENTRY) {
      const len = names[at] | (names[at + 1] << 8);
      const name = names.subarray(at + 2, at + 2 + len);
      at += 2 + len;
      const type = ring[f];
      out.push(
        v.getInt32(f + 1, true) === 0 ? { name, type, stat: parseStatx(ring, v, f + 5) } : { name, type },
      );
    }
    return out;
  }

  /** Gives the open record's space back to the thread. */
  done(): void {
    const n = this.#open;
    this.#open = 0;
    this.#r = (this.#r + n) % this.#size;
    this.#free(n);
  }

  #free(n: number): void {
    this.#read += n;
    Atomics.sub(this.#ctl, USED, n);
    Atomics.notify(this.#ctl, USED);
  }
}

/**
 * Where the walk is: the path of the last directory it listed itself (the thread had not read it yet), so the
 * thread goes past what the walk has done instead of reading it too. The walk writes it, the thread reads it; a
 * sequence number, odd while it is written, tells a read that met a write (a seqlock).
 */
export class Position {
  readonly #words: Int32Array;
  readonly #bytes: Uint8Array;
  #seen = -1;
  #last: string | undefined;

  /** Over `sab` (POSITION_BYTES), shared by the walk and the thread. */
  constructor(sab: SharedArrayBuffer) {
    this.#words = new Int32Array(sab, 0, 2);
    this.#bytes = new Uint8Array(sab, 8);
  }

  /** The walk is at `path` (one too long for the buffer is not told: the thread just goes past less). */
  write(path: string): void {
    const w = this.#words;
    const seq = Atomics.load(w, 0);
    Atomics.store(w, 0, seq + 1);
    const { read, written } = encoder.encodeInto(path, this.#bytes);
    Atomics.store(w, 1, read === path.length ? written : -1);
    Atomics.store(w, 0, seq + 2);
  }

  /** Where the walk was last told to be, if anywhere (a read that met a write gives the one before). */
  read(): string | undefined {
    const w = this.#words;
    const seq = Atomics.load(w, 0);
    if (seq === this.#seen || seq % 2 === 1) return this.#last;
    const n = Atomics.load(w, 1);
    const path = n < 0 ? undefined : decoder.decode(this.#bytes.slice(0, n));
    if (Atomics.load(w, 0) !== seq) return this.#last;
    this.#seen = seq;
    if (path !== undefined) this.#last = path;
    return this.#last;
  }
}

/** The size of a Position's shared memory. */
export const POSITION_BYTES = 8 + PATH_BYTES;
