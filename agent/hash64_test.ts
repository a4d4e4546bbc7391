import assert from "node:assert/strict";
import { base36At, HALVES, hash64, hash64Codes, hash64Halves } from "./hash64.ts";

Deno.test("hash64Codes() and hash64Halves() hash as hash64() does", () => {
  for (const text of ["", "a", "259:1:15343641:457:1796429374.0:1796429374.695000001", "x".repeat(200)]) {
    const codes = new Uint8Array([...text].map((c) => c.charCodeAt(0)));
    assert.equal(hash64Codes(codes, codes.length), hash64(text));
    hash64Halves(codes, codes.length);
    assert.equal(`${HALVES[0].toString(36)}.${HALVES[1].toString(36)}`, hash64(text));
  }
});

Deno.test("base36At() finds a number where toString(36) would write it, and nothing else", () => {
  const edges = [0, 1, 9, 10, 35, 36, 1295, 1296, 46655, 46656, 2 ** 31, 2 ** 32 - 1];
  const random = Array.from({ length: 2000 }, () => Math.floor(Math.random() * 2 ** 32));
  for (const n of [...edges, ...random]) {
    const t = n.toString(36);
    assert.equal(base36At(`x${t}:`, 1, n), 1 + t.length, `${n} (${t})`);
    assert.equal(base36At(t, 0, n), t.length);
    // One digit short, one digit off, the number after it: not found.
    assert.equal(base36At(t.slice(0, -1), 0, n), -1);
    const off = t.slice(0, -1) +
      (t.endsWith("z") ? "0" : String.fromCharCode(t.charCodeAt(t.length - 1) + 1));
    assert.equal(base36At(off, 0, n), -1, `${n}: ${off}`);
    if (n > 0) assert.equal(base36At(t, 0, n - 1) === t.length, false);
  }
});
