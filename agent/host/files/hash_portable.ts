// Streams one file's SHA-256 through Deno.open + node:crypto with a reused buffer (the no-FFI path, e.g. Windows).
import { Digest } from "./digest.ts";
import { textOf } from "./content.ts";
import { notHashed } from "./limit.ts";
import type { OpenFile } from "./walk_portable.ts";

export interface PortableHash {
  checksum: string;
  /** The file's info after hashing, when it did not change while being read. */
  info: Deno.FileInfo;
  /** The content as text, when it was at most `capture` bytes and text. */
  text?: string;
}

const same = (a: Deno.FileInfo, b: Deno.FileInfo) =>
  a.size === b.size && a.mtime?.getTime() === b.mtime?.getTime();

/**
 * Hashes `path` (any size up to `opts.limit`: read a buffer at a time; past the limit, or once `opts.signal`
 * aborts, it throws). If the file changes while it is read (size or mtime
 * differ before and after), it is read again, up to 3 times; then the last read is kept.
 */
export async function hashPortable(
  path: string,
  capture: number,
  buf: Uint8Array<ArrayBuffer> = new Uint8Array(1 << 20),
  open: (path: string) => Promise<OpenFile> = (p) => Deno.open(p, { read: true }),
  opts: { limit?: number; signal?: AbortSignal } = {},
): Promise<PortableHash> {
  const limit = opts.limit ?? Infinity;
  let result: PortableHash | undefined;
  for (let attempt = 0; attempt < 3 && !result; attempt++) {
    const file = await open(path);
    try {
      const before = await file.stat();
      const keep = capture > 0 && before.size <= capture ? new Uint8Array(before.size) : null;
      const h = new Digest(keep);
      for (;;) {
        opts.signal?.throwIfAborted();
        if (h.length > limit) throw new RangeError(notHashed(h.length, limit));
        const n = await file.read(buf);
        if (n === null) break;
        h.update(buf.subarray(0, n));
      }
      const after = await file.stat();
      if (!same(before, after) && attempt < 2) continue;
      const r = h.done();
      result = {
        checksum: r.checksum,
        info: after,
        text: r.captured ? textOf(keep!) ?? undefined : undefined,
      };
    } finally {
      file.close();
    }
  }
  return result!;
}
