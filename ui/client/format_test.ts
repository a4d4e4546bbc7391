import assert from "node:assert/strict";
import { bytes, softwareSize } from "./format.ts";

Deno.test("softwareSize() reads dpkg's Installed-Size as KiB and every other manager's size as bytes", () => {
  assert.equal(softwareSize(2048, { data: { Manager: "dpkg" } }), "2.0 MiB");
  assert.equal(softwareSize(2048, { data: { Manager: "rpm" } }), "2.0 KiB");
  assert.equal(softwareSize(512, { data: { Manager: "dpkg" } }), bytes(512 * 1024));
  assert.equal(softwareSize(null, { data: { Manager: "dpkg" } }), "");
});
