import assert from "node:assert/strict";
import { apk, parseApkInstalled } from "./apk.ts";
import { liveHost } from "../../host/mod.ts";

const FIXTURE = new URL("./testdata/apk_installed", import.meta.url);

Deno.test("parseApkInstalled() reads every package of an Alpine installed database", () => {
  const items = parseApkInstalled(Deno.readTextFileSync(FIXTURE));
  assert.deepEqual(items.map((i) => `${i.SoftwareName} ${i.CurrentVersion} ${i.Architecture}`), [
    "musl 1.2.4_git20230717-r4 x86_64",
    "busybox 1.36.1-r15 x86_64",
    "alpine-baselayout-data 3.4.3-r2 x86_64",
    "ca-certificates-bundle 20240226-r0 x86_64",
  ]);
  const musl = items[0];
  assert.equal(musl.Publisher, "Timo Teräs <timo.teras@iki.fi>");
  assert.equal(musl.SoftwareDescription, "the musl c library (libc) implementation");
  assert.equal(musl.Size, 667648);
  assert.equal(musl.SoftwareType, "Package");
  assert.equal(musl.Manager, "apk");
  assert.equal(musl.InstalledAt, null);
  assert.equal(items[3].Origin, "ca-certificates");
});

Deno.test("parseApkInstalled() reads a package with no description and a file without a final newline", () => {
  const items = parseApkInstalled("P:tiny\nV:1.0-r0\nA:noarch\nF:usr\nR:x\nZ:Q1abc=");
  assert.deepEqual(items.map((i) => [i.SoftwareName, i.SoftwareDescription, i.Size, i.Publisher]), [[
    "tiny",
    "",
    null,
    "",
  ]]);
});

Deno.test("apk source reads /lib/apk/db/installed under the host's root", async () => {
  const root = await Deno.makeTempDir();
  try {
    assert.equal(await apk.present(liveHost({ root })), false);
    await Deno.mkdir(`${root}/lib/apk/db`, { recursive: true });
    await Deno.copyFile(FIXTURE, `${root}/lib/apk/db/installed`);
    const host = liveHost({ root });
    assert.equal(await apk.present(host), true);
    assert.equal((await apk.read(host, new AbortController().signal)).items.length, 4);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
