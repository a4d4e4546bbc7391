// The live registry through advapi32 (Windows Deno, natively or under Wine): seeded with regedit, read back exactly.
import assert from "node:assert/strict";
import { everyTypeKey, named, regImport, SKIP } from "../../../test/windows/seed.ts";
import { liveRegistry } from "./live_windows.ts";
import { readRegistryInfo, registryKey } from "../../collectors/registry/mod.ts";
import { readWindowsSoftware, windowsSoftware } from "../../collectors/software/windows.ts";
import { liveHost } from "../mod.ts";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ROOT = "HKEY_LOCAL_MACHINE\\Software\\CtagentLiveTest";
const info = (keyName: string, recurse = true, valueName = "") => ({
  name: "t",
  groupTag: "Custom",
  enabled: true,
  recurse,
  description: "",
  keyName,
  valueName,
});

Deno.test({
  name: named("liveRegistry() reads a seeded key of every value type with exact data"),
  ignore: !!SKIP,
  async fn() {
    const { reg, expected } = everyTypeKey(`${ROOT}\\Types`);
    await regImport(`[-${ROOT}]\n\n${reg}\n`);
    const { items, warnings } = readRegistryInfo(liveRegistry(), [
      info(`HKLM\\Software\\CtagentLiveTest\\Types`, false),
    ]);
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      Object.fromEntries(items.map((i) => [i.ValueName, [i.ValueType, i.ValueData]])),
      expected,
    );
    for (const i of items) assert.match(i.KeyLastWritten!, /^20\d\d-/);
  },
});

Deno.test({
  name: named("liveRegistry() sees a changed value, an added subkey and a deleted value exactly"),
  ignore: !!SKIP,
  async fn() {
    await regImport(`[-${ROOT}]\n\n[${ROOT}\\Watch]\n"Keep"="same"\n"Change"=dword:00000001\n"Drop"="bye"\n`);
    const read = () => readRegistryInfo(liveRegistry(), [info(`${ROOT}\\Watch`)]).items;
    const before = new Map(read().map((i) => [registryKey(i), i]));
    await regImport(
      `[${ROOT}\\Watch]\n"Change"=dword:00000002\n"Drop"=-\n\n[${ROOT}\\Watch\\Sub]\n"New"="n"\n`,
    );
    const after = new Map(read().map((i) => [registryKey(i), i]));
    const added = [...after.keys()].filter((k) => !before.has(k));
    const removed = [...before.keys()].filter((k) => !after.has(k));
    const modified = [...after.keys()].filter((k) =>
      before.has(k) && before.get(k)!.ValueData !== after.get(k)!.ValueData
    );
    assert.deepEqual(added, [`${ROOT}\\Watch\\Sub\\\\New`]);
    assert.deepEqual(removed, [`${ROOT}\\Watch\\\\Drop`]);
    assert.deepEqual(modified, [`${ROOT}\\Watch\\\\Change`]);
    assert.equal(after.get(`${ROOT}\\Watch\\\\Change`)!.ValueData, "2");
  },
});

Deno.test({
  name: named("liveRegistry() opens the 32-bit view, and reports missing keys as null"),
  ignore: !!SKIP,
  async fn() {
    await regImport(`[HKEY_LOCAL_MACHINE\\Software\\Wow6432Node\\CtagentLive32]\n"x"="32-bit"\n`);
    const k = liveRegistry({ view: 32 }).open("HKLM\\Software\\CtagentLive32");
    assert.ok(k, "the 32-bit view redirects Software to Software\\Wow6432Node");
    assert.equal(k.values()[0].name, "x");
    k.close();
    assert.ok(liveRegistry().open("HKLM\\Software\\Wow6432Node\\CtagentLive32"));
    assert.equal(liveRegistry().open("HKLM\\Software\\CtagentNoSuchKey"), null);
    assert.deepEqual(
      readRegistryInfo(liveRegistry(), [info("HKLM\\Software\\CtagentNoSuchKey")]).warnings,
      ["registrySettings.registryInfo[0] (t): key HKEY_LOCAL_MACHINE\\Software\\CtagentNoSuchKey does not exist"],
    );
    await regImport(`[-HKEY_LOCAL_MACHINE\\Software\\Wow6432Node\\CtagentLive32]\n\n[-${ROOT}]`);
  },
});

Deno.test({
  name: named(
    "readWindowsSoftware() on the live registry lists seeded programs, 32-bit, per-user and updates",
  ),
  ignore: !!SKIP,
  async fn() {
    const un = "Microsoft\\Windows\\CurrentVersion\\Uninstall";
    await regImport([
      `[HKEY_LOCAL_MACHINE\\Software\\${un}\\CtagentLiveApp]`,
      '"DisplayName"="Ctagent Live App"',
      '"DisplayVersion"="2.5.1"',
      '"Publisher"="Ctagent Tests"',
      '"InstallDate"="20250102"',
      '"EstimatedSize"=dword:00000400',
      "",
      `[HKEY_LOCAL_MACHINE\\Software\\Wow6432Node\\${un}\\CtagentLive32]`,
      '"DisplayName"="Ctagent Live 32"',
      '"DisplayVersion"="3.2"',
      "",
      `[HKEY_CURRENT_USER\\Software\\${un}\\CtagentLiveUser]`,
      '"DisplayName"="Ctagent Live User App"',
      '"DisplayVersion"="0.9"',
      "",
      `[HKEY_LOCAL_MACHINE\\Software\\${un}\\KB4000001]`,
      '"DisplayName"="Security Update for Ctagent (KB4000001)"',
      "",
      `[HKEY_LOCAL_MACHINE\\Software\\${un}\\CtagentHidden]`,
      '"DisplayName"="Ctagent Hidden Component"',
      '"SystemComponent"=dword:00000001',
    ].join("\n"));
    try {
      const { items } = readWindowsSoftware(liveRegistry());
      const by = (n: string) => items.find((i) => i.SoftwareName === n);
      const app = by("Ctagent Live App")!;
      assert.deepEqual(
        [
          app.CurrentVersion,
          app.Publisher,
          app.InstalledAt,
          app.Size,
          app.SoftwareType,
          app.Architecture,
          app.Manager,
        ],
        ["2.5.1", "Ctagent Tests", "2025-01-02T00:00:00.000Z", 1024 * 1024, "Application", "x64", "windows"],
      );
      assert.equal(by("Ctagent Live 32")?.Architecture, "x86");
      assert.match(by("Ctagent Live User App")!.Manager, /^windows-user:S-1-5-21-/);
      assert.deepEqual([
        by("Security Update for Ctagent (KB4000001)")?.SoftwareType,
        by("Security Update for Ctagent (KB4000001)")?.KBId,
      ], ["Update", "KB4000001"]);
      assert.equal(by("Ctagent Hidden Component"), undefined);
    } finally {
      await regImport(
        ["CtagentLiveApp", "KB4000001", "CtagentHidden"].map((k) =>
          `[-HKEY_LOCAL_MACHINE\\Software\\${un}\\${k}]`
        )
          .concat(
            `[-HKEY_LOCAL_MACHINE\\Software\\Wow6432Node\\${un}\\CtagentLive32]`,
            `[-HKEY_CURRENT_USER\\Software\\${un}\\CtagentLiveUser]`,
          ).join("\n\n"),
      );
    }
  },
});

Deno.test({
  name: named("the 17 default registry entries, all enabled, read the live registry without an error"),
  ignore: !!SKIP,
  async fn() {
    const { settingsSchema } = await import("../../config/dcr.ts");
    const { defaultExtensionSettings } = await import("../../config/defaults.ts");
    const infos = settingsSchema("windows").parse(defaultExtensionSettings("windows")).registrySettings
      .registryInfo
      .map((i) => ({ ...i, enabled: true }));
    // Wine's registry has no KnownDlls: seed one value there, read back through CurrentControlSet.
    await regImport(
      '[HKEY_LOCAL_MACHINE\\System\\CurrentControlSet\\Control\\Session Manager\\KnownDlls]\n"ctagent"="ctagent.dll"\n',
    );
    const r = readRegistryInfo(liveRegistry(), infos);
    assert.deepEqual(r.unseen, []);
    for (const w of r.warnings) assert.match(w, /does not exist$/);
    const known = r.items.find((i) => i.ValueName === "ctagent");
    assert.equal(
      known?.RegistryKey,
      "HKEY_LOCAL_MACHINE\\System\\CurrentControlSet\\Control\\Session Manager\\KnownDlls",
    );
    assert.equal(known?.ValueData, "ctagent.dll");
    await regImport(
      '[HKEY_LOCAL_MACHINE\\System\\CurrentControlSet\\Control\\Session Manager\\KnownDlls]\n"ctagent"=-\n',
    );
    assert.ok(r.items.every((i) => i.RegistryKey.startsWith("HKEY_LOCAL_MACHINE\\")));
  },
});

const SHARED_NTUSER = fileURLToPath(new URL("../../../../shared/fixtures/hives/NTUSER.DAT", import.meta.url));
const noShared = SKIP || (existsSync(SHARED_NTUSER) ? "" : `skipped: ${SHARED_NTUSER} is absent`);
Deno.test({
  name: noShared
    ? `the Windows software source reads a profile whose user is not logged on (${noShared})`
    : "the Windows software source reads a profile whose user is not logged on",
  ignore: !!noShared,
  async fn() {
    const sid = "S-1-5-21-4242-4242-4242-1001";
    const dir = await Deno.makeTempDir({ prefix: "ctagent-profile-" });
    // Written, not copied: a copy keeps the fixture's read-only mode and could not be removed afterwards.
    await Deno.writeFile(`${dir}\\NTUSER.DAT`, await Deno.readFile(SHARED_NTUSER));
    const pl = "HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList";
    await regImport(`[${pl}\\${sid}]\n"ProfileImagePath"="${dir.replaceAll("\\", "\\\\")}"\n`);
    try {
      const { items } = await windowsSoftware.read(liveHost(), new AbortController().signal);
      const spotify = items.find((i) => i.SoftwareName === "Spotify");
      assert.equal(spotify?.Manager, `windows-user:${sid}`);
      assert.equal(spotify?.CurrentVersion, "1.0.38.171.g5e1cd7b2");
    } finally {
      await regImport(`[-${pl}\\${sid}]`);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
