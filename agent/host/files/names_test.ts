import assert from "node:assert/strict";
import { bytesToPath, pathToBytes } from "./names.ts";

const enc = new TextEncoder();

Deno.test("bytesToPath() keeps valid UTF-8 names as they are, newlines included", () => {
  for (const s of ["/etc/adduser.conf", "/tmp/new\nline", "/tmp/ünïcödé ✓ 🙂", ""]) {
    assert.equal(bytesToPath(enc.encode(s)), s);
  }
});

Deno.test("bytesToPath() escapes invalid bytes as \\xNN and doubles backslashes", () => {
  assert.equal(bytesToPath(new Uint8Array([0x61, 0xff, 0x62])), "a\\xffb");
  assert.equal(bytesToPath(enc.encode("a\\b")), "a\\\\b");
  // A truncated multi-byte sequence, an overlong encoding and a UTF-16 surrogate are all invalid.
  assert.equal(bytesToPath(new Uint8Array([0xc3])), "\\xc3");
  assert.equal(bytesToPath(new Uint8Array([0xc0, 0xaf])), "\\xc0\\xaf");
  assert.equal(bytesToPath(new Uint8Array([0xed, 0xa0, 0x80])), "\\xed\\xa0\\x80");
  // Valid sequences around an invalid byte stay readable.
  assert.equal(bytesToPath(new Uint8Array([0xc3, 0xa9, 0xfe, 0x41])), "é\\xfeA");
});

Deno.test("pathToBytes(bytesToPath(b)) gives back b for any bytes", () => {
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const specials = [0x5c, 0x78, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x99, 0x82, 0xff, 0x0a, 0x2f];
  for (let i = 0; i < 3000; i++) {
    const len = Math.floor(rnd() * 40);
    const b = new Uint8Array(len);
    for (let j = 0; j < len; j++) {
      b[j] = rnd() < 0.5 ? specials[Math.floor(rnd() * specials.length)] : 1 + Math.floor(rnd() * 255);
    }
    const s = bytesToPath(b);
    assert.deepEqual(pathToBytes(s), b, `round trip of ${JSON.stringify(s)}`);
    // The representation is valid UTF-8 text (it can go on the wire as a msgpack str).
    assert.equal(new TextDecoder("utf-8", { fatal: true }).decode(enc.encode(s)), s);
  }
});
