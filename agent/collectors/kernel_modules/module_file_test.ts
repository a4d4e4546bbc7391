// Module files (ELF .modinfo, appended PKCS#7 signatures, gzip/zstd/xz) against modinfo(8) on the same files.
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { moduleFileFields } from "./linux.ts";
import {
  decompressModule,
  moduleNameOf,
  parseModulesDep,
  readModinfo,
  readSignature,
} from "./module_file.ts";

const DIR = new URL("./testdata/machine/lib/modules/6.1.0-ctagent/", import.meta.url).pathname;
const FILES = parseModulesDep(Deno.readTextFileSync(`${DIR}/modules.dep`));
const haveModinfo =
  new Deno.Command("sh", { args: ["-c", "command -v modinfo"], stdout: "null" }).outputSync()
    .success;
const SKIP = haveModinfo ? "" : " (SKIPPED: needs modinfo from kmod)";

/** modinfo -F FIELD of a file (this kmod reads zstd and xz but not gzip: a .gz is given to it unpacked). */
async function modinfo(path: string, field: string): Promise<string | null> {
  let file = path;
  if (path.endsWith(".gz")) {
    file = await Deno.makeTempFile({ suffix: ".ko" });
    await Deno.writeFile(file, gunzipSync(await Deno.readFile(path)));
  }
  const out = await new Deno.Command("modinfo", {
    args: ["-F", field, file],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (file !== path) await Deno.remove(file);
  assert.ok(out.success, `modinfo -F ${field} ${path}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout).replace(/\n$/, "") || null;
}

Deno.test("parseModulesDep() names each file as the kernel does (dashes become underscores)", () => {
  assert.deepEqual([...FILES.keys()], ["plainfs", "signed_net", "zcrypt", "gzmod", "xzmod", "vendor"]);
  assert.equal(FILES.get("signed_net"), "kernel/drivers/net/signed-net.ko");
  assert.equal(moduleNameOf("/lib/modules/x/kernel/a-b.ko.zst"), "a_b");
  assert.equal(moduleNameOf("kernel/a.o"), null);
});

Deno.test(
  "module files: version, srcversion, license, description, signer, sig_key and sig_hashalgo equal modinfo's" +
    SKIP,
  {
    ignore: !!SKIP,
  },
  async () => {
    for (const [name, rel] of FILES) {
      const path = `${DIR}/${rel}`;
      const ours = moduleFileFields(path, await Deno.readFile(path));
      if (rel.endsWith(".xz")) {
        // modinfo reads it (liblzma); ctagent has no xz decoder and says so rather than guess.
        assert.equal(await modinfo(path, "version"), "4");
        assert.deepEqual(ours, {
          FileNote: "xz-compressed: ctagent has no xz decoder, so its version and signature are not read",
        });
        continue;
      }
      const theirs = {
        Version: await modinfo(path, "version"),
        SrcVersion: await modinfo(path, "srcversion"),
        License: await modinfo(path, "license"),
        Description: await modinfo(path, "description"),
        Signed: (await modinfo(path, "sig_id")) !== null,
        Signer: await modinfo(path, "signer"),
        SigKey: await modinfo(path, "sig_key"),
        SigHashAlgo: await modinfo(path, "sig_hashalgo"),
        FileNote: null,
      };
      assert.deepEqual(ours, theirs, name);
    }
  },
);

Deno.test("module files: the fixture covers unsigned, signed (sha256, sha512), gzip, zstd and xz", async () => {
  const fields = async (name: string) =>
    moduleFileFields(FILES.get(name)!, await Deno.readFile(`${DIR}/${FILES.get(name)}`));
  assert.deepEqual([(await fields("plainfs")).Signed, (await fields("vendor")).Signed], [false, false]);
  assert.deepEqual(
    [
      (await fields("signed_net")).SigHashAlgo,
      (await fields("gzmod")).SigHashAlgo,
      (await fields("zcrypt")).Signer,
    ],
    ["sha256", "sha512", "ctagent fixture signing key"],
  );
});

Deno.test("module files: damage is said, never guessed", async () => {
  const signed = await Deno.readFile(`${DIR}/${FILES.get("signed_net")}`);
  // The signature length claims more than the file holds.
  const long = signed.slice();
  new DataView(long.buffer).setUint32(long.length - 28 - 4, 1 << 30, false);
  assert.deepEqual(readSignature(long), {
    signed: true,
    idType: "PKCS#7",
    signer: null,
    key: null,
    hashAlgo: null,
    error: `signature length ${1 << 30} is more than the file holds`,
  });
  // The PKCS#7 blob garbled.
  const garbled = signed.slice();
  garbled.fill(0xff, garbled.length - 28 - 12 - 300, garbled.length - 28 - 12 - 200);
  assert.match(readSignature(garbled).error ?? "", /^cannot read the PKCS#7 signature: /);
  assert.throws(
    () => readModinfo(new TextEncoder().encode("not an elf file at all, just some text here...".repeat(2))),
    /not an ELF file/,
  );
  assert.throws(
    () => readModinfo(signed.subarray(0, 200)),
    /Cannot read the module's \.modinfo: section headers out of the file/,
  );
  assert.deepEqual(
    moduleFileFields("x.ko.gz", new Uint8Array([1, 2, 3])).FileNote?.startsWith("cannot decompress: "),
    true,
  );
  assert.equal(decompressModule("x.ko.lz4", new Uint8Array()), "not a module file name: x.ko.lz4");
});
