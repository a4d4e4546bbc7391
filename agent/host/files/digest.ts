// SHA-256 of a file as its chunks are read (by either hashing path), keeping its bytes when they fit `capture`.
import { createHash } from "node:crypto";

export function digest(capture: Uint8Array | null) {
  const h = createHash("sha256");
  let length = 0;
  let fits = capture !== null;
  return {
    /** Bytes read so far (where the next chunk starts). */
    get length(): number {
      return length;
    },
    update(chunk: Uint8Array): void {
      h.update(chunk);
      if (fits) {
        if (length + chunk.length > capture!.length) fits = false;
        else capture!.set(chunk, length);
      }
      length += chunk.length;
    },
    /** The checksum, the bytes read, and whether `capture` holds them all (the file was exactly its size). */
    done(): { checksum: string; length: number; captured: boolean } {
      return { checksum: h.digest("hex"), length, captured: fits && length === capture!.length };
    },
  };
}
