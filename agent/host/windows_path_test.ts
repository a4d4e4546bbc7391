import assert from "node:assert/strict";
import { expandWindowsPath } from "./windows_path.ts";

Deno.test("expandWindowsPath() expands %VAR% case-insensitively and keeps unknown ones as written", () => {
  const env = { windir: "C:\\Windows", ProgramData: "C:\\ProgramData" };
  assert.deepEqual(expandWindowsPath("%winDir%\\System32\\*.*", env), {
    path: "C:\\Windows\\System32\\*.*",
    unresolved: [],
  });
  assert.deepEqual(expandWindowsPath("%NOPE%\\x\\%programdata%", env), {
    path: "%NOPE%\\x\\C:\\ProgramData",
    unresolved: ["NOPE"],
  });
  assert.deepEqual(expandWindowsPath("100%\\50%%", env), { path: "100%\\50%%", unresolved: [] });
});
