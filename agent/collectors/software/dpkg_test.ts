import assert from "node:assert/strict";
import { dpkg, parseDeb822, parseDpkgStatus } from "./dpkg.ts";
import { liveHost } from "../../host/mod.ts";

function dpkgQuery(args: string[]): string | null {
  try {
    const out = new Deno.Command("dpkg-query", { args, stdout: "piped", stderr: "null" }).outputSync();
    return out.success ? new TextDecoder().decode(out.stdout) : null;
  } catch {
    return null;
  }
}
const HAVE_DPKG = dpkgQuery(["--version"]) !== null;
if (!HAVE_DPKG) {
  console.warn("dpkg_test.ts: SKIPPED the live-database test: `dpkg-query` absent (not a Debian host)");
}

Deno.test({
  name: "dpkg source lists exactly what `dpkg-query -W` lists (name, version, architecture)",
  ignore: !HAVE_DPKG,
  async fn() {
    const { items } = await dpkg.read(liveHost(), new AbortController().signal);
    const ours = items.map((i) => `${i.SoftwareName}\t${i.CurrentVersion}\t${i.Architecture}`).sort();
    const theirs = dpkgQuery(["-W", "-f", "${Package}\\t${Version}\\t${Architecture}\\n"])!.split("\n")
      .filter(Boolean).sort();
    assert.ok(theirs.length > 10, `dpkg-query listed only ${theirs.length} packages`);
    assert.deepEqual(ours, theirs);
    assert.ok(items.every((i) => i.SoftwareType === "Package" && i.Manager === "dpkg"));
  },
});

Deno.test("parseDpkgStatus() skips not-installed stanzas and keeps config-files ones", () => {
  const text = [
    "Package: gone\nStatus: purge ok not-installed\nArchitecture: amd64\n",
    "Package: leftover\nStatus: deinstall ok config-files\nVersion: 1.0-1\nArchitecture: amd64\n",
    "Package: libc6\nStatus: install ok installed\nMaintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>\n" +
    "Architecture: i386\nMulti-Arch: same\nVersion: 2.36-9+deb12u4\nInstalled-Size: 12000\n" +
    "Description: GNU C Library: Shared libraries\n Contains the standard libraries.\n",
  ].join("\n");
  const items = parseDpkgStatus(text);
  assert.deepEqual(items.map((i) => [i.SoftwareName, i.Status]), [["leftover", "config-files"], [
    "libc6",
    "installed",
  ]]);
  assert.equal(items[1].Architecture, "i386");
  assert.equal(items[1].Size, 12000, "Installed-Size as dpkg gives it, in KiB (issue 15)");
  assert.equal(items[1].SoftwareDescription, "GNU C Library: Shared libraries");
  assert.equal(items[1].Publisher, "GNU Libc Maintainers <debian-glibc@lists.debian.org>");
});

const fixture = Deno.readTextFileSync(new URL("../../../test/testdata/dpkg_status", import.meta.url));

Deno.test("parseDpkgStatus() reads name, version, architecture, publisher, synopsis and size in KiB", () => {
  const items = parseDpkgStatus(fixture);
  const libc = items.find((i) => i.SoftwareName === "libc6")!;
  assert.equal(libc.SoftwareType, "Package");
  assert.equal(libc.Manager, "dpkg");
  assert.match(libc.CurrentVersion, /^2\.\d+/);
  assert.equal(libc.Architecture, "amd64");
  assert.match(libc.Publisher, /GNU Libc Maintainers/);
  assert.equal(libc.SoftwareDescription, "GNU C Library: Shared libraries");
  const kib = /Package: libc6\n(?:.+\n)*?Installed-Size: (\d+)/.exec(fixture)![1];
  assert.equal(libc.Size, Number(kib));
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
