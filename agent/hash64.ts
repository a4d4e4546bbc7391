// A short non-cryptographic hash of text, for telling versions of one thing apart (never for security).

/** 64 bits of FNV-1a-style hashing of `text` in base 36: for comparing one thing's versions, not for security. */
export function hash64(text: string): string {
  let h1 = 0x811c9dc5, h2 = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return (h1 >>> 0).toString(36) + "." + (h2 >>> 0).toString(36);
}

/**
 * hash64 of the text whose char codes are `codes[0 … length)`: for text written into a buffer a number at a time
 * (a file's stat key, per file of a scan) rather than made as a string.
 */
export function hash64Codes(codes: Uint8Array, length: number): string {
  hash64Halves(codes, length);
  return HALVES[0].toString(36) + "." + HALVES[1].toString(36);
}

/** The two halves hash64Halves left (unsigned 32-bit). */
export const HALVES = new Uint32Array(2);

/** hash64Codes' two numbers, left in HALVES: for comparing a hash with one written out, without writing it. */
export function hash64Halves(codes: Uint8Array, length: number): void {
  let h1 = 0x811c9dc5, h2 = 0x01000193 ^ length;
  for (let i = 0; i < length; i++) {
    const c = codes[i];
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  HALVES[0] = h1;
  HALVES[1] = h2;
}

/**
 * Where `n` (an unsigned 32-bit number) written in base 36 as toString(36) writes it ends in `s` when `s` holds
 * it at `at`; -1 when it does not.
 */
export function base36At(s: string, at: number, n: number): number {
  let len = 1;
  for (let m = n; m >= 36; m = Math.floor(m / 36)) len++;
  if (at + len > s.length) return -1;
  for (let i = at + len - 1; i >= at; i--) {
    const d = n % 36;
    if (s.charCodeAt(i) !== (d < 10 ? 48 + d : 87 + d)) return -1;
    n = Math.floor(n / 36);
  }
  return at + len;
}
