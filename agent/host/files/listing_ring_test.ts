import assert from "node:assert/strict";
import {
  CHUNK_BYTES,
  CONTROL_WORDS,
  type Listing,
  ListingReader,
  ListingWriter,
  PATH_BYTES,
  STOP,
  SubtreeDigest,
  USED,
} from "./listing_ring.ts";
import { type DirEntry, parseStatx, STATX_READ } from "./libc_posix.ts";

/** A made-up statx: every byte from `seed`, with a real-looking mode, ino and dev. */
function statBytes(seed: number): Uint8Array {
  const b = new Uint8Array(STATX_READ).map((_, i) => (seed * 31 + i * 7) & 0xff);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0xfff, true);
  v.setUint16(28, 0o100644, true);
  v.setUint32(32, seed, true);
  v.setUint32(36, seed % 3, true);
  v.setUint32(136, 8, true);
  v.setUint32(140, seed % 5, true);
  return b;
}

/** A name of `len` bytes (any but NUL and "/"), NUL-terminated. */
function nameBytes(seed: number, len: number): Uint8Array {
  const b = new Uint8Array(len + 1);
  for (let i = 0; i < len; i++) {
    let c = (seed * 131 + i * 17 + 1) & 0xff;
    if (c === 0 || c === 0x2f) c = 0xff;
    b[i] = c;
  }
  return b;
}

interface Dir {
  path: string;
  self: Uint8Array;
  entries: { name: Uint8Array; type: number; errno: number; stat: Uint8Array }[];
}

function makeDir(seed: number, count: number, nameLen: (i: number) => number): Dir {
  return {
    path: `/t\u00e9st/${seed}/\\x\ufffd\u{1F600}/d`,
    self: statBytes(seed + 1000),
    entries: Array.from({ length: count }, (_, i) => ({
      name: nameBytes(seed + i, nameLen(i)),
      type: i % 13,
      errno: i % 7 === 3 ? 13 : 0,
      stat: statBytes(seed * 1000 + i),
    })),
  };
}

function write(w: ListingWriter, d: Dir, broken = false): boolean {
  assert.ok(w.begin(d.path, d.self));
  for (const e of d.entries) {
    // The name where it lies in a larger buffer, as the thread finds it in getdents' records.
    const src = new Uint8Array(e.name.length + 9);
    src.set(e.name, 5);
    if (!w.entry(src, 5, e.name.length, e.type, e.errno, e.stat)) return false;
  }
  return w.end(broken);
}

/** Reads one directory's records (following MORE), as read_ahead.ts does. */
function read(r: ListingReader): { head: Listing; entries: DirEntry[]; broken: boolean } | undefined {
  const head = r.next();
  if (!head) return undefined;
  const entries: DirEntry[] = [];
  let broken = false;
  for (let l: Listing | undefined = head; l;) {
    broken ||= l.broken;
    assert.equal(l.path, head.path, "a record that goes on with a directory carries its path");
    r.entries(l, entries);
    r.done();
    l = l.more ? r.next() : undefined;
  }
  return { head, entries, broken };
}

function check(got: ReturnType<typeof read>, d: Dir) {
  assert.ok(got);
  assert.equal(got.head.path, d.path);
  const self = parseStatx(d.self);
  assert.equal(got.head.dev, self.dev);
  assert.equal(got.head.ino, self.ino);
  assert.equal(got.entries.length, d.entries.length);
  d.entries.forEach((e, i) => {
    const g = got.entries[i];
    assert.deepEqual([...g.name], [...e.name], `entry ${i}'s name`);
    assert.equal(g.name[g.name.length - 1], 0, "NUL-terminated");
    assert.equal(g.type, e.type);
    if (e.errno) assert.equal(g.stat, undefined, "a failed statx gives no stat");
    else assert.deepEqual(g.stat, parseStatx(e.stat), `entry ${i}'s stat`);
  });
}

function ring(bytes: number) {
  const ctl = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
  const data = new Uint8Array(new SharedArrayBuffer(bytes));
  return { ctl, w: new ListingWriter(ctl, data), r: new ListingReader(ctl, data) };
}

Deno.test("listing ring: records go round a small ring whole, names and stats as written, in order", () => {
  // Just over one record's most: every few directories the writer goes back to the ring's start.
  const { ctl, w, r } = ring(CHUNK_BYTES + 40_000);
  let wraps = 0, last = -1;
  for (let seed = 0; seed < 200; seed++) {
    const d = makeDir(seed, (seed * 37) % 300, (i) => 1 + ((seed + i) % 255));
    assert.ok(write(w, d));
    const got = read(r);
    check(got, d);
    // Each record lies whole in the ring: one that did not fit before its end went to its start.
    if (got!.head.entriesAt < last) wraps++;
    last = got!.head.entriesAt;
    assert.equal(Atomics.load(ctl, USED), 0, "every byte read is given back");
  }
  assert.ok(wraps >= 10, `the ring was gone round ${wraps} times`);
});

Deno.test("listing ring: a directory larger than a record goes on in records marked MORE; BROKEN is told", () => {
  const { w, r } = ring(4 * CHUNK_BYTES);
  // 255-byte names: ~400 bytes an entry, several records for 1,000 of them.
  const big = makeDir(7, 1000, () => 255);
  assert.ok(write(w, big));
  const head = r.next()!;
  assert.ok(head.more, "the first record says the directory goes on");
  r.done();
  // Read again, whole, from a fresh ring.
  const again = ring(4 * CHUNK_BYTES);
  assert.ok(write(again.w, big));
  check(read(again.r), big);
  // A listing that failed after some of it went is marked in its last record.
  const b = ring(4 * CHUNK_BYTES);
  assert.ok(write(b.w, makeDir(9, 1000, () => 200), true));
  assert.equal(read(b.r)!.broken, true);
  const ok = ring(4 * CHUNK_BYTES);
  assert.ok(write(ok.w, makeDir(9, 10, () => 20)));
  assert.equal(read(ok.r)!.broken, false);
});

Deno.test("listing ring: a writer stops at a full ring once asked; a path too long is not carried", () => {
  const { ctl, w, r } = ring(CHUNK_BYTES + 20_000);
  const d = makeDir(3, 300, () => 100);
  assert.ok(write(w, d));
  // The ring holds that directory, not read yet: the next one waits for room, and gives up at STOP.
  Atomics.store(ctl, STOP, 1);
  assert.equal(write(w, makeDir(4, 300, () => 100)), false);
  check(read(r), d);
  assert.equal(w.begin("/" + "x".repeat(PATH_BYTES + 1), statBytes(1)), false);
  assert.equal(r.next(), undefined);
});

Deno.test("listing ring: END records are seen ahead of the walk (scanEnds) where they lie, round a small ring too", () => {
  const { w, r } = ring(CHUNK_BYTES + 40_000);
  const digest = (seed: number) => {
    const d = new SubtreeDigest();
    d.word(seed);
    d.links = seed % 2 === 1;
    return d;
  };
  for (let seed = 0; seed < 60; seed++) {
    const d = makeDir(seed, (seed * 37) % 300, (i) => 1 + ((seed + i) % 255));
    assert.ok(write(w, d));
    assert.ok(w.subtreeEnd(d.path + seed, d.self, digest(seed)));
    // Seen ahead before the listing is read, and read in turn after it.
    r.scanEnds();
    const end = r.ends.get(d.path + seed);
    const self = parseStatx(d.self);
    assert.deepEqual(end, {
      dev: self.dev,
      ino: self.ino,
      digest: (digest(seed).h1 >>> 0).toString(16).padStart(8, "0") +
        (digest(seed).h2 >>> 0).toString(16).padStart(8, "0"),
      links: seed % 2 === 1,
    });
    assert.equal(r.lastPath(), d.path + seed, "the last record looked through");
    check(read(r), d);
    const e = r.next()!;
    assert.deepEqual([e.end, e.path], [true, d.path + seed]);
    r.done();
    r.ends.delete(e.path);
  }
});

Deno.test("SubtreeDigest: every field but the access time, every name byte, each subdirectory's digest count", () => {
  const of = (words: Int32Array, name = "n", sub?: SubtreeDigest) => {
    const d = new SubtreeDigest();
    const bytes = new TextEncoder().encode(name);
    d.bytes(bytes, 0, bytes.length);
    d.statx(words);
    if (sub) d.digest(sub);
    return `${d.h1 >>> 0}:${d.h2 >>> 0}`;
  };
  const base = new Int32Array(new Uint8Array(statBytes(5)).buffer);
  const seen = new Set([of(base)]);
  // Words 4-15 (nlink to attributes_mask) and 20-35 (btime, ctime, mtime, rdev, dev); 16-19 are the access time.
  for (let i = 0; i < 36; i++) {
    const w = base.slice();
    w[i] ^= 1 << (i % 31);
    const d = of(w);
    if (i < 4 || (i >= 16 && i < 20)) assert.ok(seen.has(d), `word ${i} is not in the digest`);
    else {
      assert.ok(!seen.has(d), `word ${i} changes the digest`);
      seen.add(d);
    }
  }
  assert.notEqual(of(base, "m"), of(base, "n"));
  const sub = new SubtreeDigest();
  assert.notEqual(of(base, "n", sub), of(base));
});
