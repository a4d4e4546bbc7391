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
  let h1 = 0x811c9dc5, h2 = 0x01000193 ^ length;
  for (let i = 0; i < length; i++) {
    const c = codes[i];
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return (h1 >>> 0).toString(36) + "." + (h2 >>> 0).toString(36);
}
