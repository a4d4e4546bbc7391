// JSON mirrors of the last run like the real agent's (File.json, Packages.json, ...), written atomically (SPEC §7.12).
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { CollectorSpec, Item, MirrorFile } from "../collectors/types.ts";
import { keyOrder } from "../key_order.ts";
import { COLLECTORS } from "../collectors/mod.ts";
import type { Platform } from "../platform.ts";
import { connectionOf, type Db } from "../../db/open.ts";
import { itemTextPages } from "../../db/items.ts";

/** The mirror files of `os` (each collector's spec names its own), by file name. */
export function mirrorsOf(
  os: Platform,
  specs: readonly Pick<CollectorSpec, "name" | "mirror">[] = COLLECTORS,
): (MirrorFile & { collector: string })[] {
  return specs.flatMap((s) => (s.mirror?.[os] ?? []).map((m) => ({ ...m, collector: s.name })))
    .sort((a, b) => a.file < b.file ? -1 : a.file > b.file ? 1 : 0);
}

/** The bytes an AtomicFile holds before it writes them (encoded as put, no string joined first). */
const HOLD_BYTES = 1 << 18;

/**
 * A file written through a temp file in the same directory, a piece at a time (`put`, so a big file is never one
 * string in memory), fsynced, then renamed over `path` (`commit`); `abort` leaves `path` as it was. What was
 * written can be read back (`read`) before then.
 */
export class AtomicFile {
  readonly #tmp: string;
  readonly #fd: number;
  readonly #encoder = new TextEncoder();
  readonly #held = new Uint8Array(HOLD_BYTES);
  #heldBytes = 0;
  #bytes = 0;
  #open = true;

  constructor(readonly path: string) {
    this.#tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
    this.#fd = openSync(this.#tmp, "w+", 0o644);
  }

  put(text: string): void {
    // Room for the worst case: a UTF-16 unit is at most 3 bytes of UTF-8.
    if (text.length * 3 > HOLD_BYTES - this.#heldBytes) {
      this.#flush();
      if (text.length * 3 > HOLD_BYTES) return this.#writeBytes(this.#encoder.encode(text));
    }
    this.#heldBytes += this.#encoder.encodeInto(text, this.#held.subarray(this.#heldBytes)).written;
  }

  /** Puts bytes after what was put, as put() does a text (a separator: no view into the buffer made for it). */
  putBytes(bytes: Uint8Array): void {
    if (bytes.length > HOLD_BYTES - this.#heldBytes) {
      this.#flush();
      if (bytes.length > HOLD_BYTES) return this.#writeBytes(bytes);
    }
    this.#held.set(bytes, this.#heldBytes);
    this.#heldBytes += bytes.length;
  }

  /** Writes bytes after what was put. */
  write(bytes: Uint8Array): void {
    this.#flush();
    this.#writeBytes(bytes);
  }

  /** The bytes written so far (what was put included). */
  get size(): number {
    this.#flush();
    return this.#bytes;
  }

  /** Fills `into` with the bytes written from byte `position`, and returns it. */
  read(position: number, into: Uint8Array): Uint8Array {
    this.#flush();
    for (let at = 0; at < into.length;) {
      const n = readSync(this.#fd, into, at, into.length - at, position + at);
      if (n === 0) throw new RangeError(`Cannot read ${this.#tmp} at ${position + at}: end of file`);
      at += n;
    }
    return into;
  }

  #flush(): void {
    if (this.#heldBytes === 0) return;
    const n = this.#heldBytes;
    this.#heldBytes = 0;
    this.#writeBytes(this.#held.subarray(0, n));
  }

  #writeBytes(bytes: Uint8Array): void {
    for (let at = 0; at < bytes.length;) {
      at += writeSync(this.#fd, bytes, at, bytes.length - at, this.#bytes + at);
    }
    this.#bytes += bytes.length;
  }

  commit(): void {
    try {
      this.#flush();
      fsyncSync(this.#fd);
    } catch (e) {
      this.abort();
      throw e;
    }
    this.#open = false;
    closeSync(this.#fd);
    try {
      renameSync(this.#tmp, this.path);
    } catch (e) {
      rmSync(this.#tmp, { force: true });
      throw new Error(`Cannot write mirror ${this.path}: ${(e as Error).message}`, { cause: e });
    }
  }

  abort(): void {
    if (!this.#open) return;
    this.#open = false;
    closeSync(this.#fd);
    rmSync(this.#tmp, { force: true });
  }
}

/**
 * Removes the temp files of `file` in `dir` that other processes left (killed while writing it): a draft lives as
 * long as a baseline, ~57 MB for /usr. Only the process that owns the data directory (agent/state_lock.ts)
 * writes its mirrors, so another process's temp file there is an orphan; this process's own are left alone.
 */
export function removeOrphans(dir: string, file: string): void {
  const mine = `${file}.tmp-${Deno.pid}-`;
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(`${file}.tmp-`) || name.startsWith(mine)) continue;
    try {
      rmSync(join(dir, name), { force: true });
    } catch {
      // Still open somewhere (Windows) or not ours to remove: it stays, and the draft goes on.
    }
  }
}

/** Writes a file atomically (AtomicFile): `fill` hands the text over a piece at a time. */
export async function writeFileAtomicStreamed(
  path: string,
  fill: (put: (text: string) => void) => Promise<void> | void,
): Promise<void> {
  const file = new AtomicFile(path);
  try {
    await fill((text) => file.put(text));
  } catch (e) {
    file.abort();
    throw e;
  }
  file.commit();
}

/** An item's stored JSON (an object) with an `error` field added. */
function withError(data: string, error: string): string {
  const field = `"error":${JSON.stringify(error)}}`;
  return data === "{}" ? `{${field}` : `${data.slice(0, -1)},${field}`;
}

/** A mirror's line of an item: its JSON as stored (no parse, no re-serialization), with its error if it has one. */
const mirrorLine = (data: string, error: string | null) => error ? withError(data, error) : data;

const OPEN_LINE = new TextEncoder().encode("[\n"), NEXT_LINE = new TextEncoder().encode(",\n");

/**
 * Puts an item's line into a mirror being written, after "[" (the first) or "," and a newline; the two apart, as a
 * string of both would be copied whole to be encoded.
 */
function putLine(file: AtomicFile, first: boolean, data: string, error: string | null): void {
  file.putBytes(first ? OPEN_LINE : NEXT_LINE);
  file.put(mirrorLine(data, error));
}

/** Items a MirrorDraft holds back for the ones that come late (~2 MB of lines); /usr's latest came 1,955 late. */
export const DRAFT_HOLD = 4096;

/** The characters of items that came after a greater key was written that a MirrorDraft keeps for its commit. */
export const DRAFT_LATE_CAP = 8 << 20;

type DraftItem = [key: string, json: string, error: string | null];

/**
 * A collector's mirrors written while its baseline stores its items (DirectSink), so the items need not be read
 * back from the table after the run (for 119k files that read alone took ~0.8 s: the table rebuilds each item's
 * JSON). Items come nearly in key order (the files walk reports a hashed file when its checksum is back, after
 * files walked later): the draft holds up to `hold` of them sorted and, when full, writes out the lowest eighth.
 * An item that comes after a greater one was written (more than 7/8 of `hold` places late, as on a busy machine)
 * is kept aside, up to `lateCap` characters of them; `commit` then rebuilds each mirror from its temp file with the
 * late items in their places. For that, each write-out (a chunk) records where it begins in each temp file and,
 * in a side temp file, the keys of its lines: re-reading the chunks a late item falls in costs far less than the
 * table's read-back, and nothing is kept in memory per item. `commit` once the run is stored: it says whether the
 * mirrors were put in place; when not (a key given twice, too much late), no temp file is left and the mirrors
 * are written from the table (writeMirrors).
 */
export class MirrorDraft {
  readonly #files: { file: AtomicFile; keep?: (item: Item) => boolean; first: boolean }[] = [];
  /** Per chunk, a JSON array: for each mirror file the keys of the lines it got, then the keys no file took. */
  #keys: AtomicFile | undefined;
  /** The chunks written out, in key order: the greatest key of each, where it begins in each file and in #keys. */
  readonly #chunks: { last: string; at: number[]; keysAt: number }[] = [];
  /** Items not yet written, in key order. */
  #held: DraftItem[] = [];
  /** Items that came after a greater key was written, as they came, and their size in characters. */
  #late: DraftItem[] = [];
  #lateSize = 0;
  /** The greatest key written out. */
  #written: string | null = null;
  #broken = false;

  private constructor(private readonly hold: number, private readonly lateCap: number) {}

  /** The drafts of `collector`'s mirrors on `os` in `dir`; undefined when it has none, or they cannot be begun. */
  static of(
    dir: string,
    os: Platform,
    collector: string,
    hold = DRAFT_HOLD,
    lateCap = DRAFT_LATE_CAP,
  ): MirrorDraft | undefined {
    const mirrors = mirrorsOf(os).filter((m) => m.collector === collector);
    if (!mirrors.length) return undefined;
    const draft = new MirrorDraft(hold, lateCap);
    try {
      mkdirSync(dir, { recursive: true });
      for (const m of mirrors) {
        removeOrphans(dir, m.file);
        draft.#files.push({ file: new AtomicFile(join(dir, m.file)), keep: m.keep, first: true });
      }
      // Never committed (only read back, then removed); a temp file of the first mirror's, so that a killed
      // process's one is an orphan the next draft removes (removeOrphans).
      draft.#keys = new AtomicFile(join(dir, mirrors[0].file));
    } catch {
      draft.abort();
      return undefined;
    }
    return draft;
  }

  /** An item as it was stored: its key, JSON and error as the table holds them. */
  add(key: string, json: string, error: string | null): void {
    if (this.#broken) return;
    if (this.#written !== null && keyOrder(key, this.#written) <= 0) {
      if (key === this.#written) return this.abort();
      this.#lateSize += key.length + json.length + (error?.length ?? 0);
      if (this.#lateSize > this.lateCap) return this.abort();
      this.#late.push([key, json, error]);
      return;
    }
    const held = this.#held;
    // Where it goes: after every held key not greater (a binary search; most items go last).
    let lo = 0, hi = held.length;
    if (hi > 0 && keyOrder(held[hi - 1][0], key) <= 0) lo = hi;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (keyOrder(held[mid][0], key) > 0) hi = mid;
      else lo = mid + 1;
    }
    const at = lo;
    if (at > 0 && held[at - 1][0] === key) return this.abort();
    held.splice(at, 0, [key, json, error]);
    if (held.length > this.hold) this.#writeOut(held.length - this.hold + (this.hold >> 3));
  }

  /** Writes out the lowest `n` items held, as one chunk. */
  #writeOut(n: number): void {
    const out = this.#held.splice(0, n);
    if (!out.length) return;
    try {
      const at = this.#files.map((f) => f.file.size);
      const keys: string[][] = [];
      const taken = new Uint8Array(out.length);
      for (const f of this.#files) {
        const got: string[] = [];
        for (let i = 0; i < out.length; i++) {
          const [key, json, error] = out[i];
          if (f.keep && !f.keep(JSON.parse(json) as Item)) continue;
          putLine(f.file, f.first, json, error);
          f.first = false;
          got.push(key);
          taken[i] = 1;
        }
        keys.push(got);
      }
      keys.push(out.filter((_, i) => !taken[i]).map(([key]) => key));
      const keysAt = this.#keys!.size;
      this.#keys!.put(JSON.stringify(keys));
      this.#written = out[out.length - 1][0];
      this.#chunks.push({ last: this.#written, at, keysAt });
    } catch {
      this.abort();
    }
  }

  /** Puts the mirrors in place; false when the draft was given up (no temp file of it is left then). */
  commit(): boolean {
    if (this.#broken) return false;
    this.#writeOut(this.#held.length);
    if (this.#broken) return false;
    try {
      if (this.#late.length && !this.#placeLate()) {
        this.abort();
        return false;
      }
      for (const f of this.#files) {
        f.file.put(f.first ? "[]\n" : "\n]\n");
        f.file.commit();
      }
      this.#keys?.abort();
      return true;
    } catch {
      this.abort();
      return false;
    }
  }

  /**
   * Rebuilds each mirror file with the late items in their places: the temp file's bytes are copied as they are,
   * with each late line put before the first line of a greater key in its chunk (found by the chunk's keys and
   * its newlines). False when a late key was given before (the mirrors are then the table's business).
   */
  #placeLate(): boolean {
    const late = this.#late.sort((a, b) => keyOrder(a[0], b[0]));
    this.#late = [];
    for (let i = 1; i < late.length; i++) if (late[i][0] === late[i - 1][0]) return false;
    // Each late item falls in the first chunk whose greatest key is not less than its own (there is one: a late
    // key is not greater than the greatest written); both are in key order, so one walk finds them all.
    const chunks = this.#chunks;
    const affected: { chunk: number; late: DraftItem[]; keys: string[][] }[] = [];
    let c = 0;
    for (const item of late) {
      while (keyOrder(chunks[c].last, item[0]) < 0) c++;
      if (affected.at(-1)?.chunk === c) affected.at(-1)!.late.push(item);
      else affected.push({ chunk: c, late: [item], keys: [] });
    }
    const keys = this.#keys!;
    const decoder = new TextDecoder();
    for (const a of affected) {
      const from = chunks[a.chunk].keysAt;
      const to = chunks[a.chunk + 1]?.keysAt ?? keys.size;
      a.keys = JSON.parse(decoder.decode(keys.read(from, new Uint8Array(to - from)))) as string[][];
      const written = new Set(a.keys.flat());
      if (a.late.some(([key]) => written.has(key))) return false;
    }
    const rebuilt: AtomicFile[] = [];
    let buf = new Uint8Array(1 << 20);
    try {
      for (const [fi, f] of this.#files.entries()) {
        const old = f.file;
        const next = new AtomicFile(old.path);
        rebuilt.push(next);
        const end = old.size;
        let pos = 0;
        let first = true;
        // The old file's bytes up to `to` (from `held` when it holds them), as they are but for its first line's
        // "[", a "," when a late line came before it.
        const copy = (to: number, held?: { at: number; bytes: Uint8Array }) => {
          if (pos < to && pos === 0 && !first) {
            next.put(",");
            pos = 1;
          }
          if (held && pos < to) {
            next.write(held.bytes.subarray(pos - held.at, to - held.at));
            pos = to;
          }
          while (pos < to) {
            const got = old.read(pos, buf.subarray(0, Math.min(buf.length, to - pos)));
            next.write(got);
            pos += got.length;
          }
          // Every line before `to` is out now.
          if (to > 0) first = false;
        };
        for (const a of affected) {
          const extra = a.late.filter(([, json]) => !f.keep || f.keep(JSON.parse(json) as Item));
          if (!extra.length) continue;
          const start = chunks[a.chunk].at[fi];
          const stop = chunks[a.chunk + 1]?.at[fi] ?? end;
          copy(start);
          if (buf.length < stop - start) buf = new Uint8Array(stop - start);
          const held = { at: start, bytes: old.read(start, buf.subarray(0, stop - start)) };
          // Where the chunk's lines begin: each is "[\n" or ",\n" and its JSON, which holds no newline byte.
          const lineAt: number[] = [];
          for (let nl = held.bytes.indexOf(10); nl !== -1; nl = held.bytes.indexOf(10, nl + 1)) {
            lineAt.push(start + nl - 1);
          }
          const lineKeys = a.keys[fi];
          if (lineAt.length !== lineKeys.length) {
            throw new RangeError(
              `Cannot place late items in ${old.path}: ${lineAt.length} lines, ${lineKeys.length} keys`,
            );
          }
          // Each late line goes before the first of the chunk's lines with a greater key; the bytes up to there
          // are copied as they are.
          let i = 0;
          for (const [key, json, error] of extra) {
            while (i < lineKeys.length && keyOrder(lineKeys[i], key) < 0) i++;
            copy(i < lineAt.length ? lineAt[i] : stop, held);
            putLine(next, first, json, error);
            first = false;
          }
          copy(stop, held);
        }
        copy(end);
        f.first = first;
      }
    } catch (e) {
      for (const r of rebuilt) r.abort();
      throw e;
    }
    for (const [fi, f] of this.#files.entries()) {
      f.file.abort();
      f.file = rebuilt[fi];
    }
    return true;
  }

  /** Gives the draft up: its temp files are removed, the mirrors are as they were. */
  abort(): void {
    this.#broken = true;
    this.#held = [];
    this.#late = [];
    for (const f of this.#files) f.file.abort();
    this.#keys?.abort();
  }
}

/**
 * Writes the mirrors of `os` from the items table into `dir`: a JSON array of items sorted by key, one per
 * line, each with its `error` when the last read of it failed. `only` limits it to the mirrors of those collectors (the ones
 * that just ran); the mirrors of `unchanged` collectors (whose run wrote no item) are written only when
 * missing. Items are read and written a page at a time: a mirror of any size costs a page of memory.
 * Returns the paths written.
 */
export async function writeMirrors(opts: {
  db: Db;
  dir: string;
  os: Platform;
  only?: readonly string[];
  unchanged?: readonly string[];
}): Promise<string[]> {
  mkdirSync(opts.dir, { recursive: true });
  const written: string[] = [];
  for (const m of mirrorsOf(opts.os).filter((m) => !opts.only || opts.only.includes(m.collector))) {
    const path = join(opts.dir, m.file);
    if (opts.unchanged?.includes(m.collector) && existsSync(path)) continue;
    await writeFileAtomicStreamed(path, (put) => {
      let first = true;
      for (const rows of itemTextPages(connectionOf(opts.db), m.collector)) {
        for (const r of rows) {
          if (m.keep && !m.keep(JSON.parse(r.data) as Item)) continue;
          put(`${first ? "[\n" : ",\n"}${mirrorLine(r.data, r.error)}`);
          first = false;
        }
      }
      put(first ? "[]\n" : "\n]\n");
    });
    written.push(path);
  }
  return written;
}
