// File names as bytes ↔ FileSystemPath strings: reversible for any byte sequence, plain for plain names.
//
// Linux names are bytes, record fields are UTF-8 strings. A name that is valid UTF-8 without a backslash
// is shown as is (newlines included: JSON escapes them). Otherwise each byte that is not part of a valid
// UTF-8 sequence is written `\xNN` (two lower-case hex digits) and a backslash is written `\\`, so
// `pathToBytes(bytesToPath(b))` gives back `b` exactly. Backslashes are rare in Linux names; doubling them
// is the price of an unambiguous, reversible, valid-UTF-8 representation.

const strict = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** Length of the valid UTF-8 sequence starting at `i`, or 0 when the byte there does not start one. */
function utf8Len(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c < 0x80) return 1;
  const cont = (j: number) => j < b.length && (b[j] & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf) return cont(i + 1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    const c1 = b[i + 1];
    if (c === 0xe0 && c1 < 0xa0) return 0; // overlong
    if (c === 0xed && c1 >= 0xa0) return 0; // surrogate
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    const c1 = b[i + 1];
    if (c === 0xf0 && c1 < 0x90) return 0; // overlong
    if (c === 0xf4 && c1 >= 0x90) return 0; // above U+10FFFF
    return 4;
  }
  return 0;
}

/** Bytes of a name or path (no NUL) → the string shown in FileSystemPath. */
export function bytesToPath(b: Uint8Array): string {
  let plain = true;
  for (let i = 0; i < b.length; i++) {
    if (b[i] >= 0x80 || b[i] === 0x5c) {
      plain = false;
      break;
    }
  }
  if (plain) return String.fromCharCode.apply(null, b as unknown as number[]);
  if (!b.includes(0x5c)) {
    try {
      return strict.decode(b);
    } catch { /* not valid UTF-8: escape below */ }
  }
  let out = "";
  for (let i = 0; i < b.length;) {
    if (b[i] === 0x5c) {
      out += "\\\\";
      i++;
      continue;
    }
    const n = utf8Len(b, i);
    if (n === 0) {
      out += `\\x${b[i].toString(16).padStart(2, "0")}`;
      i++;
    } else {
      out += strict.decode(b.subarray(i, i + n));
      i += n;
    }
  }
  return out;
}

/** The inverse of bytesToPath. A backslash not followed by `\` or `xNN` is kept literally. */
export function pathToBytes(s: string): Uint8Array {
  if (!s.includes("\\")) return encoder.encode(s);
  const parts: number[] = [];
  for (let i = 0; i < s.length;) {
    if (s[i] === "\\") {
      if (s[i + 1] === "\\") {
        parts.push(0x5c);
        i += 2;
        continue;
      }
      const hex = s.slice(i + 2, i + 4);
      if (s[i + 1] === "x" && /^[0-9a-f]{2}$/.test(hex)) {
        parts.push(parseInt(hex, 16));
        i += 4;
        continue;
      }
    }
    const cp = s.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    parts.push(...encoder.encode(ch));
    i += ch.length;
  }
  return new Uint8Array(parts);
}
