// JSON mirrors of the last run like the real agent's (File.json, Packages.json, ...), written atomically (SPEC §7.12).
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { CollectorSpec, Item, MirrorFile } from "../collectors/types.ts";
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
 * Writes a file through a temp file in the same directory, fsynced, then renamed over `path`. `fill` hands
 * the text over a piece at a time (`put`), so a big file is never one string in memory.
 */
export async function writeFileAtomicStreamed(
  path: string,
  fill: (put: (text: string) => void) => Promise<void> | void,
): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const fd = openSync(tmp, "w", 0o644);
  const encoder = new TextEncoder();
  let pending: string[] = [];
  let size = 0;
  const flush = () => {
    const bytes = encoder.encode(pending.join(""));
    pending = [];
    size = 0;
    let at = 0;
    while (at < bytes.length) at += writeSync(fd, bytes, at);
  };
  try {
    await fill((text) => {
      pending.push(text);
      size += text.length;
      if (size >= 1 << 20) flush();
    });
    flush();
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new Error(`Cannot write mirror ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** An item's stored JSON (an object) with an `error` field added. */
function withError(data: string, error: string): string {
  const field = `"error":${JSON.stringify(error)}}`;
  return data === "{}" ? `{${field}` : `${data.slice(0, -1)},${field}`;
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
          // One item per line, as stored (no parse, no re-serialization), with its error when it has one.
          put(`${first ? "[\n" : ",\n"}${r.error ? withError(r.data, r.error) : r.data}`);
          first = false;
        }
      }
      put(first ? "[]\n" : "\n]\n");
    });
    written.push(path);
  }
  return written;
}
