// SHA-256 of a file as its chunks are read (by either hashing path), keeping its bytes when they fit `capture`.
import { createHash } from "node:crypto";

/** One file's hash as its chunks come (a class: no closures made per file of a scan). */
export class Digest {
  readonly #h = createHash("sha256");
  readonly #capture: Uint8Array | null;
  #length = 0;
  #fits: boolean;

  constructor(capture: Uint8Array | null) {
    this.#capture = capture;
    this.#fits = capture !== null;
  }

  /** Bytes read so far (where the next chunk starts). */
  get length(): number {
    return this.#length;
  }

  update(chunk: Uint8Array): void {
    this.#h.update(chunk);
    if (this.#fits) {
      if (this.#length + chunk.length > this.#capture!.length) this.#fits = false;
      else this.#capture!.set(chunk, this.#length);
    }
    this.#length += chunk.length;
  }

  /** The checksum, the bytes read, and whether `capture` holds them all (the file was exactly its size). */
  done(): { checksum: string; length: number; captured: boolean } {
    return {
      checksum: this.#h.digest("hex"),
      length: this.#length,
      captured: this.#fits && this.#length === this.#capture!.length,
    };
  }
}
