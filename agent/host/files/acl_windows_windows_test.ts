// DACLs as SDDL on the running Windows machine (Windows Deno, natively or under Wine).
import assert from "node:assert/strict";
import { named, SKIP, writeDaclSddl } from "../../../test/windows/seed.ts";
import { readDaclSddl } from "./acl_windows.ts";

Deno.test({
  name: named("readDaclSddl() writes a file's DACL as SDDL, and a DACL written moves it"),
  ignore: !!SKIP,
  async fn() {
    const path = `${Deno.env.get("TEMP")}\\ctagent-acl-${crypto.randomUUID().slice(0, 8)}.txt`;
    await Deno.writeTextFile(path, "x");
    try {
      const before = readDaclSddl(path);
      console.log(`DACL of a new file: ${before}`);
      assert.match(before, /^D:/);
      assert.doesNotMatch(before, /^O:|G:/, "the DACL only, no owner or group");
      assert.match(readDaclSddl(path.replace(/[^\\]+$/, "")), /^D:/, "a directory has one too");
      assert.throws(
        () => readDaclSddl(path + ".missing"),
        /cannot read the security descriptor of .*\.missing: Win32 error 2/,
      );
      // Windows keeps this DACL as written; Wine keeps Unix mode bits and makes its DACL from them (Everyone
      // gets what the mode gives "other"), so only "it moved" holds on both.
      writeDaclSddl(path, "D:P(A;;FA;;;WD)(A;;FR;;;BU)");
      const after = readDaclSddl(path);
      console.log(`after writing D:P(A;;FA;;;WD)(A;;FR;;;BU): ${after}`);
      assert.notEqual(after, before);
      assert.match(after, /\(A;;(FA|0x1301ff);;;WD\)/);
    } finally {
      await Deno.remove(path);
    }
  },
});
