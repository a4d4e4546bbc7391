// JSON mirrors of the last run like the real agent's (File.json, Packages.json, ...), written atomically (SPEC §7.12).
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { CollectorSpec, Item, MirrorFile } from "../collectors/types.ts";
import { keyOrder } from "../key_order.ts";
import { COLLECTORS } from "../collectors/mod.ts";
import type { Platform } from "../platform.ts";
import type { Db } from "../../db/open.ts";
import { itemPages } from "../../db/items.ts";

/** The mirror files of `os` (each collector's spec names its own), by file name. */
export function mirrorsOf(
  os: Platform,
  specs: readonly Pick<CollectorSpec, "name" | "mirror">[] = COLLECTORS,
): (MirrorFile & { collector: string })[] {
  return specs.flatMap((s) => (s.mirror?.[os] ?? []).map((m) => ({ ...m, collector: s.name })))
    .sort((a, b) => a.file < b.file ? -1 : a.file > b.file ? 1 : 0);
}

/**
 * A file written through a temp file in the same directory, a piece at a time (`put`, so a big file is never one
 * string in memory), fsynced, then renamed over `path` (`commit`); `abort` leaves `path` as it was.
 */
export class AtomicFile {
  readonly #tmp: string;
  readonly #fd: number;
  readonly #encoder = new TextEncoder();
  #pending: string[] = [];
  #size = 0;
  #open = true;

  constructor(readonly path: string) {
    this.#tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
    this.#fd = openSync(this.#tmp, "w", 0o644);
  }

  put(text: string): void {
    this.#pending.push(text);
    this.#size += text.length;
    if (this.#size >= 1 << 18) this.#flush();
  }

  #flush(): void {
    const bytes = this.#encoder.encode(this.#pending.join(""));
    this.#pending = [];
    this.#size = 0;
    for (let at = 0; at < bytes.length;) at += writeSync(this.#fd, bytes, at);
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

/** Items a MirrorDraft holds back for the ones that come late (~2 MB of lines); /usr's latest came 1,955 late. */
export const DRAFT_HOLD = 4096;

/**
 * A collector's mirrors written while its baseline stores its items (DirectSink), so the items need not be read
 * back from the table after the run (for 119k files that read alone took ~0.8 s: the table rebuilds each item's
 * JSON). Items come nearly in key order (the files walk reports a hashed file when its checksum is back, after
 * files walked later): the draft holds up to `hold` of them sorted and, when full, writes out the lowest eighth, so
 * an item may come up to 7/8 of `hold` places late; one that comes after a greater one was written gives the draft
 * up. `commit` once the run is stored: it says whether the mirrors were put in place; when not, no temp file is
 * left and the mirrors are written from the table (writeMirrors).
 */
export class MirrorDraft {
  readonly #files: { file: AtomicFile; keep?: (item: Item) => boolean; first: boolean }[] = [];
  /** Items not yet written, in key order: [key, JSON as stored, error]. */
  #held: [string, string, string | null][] = [];
  /** The greatest key written out. */
  #written: string | null = null;
  #broken = false;

  private constructor(private readonly hold: number) {}

  /** The drafts of `collector`'s mirrors on `os` in `dir`; undefined when it has none, or they cannot be begun. */
  static of(dir: string, os: Platform, collector: string, hold = DRAFT_HOLD): MirrorDraft | undefined {
    const mirrors = mirrorsOf(os).filter((m) => m.collector === collector);
    if (!mirrors.length) return undefined;
    const draft = new MirrorDraft(hold);
    try {
      mkdirSync(dir, { recursive: true });
      for (const m of mirrors) {
        removeOrphans(dir, m.file);
        draft.#files.push({ file: new AtomicFile(join(dir, m.file)), keep: m.keep, first: true });
      }
    } catch {
      draft.abort();
      return undefined;
    }
    return draft;
  }

  /** An item as it was stored: its key, JSON and error as the table holds them. */
  add(key: string, json: string, error: string | null): void {
    if (this.#broken) return;
    if (this.#written !== null && keyOrder(key, this.#written) <= 0) return this.abort();
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

  /** Writes out the lowest `n` items held. */
  #writeOut(n: number): void {
    const out = this.#held.splice(0, n);
    if (!out.length) return;
    this.#written = out[out.length - 1][0];
    try {
      for (const f of this.#files) {
        for (const [, json, error] of out) {
          if (f.keep && !f.keep(JSON.parse(json) as Item)) continue;
          f.file.put(`${f.first ? "[\n" : ",\n"}${mirrorLine(json, error)}`);
          f.first = false;
        }
      }
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
      for (const f of this.#files) {
        f.file.put(f.first ? "[]\n" : "\n]\n");
        f.file.commit();
      }
      return true;
    } catch {
      this.abort();
      return false;
    }
  }

  /** Gives the draft up: its temp files are removed, the mirrors are as they were. */
  abort(): void {
    this.#broken = true;
    this.#held = [];
    for (const f of this.#files) f.file.abort();
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
    await writeFileAtomicStreamed(path, async (put) => {
      let first = true;
      for await (const rows of itemPages(opts.db, m.collector)) {
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
