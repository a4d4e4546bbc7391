import assert from "node:assert/strict";
import { parseDeb822, parseDpkgStatus } from "./dpkg.ts";

const fixture = Deno.readTextFileSync(new URL("../../../test/testdata/dpkg_status", import.meta.url));

Deno.test("parseDpkgStatus() reads name, version, architecture, publisher, synopsis and size in bytes", () => {
  const items = parseDpkgStatus(fixture);
  const libc = items.find((i) => i.SoftwareName === "libc6")!;
  assert.equal(libc.SoftwareType, "Package");
  assert.equal(libc.Manager, "dpkg");
  assert.match(libc.CurrentVersion, /^2\.\d+/);
  assert.equal(libc.Architecture, "amd64");
  assert.match(libc.Publisher, /GNU Libc Maintainers/);
  assert.equal(libc.SoftwareDescription, "GNU C Library: Shared libraries");
  assert.equal(libc.Size! % 1024, 0);
});

Deno.test("parseDpkgStatus() keeps config-files-only packages as dpkg-query -W does, drops purged ones", () => {
  const items = parseDpkgStatus(fixture);
  assert.deepEqual(items.map((i) => [i.SoftwareName, i.Status]), [
    ["adduser", "installed"],
    ["libc6", "installed"],
    ["zlib1g", "installed"],
    ["oldtool", "config-files"],
  ]);
});

Deno.test("parseDeb822() joins continuation lines and survives junk lines and CRLF-free trailing stanzas", () => {
  const s = parseDeb822("Package: a\nDescription: one\n two\n .\n three\nnot a field\n\n\nPackage: b");
  assert.deepEqual(s, [{ Package: "a", Description: "one\ntwo\n.\nthree" }, { Package: "b" }]);
});
