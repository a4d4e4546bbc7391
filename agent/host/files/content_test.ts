import assert from "node:assert/strict";
import { textOf } from "./content.ts";

Deno.test("textOf() captures UTF-8 text and refuses NUL bytes or invalid UTF-8", () => {
  const enc = new TextEncoder();
  assert.equal(textOf(enc.encode("a=1\nb=ü\n")), "a=1\nb=ü\n");
  assert.equal(textOf(new Uint8Array()), "");
  assert.equal(textOf(new Uint8Array([0x61, 0, 0x62])), null);
  assert.equal(textOf(new Uint8Array([0x61, 0xff])), null);
});
