import assert from "node:assert/strict";
import { expandWindowsPath, splitWindowsPattern } from "./windows_path.ts";

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

Deno.test("splitWindowsPattern() takes the pattern from the last segment only", () => {
  assert.deepEqual(splitWindowsPattern("c:\\temp\\*.txt"), { dir: "c:\\temp", pattern: "*.txt" });
  assert.deepEqual(splitWindowsPattern("D:\\testing\\*"), { dir: "D:\\testing", pattern: "*" });
  assert.deepEqual(splitWindowsPattern("C:\\*.log"), { dir: "C:\\", pattern: "*.log" });
  assert.deepEqual(splitWindowsPattern("E:\\test1"), { dir: "E:\\test1", pattern: null });
});
