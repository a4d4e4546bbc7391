// File attributes on the running Windows machine (Windows Deno, natively or under Wine).
import assert from "node:assert/strict";
import { named, SKIP } from "../../../test/windows/seed.ts";
import { expandWindowsPath } from "../windows_path.ts";
import { formatFileAttributes, readFileAttributes } from "./attributes_windows.ts";

Deno.test({
  // Wine keeps no DOS attribute store on this file system: it reports dot files as Hidden, and attrib +h sets it on Windows.
  name: named("readFileAttributes() reads what attrib set, and %TEMP% expands from the environment"),
  ignore: !!SKIP,
  async fn() {
    const { path, unresolved } = expandWindowsPath("%Temp%\\.ctagent-attr.txt", Deno.env.toObject());
    assert.deepEqual(unresolved, []);
    await Deno.writeTextFile(path, "x");
    try {
      const r = await new Deno.Command("attrib", { args: ["+h", "+r", path] }).output();
      assert.equal(r.code, 0);
      const bits = readFileAttributes(path)!;
      assert.match(formatFileAttributes(bits), /^ReadOnly, Hidden\b/);
      assert.equal(
        formatFileAttributes(readFileAttributes(path.replace(/[^\\]+$/, ""))!).includes("Directory"),
        true,
      );
      assert.equal(readFileAttributes(path + ".missing"), null);
    } finally {
      await new Deno.Command("attrib", { args: ["-h", "-r", path] }).output();
      await Deno.remove(path);
    }
  },
});
