import assert from "node:assert/strict";
import { liveHost } from "../mod.ts";
import { memoryLogger } from "../../log.ts";
import { settingsSchema } from "../../config/dcr.ts";
import { softwareCollector } from "../../collectors/software/mod.ts";
import { windowsSoftware } from "../../collectors/software/windows.ts";
import { readWindowsServices } from "../../collectors/services/windows.ts";
import { offlineRegistryFromRoot } from "./offline.ts";
import { registryCollector } from "../../collectors/registry/mod.ts";
import { buildHive, named, SHARED_HIVES, skipReason } from "./testdata/hives.ts";

const SID = "S-1-5-21-7-8-9-1001";
const skip = skipReason({ hivex: true });

/** A Windows disk image as files: SOFTWARE (built, with a ProfileList), SYSTEM and a user's NTUSER.DAT. */
async function image(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "ctagent-image-" });
  const config = `${root}/Windows/System32/config`;
  await Deno.mkdir(config, { recursive: true });
  await Deno.mkdir(`${root}/Users/bperry`, { recursive: true });
  const soft = await buildHive(
    [
      "Windows Registry Editor Version 5.00",
      "",
      `[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList\\${SID}]`,
      '"ProfileImagePath"=hex(2):' +
      [..."%SystemDrive%\\Users\\bperry\0"].flatMap((
        c,
      ) => [c.charCodeAt(0).toString(16).padStart(2, "0"), "00"]).join(","),
      "",
      "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\ImageApp]",
      '"DisplayName"="Image App"',
      '"DisplayVersion"="7.0"',
      "",
    ].join("\n"),
    "HKEY_LOCAL_MACHINE\\SOFTWARE",
    "SOFTWARE",
  );
  await Deno.copyFile(soft.file, `${config}/SOFTWARE`);
  await Deno.copyFile(`${SHARED_HIVES}synthetic/SYSTEM.hive`, `${config}/SYSTEM`);
  await Deno.copyFile(`${SHARED_HIVES}NTUSER.DAT`, `${root}/Users/bperry/NTUSER.DAT`);
  return root;
}

Deno.test({
  name: named(
    "offlineRegistryFromRoot() mounts SOFTWARE, SYSTEM and each profile's NTUSER.DAT of an image",
    skip,
  ),
  ignore: !!skip,
  async fn() {
    const root = await image();
    try {
      const { reader, mounted } = await offlineRegistryFromRoot(root);
      assert.deepEqual(mounted, [
        "HKEY_LOCAL_MACHINE\\SOFTWARE",
        "HKEY_LOCAL_MACHINE\\SYSTEM",
        `HKEY_USERS\\${SID}`,
      ]);
      assert.deepEqual(reader.open("HKLM")!.subkeyNames().sort(), ["SOFTWARE", "SYSTEM"]);
      assert.deepEqual(reader.open("HKEY_USERS")!.subkeyNames(), [SID]);
      assert.ok(
        reader.open("HKLM\\SYSTEM\\CurrentControlSet\\Services\\Spooler"),
        "CurrentControlSet follows Select\\Current",
      );
      assert.equal(reader.open("HKLM\\SYSTEM\\CurrentControlSet\\Services\\Nope"), null);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: named(
    "the software, registry and services readers inventory an offline Windows image on any OS",
    skip,
  ),
  ignore: !!skip,
  async fn() {
    const root = await image();
    try {
      const host = liveHost({ root, os: "windows" });
      const ctx = { host, signal: new AbortController().signal, log: memoryLogger() };
      const settings = settingsSchema("windows").parse({
        registrySettings: {
          registryInfo: [{
            keyName: `HKEY_USERS\\${SID}\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall`,
            enabled: true,
          }],
        },
      });
      const sw = await softwareCollector([windowsSoftware]).collect(settings, ctx);
      assert.deepEqual(sw.items.map((i) => `${i.SoftwareName} ${i.CurrentVersion} ${i.Manager}`).sort(), [
        "Image App 7.0 windows",
        `Spotify 1.0.38.171.g5e1cd7b2 windows-user:${SID}`,
      ]);
      const reg = await registryCollector().collect(settings, ctx);
      assert.ok(reg.items.some((i) => i.ValueName === "DisplayName" && i.ValueData === "Spotify"));
      assert.equal(reg.items.every((i) => i.Hive === "HKEY_USERS"), true);
      const svcs = await readWindowsServices(host);
      assert.deepEqual(svcs.map((s) => s.SvcName).sort(), [
        "DisabledSvc",
        "NoImagePath",
        "Spooler",
        "wuauserv",
      ]);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
