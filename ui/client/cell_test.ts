import assert from "node:assert/strict";
import { cell, unescapePath } from "./cell.ts";
import software from "../../agent/collectors/software/spec.ts";

Deno.test("the software table reads dpkg's Size as KiB (Installed-Size) and every other manager's as bytes", () => {
  const size = software.columns.find((c) => c.field === "Size")!;
  assert.equal(cell(size, 2048, { Manager: "dpkg" }), "2.0 MiB");
  assert.equal(cell(size, 2048, { Manager: "rpm" }), "2.0 KiB");
  assert.equal(cell(size, 512, { Manager: "dpkg" }), "512 KiB");
  assert.equal(cell(size, null, { Manager: "dpkg" }), "");
});

Deno.test("unescapePath() shows a Linux name's backslash once and keeps \\xNN bytes written", () => {
  assert.equal(unescapePath("/etc/back\\\\slash.conf"), "/etc/back\\slash.conf");
  assert.equal(unescapePath("/srv/a\\xffb"), "/srv/a\\xffb");
  assert.equal(unescapePath("/plain"), "/plain");
});
