import assert from "node:assert/strict";
import { formatFileAttributes } from "./attributes_windows.ts";

Deno.test("formatFileAttributes() names the bits in a stable order, unknown bits in hex", () => {
  assert.equal(formatFileAttributes(0x23), "ReadOnly, Hidden, Archive");
  assert.equal(formatFileAttributes(0x10), "Directory");
  assert.equal(formatFileAttributes(0x80), "Normal");
  assert.equal(formatFileAttributes(0x400 | 0x20), "Archive, ReparsePoint");
  assert.equal(formatFileAttributes(0x10000000 | 0x4), "System, 0x10000000");
  assert.equal(formatFileAttributes(0), "");
});
