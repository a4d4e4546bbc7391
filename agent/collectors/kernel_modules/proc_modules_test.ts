// parseProcModules() and parseTainted() against lines in the kernel's format.
import assert from "node:assert/strict";
import { parseProcModules, parseTainted } from "./proc_modules.ts";

Deno.test("parseProcModules() reads name, size, count, users, state and the module's own taint", () => {
  const text = "nvidia 61440000 2 - Live 0xffffffffc1000000 (POE)\n" +
    "snd_hda_codec 180224 2 snd_hda_codec_hdmi,snd_hda_intel, Live 0x0000000000000000\n" +
    "fresh 8192 - - Loading 0x0000000000000000\n";
  assert.deepEqual(parseProcModules(text), [
    { name: "nvidia", size: 61440000, refcount: 2, usedBy: [], state: "Live", taint: "POE" },
    {
      name: "snd_hda_codec",
      size: 180224,
      refcount: 2,
      usedBy: ["snd_hda_codec_hdmi", "snd_hda_intel"],
      state: "Live",
      taint: "",
    },
    { name: "fresh", size: 8192, refcount: 0, usedBy: [], state: "Loading", taint: "" },
  ]);
  assert.deepEqual(parseProcModules(""), [], "a kernel with no module loaded");
});

Deno.test("parseProcModules() throws on a line not in the kernel's shape, naming the line", () => {
  for (
    const bad of [
      "ext4 lots 1 - Live 0x0",
      "ext4 1003520 1 jbd2 Live 0x0",
      "ext4 1 1 - Live 0x0 OE",
      "ext4 1",
    ]
  ) {
    assert.throws(
      () => parseProcModules(`ok 1 0 - Live 0x0\n${bad}\n`),
      new RegExp(`Cannot parse /proc/modules line 2: .*${JSON.stringify(bad).replaceAll("(", "\\(")}`),
    );
  }
});

Deno.test("parseTainted() names each flag of the mask, and unknown bits by number", () => {
  assert.deepEqual(parseTainted("0\n"), { mask: 0, letters: "", meanings: [] });
  const t = parseTainted("12289\n"); // P, O, E
  assert.equal(t.letters, "POE");
  assert.deepEqual(t.meanings, [
    "proprietary module loaded",
    "externally-built (out-of-tree) module loaded",
    "unsigned module loaded",
  ]);
  assert.deepEqual(parseTainted(String(2 ** 9 + 2 ** 30)).letters, "W?");
  assert.deepEqual(parseTainted(String(2 ** 30)).meanings, ["bit 30"]);
  assert.throws(
    () => parseTainted("x"),
    /Cannot parse \/proc\/sys\/kernel\/tainted: expected a number, got "x"/,
  );
});
