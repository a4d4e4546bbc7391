import assert from "node:assert/strict";
import { imageComputerName, parseEtcHostname } from "./computer_name.ts";
import { liveHost, shortHostname } from "./mod.ts";
import { named, SHARED_HIVES, sharedHive, skipReason } from "./registry/testdata/hives.ts";

Deno.test("shortHostname() keeps the name up to the first dot, as the real agent's Computer", () => {
  assert.equal(shortHostname("web01.contoso.com"), "web01");
  assert.equal(shortHostname("web01"), "web01");
  assert.equal(shortHostname(".odd"), ".odd");
  assert.equal(liveHost().hostname.includes("."), false);
});

Deno.test("parseEtcHostname() takes the first name, short", () => {
  assert.equal(parseEtcHostname("# set by cloud-init\n\n  db7.example.org \n"), "db7");
  assert.equal(parseEtcHostname("\n# nothing\n"), null);
});

Deno.test("imageComputerName() reads a Linux image's /etc/hostname, and is null for a tree without one", async () => {
  const root = await Deno.makeTempDir();
  try {
    const host = liveHost({ root, os: "linux" });
    assert.equal(await imageComputerName(host), null);
    await Deno.mkdir(`${root}/etc`);
    await Deno.writeTextFile(`${root}/etc/hostname`, "imaged.example.org\n");
    assert.equal(await imageComputerName(host), "imaged");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  name: named(
    "imageComputerName() reads ComputerName from a Windows image's SYSTEM hive",
    skipReason({ xz: true }),
  ),
  ignore: !!skipReason({ xz: true }),
  async fn() {
    const root = await Deno.makeTempDir();
    try {
      const host = liveHost({ root, os: "windows" });
      assert.equal(await imageComputerName(host), null, "no hive: the image does not say");
      await Deno.mkdir(`${root}/WINDOWS/system32/config`, { recursive: true });
      const config = `${root}/WINDOWS/system32/config/SYSTEM`;
      await Deno.copyFile(`${SHARED_HIVES}synthetic/SYSTEM.hive`, config);
      assert.equal(await imageComputerName(host), "FIXTURE-PC");
      // The real Windows 7 hive (PROVENANCE.md: ComputerName WKS-WIN732BITA, Select\Current 1).
      await Deno.copyFile(await sharedHive("SYSTEM_win7sp1_x86.xz"), config);
      assert.equal(await imageComputerName(host), "WKS-WIN732BITA");
      await Deno.writeFile(config, new Uint8Array(4096));
      await assert.rejects(imageComputerName(host));
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
