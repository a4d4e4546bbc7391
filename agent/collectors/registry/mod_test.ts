import assert from "node:assert/strict";
import { settingsSchema } from "../../config/dcr.ts";
import { liveHost } from "../../host/mod.ts";
import { memoryLogger } from "../../log.ts";
import { openHive } from "../../host/registry/hive.ts";
import { offlineRegistry, systemMount } from "../../host/registry/offline.ts";
import { defaultExtensionSettings } from "../../config/defaults.ts";
import { readRegistryInfo, registryCollector, type RegistryItem, registryKey } from "./mod.ts";
import { dataTypeOf, scheduleOf } from "../spec.ts";
import { fakeHost, memoryRegistry } from "../../../test/fake_host.ts";
import {
  buildHive,
  freeValueList,
  hivexExport,
  named,
  SHARED_HIVES,
  sharedHive,
  skipReason,
} from "../../host/registry/testdata/hives.ts";

const skip = skipReason();
const UNINSTALL = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall";

async function syntheticSoftware() {
  const bytes = await Deno.readFile(`${SHARED_HIVES}synthetic/SOFTWARE.hive`);
  return {
    bytes,
    reader: offlineRegistry([{ path: "HKLM\\SOFTWARE", hive: openHive(bytes, "SOFTWARE.hive") }]),
  };
}

const info = (keyName: string, more: Record<string, unknown> = {}) => ({
  name: "t",
  groupTag: "Custom",
  enabled: true,
  recurse: false,
  description: "",
  keyName,
  valueName: "",
  ...more,
});

Deno.test({
  name: named("readRegistryInfo() lists every value of a key with its exact type and data", skip),
  ignore: !!skip,
  async fn() {
    const { reader } = await syntheticSoftware();
    const { items, warnings, unseen } = readRegistryInfo(reader, [info("HKLM\\SOFTWARE\\FixtureValueTypes")]);
    assert.deepEqual(warnings, []);
    assert.deepEqual(unseen, []);
    const got = Object.fromEntries(items.map((i) => [i.ValueName, [i.ValueType, i.ValueData]]));
    assert.deepEqual(got, {
      "": ["REG_SZ", "default value (REG_SZ)"],
      Sz: ["REG_SZ", "hello world"],
      ExpandSz: ["REG_EXPAND_SZ", "%SystemRoot%\\x"],
      MultiSz: ["REG_MULTI_SZ", "one\ntwo"],
      Dword: ["REG_DWORD", String(0x12345678)],
      Qword: ["REG_QWORD", String(0x0123456789abcdefn)],
      Binary: ["REG_BINARY", "deadbeef0001"],
      None: ["REG_NONE", ""],
      NoneWithData: ["REG_NONE", "010203"],
      DwordBigEndian: ["REG_DWORD_BIG_ENDIAN", String(0x12345678)],
    });
    for (const i of items) {
      assert.equal(i.Hive, "HKEY_LOCAL_MACHINE");
      assert.equal(i.RegistryKey, "HKEY_LOCAL_MACHINE\\SOFTWARE\\FixtureValueTypes");
      assert.match(i.KeyLastWritten!, /^\d{4}-\d\d-\d\dT/);
    }
  },
});

Deno.test({
  name: named("readRegistryInfo() honours recurse, valueName and enabled, and reports missing keys", skip),
  ignore: !!skip,
  async fn() {
    const { reader } = await syntheticSoftware();
    const flat = readRegistryInfo(reader, [info(UNINSTALL)]);
    assert.equal(flat.items.length, 0, "Uninstall itself holds no values");
    const deep = readRegistryInfo(reader, [info(UNINSTALL, { recurse: true })]);
    assert.equal(deep.items.length, 8 + 5 + 1);
    assert.ok(
      deep.items.some((i) =>
        i.RegistryKey === `${UNINSTALL}\\7-Zip` && i.ValueName === "EstimatedSize" && i.ValueData === "5674"
      ),
    );
    const named_ = readRegistryInfo(reader, [info(UNINSTALL, { recurse: true, valueName: "displayname" })]);
    assert.deepEqual(named_.items.map((i) => i.ValueData).sort(), [
      "7-Zip 23.01 (x64)",
      "Office 16 Click-to-Run Extensibility Component",
    ]);
    const overlap = readRegistryInfo(reader, [
      info(UNINSTALL.toLowerCase().replace("hkey_local_machine", "HKLM"), { recurse: true }),
      info(`${UNINSTALL}\\7-ZIP`.toUpperCase()),
    ]);
    assert.equal(overlap.items.length, 14, "overlapping entries in another case give the same items once");
    assert.ok(
      overlap.items.every((i) => i.RegistryKey.startsWith(UNINSTALL)),
      "keys spelled as the hive spells them",
    );
    const off = readRegistryInfo(reader, [info(UNINSTALL, { recurse: true, enabled: false })]);
    assert.equal(off.items.length, 0);
    const missing = readRegistryInfo(reader, [
      info("HKEY_LOCAL_MACHINE\\SOFTWARE\\Nope", { name: "Registry_9" }),
      info("HKXX\\SOFTWARE"),
      info("HKLM\\SOFTWARE\\FixtureValueTypes", { valueName: "Absent" }),
    ]);
    assert.equal(missing.items.length, 0);
    assert.deepEqual(missing.unseen, []);
    assert.equal(missing.warnings.length, 3);
    assert.match(
      missing.warnings[0],
      /registryInfo\[0\] \(Registry_9\): key HKEY_LOCAL_MACHINE\\SOFTWARE\\Nope does not exist/,
    );
    assert.match(missing.warnings[1], /registryInfo\[1\].*unknown hive "HKXX"/);
    assert.match(missing.warnings[2], /value "Absent" not found/);
  },
});

Deno.test({
  name: named(
    "readRegistryInfo() keeps the items under an unreadable key unseen and names the hive offset",
    skip,
  ),
  ignore: !!skip,
  async fn() {
    const { bytes } = await syntheticSoftware();
    const damaged = bytes.slice();
    const hive = openHive(damaged, "SOFTWARE.hive");
    const zip = hive.lookup("Microsoft\\Windows\\CurrentVersion\\Uninstall\\7-Zip")!;
    damaged[0x1000 + zip.offset + 4] = 0x21;
    const reader = offlineRegistry([{ path: "HKLM\\SOFTWARE", hive: openHive(damaged, "SOFTWARE.hive") }]);
    const r = readRegistryInfo(reader, [
      info(UNINSTALL, { recurse: true }),
      info("HKLM\\SOFTWARE\\FixtureValueTypes"),
    ]);
    assert.deepEqual(r.unseen, [`${UNINSTALL}\\`]);
    assert.match(
      r.warnings[0],
      new RegExp(
        `SOFTWARE\\.hive: key: expected nk cell.* at offset 0x${(0x1000 + zip.offset + 4).toString(16)}`,
      ),
    );
    assert.equal(r.items.length, 10, "the other entry is still read");
  },
});

function diff(before: RegistryItem[], after: RegistryItem[]) {
  const a = new Map(before.map((i) => [registryKey(i), i])),
    b = new Map(after.map((i) => [registryKey(i), i]));
  const out: string[] = [];
  for (const [k, i] of b) {
    const p = a.get(k);
    if (!p) out.push(`Added ${k} = ${i.ValueData}`);
    else if (p.ValueData !== i.ValueData || p.ValueType !== i.ValueType) {
      out.push(`Modified ${k}: ${p.ValueData} → ${i.ValueData}`);
    }
  }
  for (const k of a.keys()) if (!b.has(k)) out.push(`Removed ${k}`);
  return out.sort();
}

const skipHivex = skipReason({ hivex: true });
Deno.test({
  name: named(
    "registry items of two hive versions differ by exactly the value changed, added and deleted",
    skipHivex,
  ),
  ignore: !!skipHivex,
  async fn() {
    const head = "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\T]\n";
    const v1 = head + '"Keep"="same"\n"Change"=dword:00000001\n"Drop"="bye"\n\n';
    const v2 = head +
      '"Keep"="same"\n"Change"=dword:00000002\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\T\\Sub]\n"New"=hex(7):61,00,00,00,62,00,00,00,00,00\n\n';
    const read = async (reg: string) => {
      const { bytes } = await buildHive(reg, "HKEY_LOCAL_MACHINE\\SOFTWARE", "SOFTWARE");
      const reader = offlineRegistry([{ path: "HKEY_LOCAL_MACHINE\\SOFTWARE", hive: openHive(bytes) }]);
      return readRegistryInfo(reader, [info("HKLM\\SOFTWARE\\T", { recurse: true })]).items;
    };
    assert.deepEqual(diff(await read(v1), await read(v2)), [
      "Added HKEY_LOCAL_MACHINE\\SOFTWARE\\T\\Sub\\\\New = a\nb",
      "Modified HKEY_LOCAL_MACHINE\\SOFTWARE\\T\\\\Change: 1 → 2",
      "Removed HKEY_LOCAL_MACHINE\\SOFTWARE\\T\\\\Drop",
    ]);
  },
});

Deno.test({
  name: named("registryCollector() collects from the DCR through the reader it is given", skip),
  ignore: !!skip,
  async fn() {
    const { reader } = await syntheticSoftware();
    const c = registryCollector();
    const host = { ...liveHost(), registry: () => Promise.resolve(reader) };
    const settings = settingsSchema("windows").parse({
      registrySettings: {
        registryCollectionFrequency: 60,
        registryInfo: [info("HKLM\\SOFTWARE\\FixtureValueTypes")],
      },
    });
    assert.deepEqual(scheduleOf(c, settings), { enabled: true, frequency: 60 });
    assert.equal(dataTypeOf(c, "windows"), "Registry");
    assert.deepEqual(c.platforms, ["windows"]);
    const got = await c.collect(settings, {
      host,
      signal: new AbortController().signal,
      log: memoryLogger(),
    });
    assert.equal(got.items.length, 10);
    assert.equal(
      c.key(got.items.find((i) => i.ValueName === "Sz")!),
      "HKEY_LOCAL_MACHINE\\SOFTWARE\\FixtureValueTypes\\\\Sz",
    );
    const none = settingsSchema("windows").parse({});
    assert.deepEqual(
      (await c.collect(none, { host: liveHost(), signal: new AbortController().signal, log: memoryLogger() }))
        .items,
      [],
    );
  },
});

const skipReal = skipReason({ hivex: true, xz: true });
Deno.test({
  name: named(
    "the 17 default registry entries, all enabled, read the real SYSTEM hive's KnownDLLs like hivexregedit",
    skipReal,
  ),
  ignore: !!skipReal,
  async fn() {
    const file = await sharedHive("SYSTEM_win7sp1_x86.xz");
    const reader = offlineRegistry([systemMount(await Deno.readFile(file), file)]);
    const defaults = settingsSchema("windows").parse(defaultExtensionSettings("windows"));
    const infos = defaults.registrySettings.registryInfo.map((i) => ({ ...i, enabled: true }));
    assert.equal(infos.length, 17);
    const r = readRegistryInfo(reader, infos);
    assert.equal(r.warnings.length, 16, "every other default key is missing from a SYSTEM hive, and said so");
    const known = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\KnownDLLs";
    assert.ok(r.items.every((i) => i.RegistryKey === known), "the registry's own spelling (KnownDLLs)");
    const hivex = new TextDecoder().decode(
      await hivexExport(file, "ControlSet001\\Control\\Session Manager\\KnownDlls"),
    );
    const names = hivex.split("\n").filter((l) => l.startsWith('"')).map((l) => l.slice(1, l.indexOf('"=')));
    assert.deepEqual(r.items.map((i) => i.ValueName).sort(), names.sort());
    assert.equal(r.items.find((i) => i.ValueName === "DllDirectory")?.ValueData, "%SystemRoot%\\system32");
  },
});

const skipXz = skipReason({ xz: true });
for (
  const [what, damage, named_] of [
    ["a bad second hive bin signature", (b: Uint8Array) => b.set([0x68, 0x62, 0x69, 0x78], 0x2000), "0x2000"],
    ["a free cell referenced as used", (b: Uint8Array) => freeFirstValueList(b), "free"],
  ] as const
) {
  Deno.test({
    name: named(
      `readRegistryInfo() over a real SAM with ${what}: every value it cannot read stays unseen, the rest is exact`,
      skipXz,
    ),
    ignore: !!skipXz,
    async fn() {
      const good = await Deno.readFile(await sharedHive("sam/SAM_dupename_EZ.xz"));
      const read = (bytes: Uint8Array) =>
        readRegistryInfo(offlineRegistry([{ path: "HKLM\\SAM", hive: openHive(bytes, "SAM") }]), [
          info("HKLM\\SAM", { recurse: true }),
        ]);
      const intact = read(good);
      assert.deepEqual([intact.warnings, intact.unseen], [[], []]);
      const bytes = good.slice();
      damage(bytes);
      const hurt = read(bytes);
      assert.ok(hurt.unseen.length > 0 && hurt.warnings.length > 0);
      for (const w of hurt.warnings) assert.ok(w.includes(named_), w);
      const before = new Map(intact.items.map((i) => [registryKey(i), i]));
      const after = new Map(hurt.items.map((i) => [registryKey(i), i]));
      for (const [k, i] of after) assert.deepEqual(i, before.get(k), `${k} is read exactly`);
      const lost = [...before.keys()].filter((k) => !after.has(k));
      assert.ok(lost.length > 0);
      for (const k of lost) {
        assert.ok(hurt.unseen.some((p) => k.startsWith(p)), `${k} would be reported Removed`);
      }
    },
  });
}

/** Marks the cell of the first value list of the SAM's Names key free, as a damaged hive can have it. */
function freeFirstValueList(bytes: Uint8Array) {
  const names = "SAM\\Domains\\Account\\Users\\Names";
  const hive = openHive(bytes);
  freeValueList(bytes, `${names}\\${hive.subkeys(hive.lookup(names)!)[0].name}`);
}

Deno.test({
  name: named(
    "readRegistryInfo() keeps the registry's spelling unseen when a DCR key spelled in another case cannot be read",
    skip,
  ),
  ignore: !!skip,
  async fn() {
    const sid = "S-1-5-21-1-2-3-1001";
    const user = `HKEY_USERS\\${sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall`;
    const dcr = info(user.toLowerCase(), { recurse: true });
    const ntuser = await Deno.readFile(`${SHARED_HIVES}NTUSER.DAT`);
    const readable = readRegistryInfo(
      offlineRegistry([{ path: `HKEY_USERS\\${sid}`, hive: openHive(ntuser) }]),
      [dcr],
    );
    const stored = readable.items.map(registryKey);
    assert.ok(stored.includes(`${user}\\Spotify\\\\DisplayName`), "items carry the registry's spelling");
    const broken = readRegistryInfo(offlineRegistry([{ path: `HKEY_USERS\\${sid}`, error: "locked" }]), [
      dcr,
    ]);
    assert.deepEqual(broken.items, []);
    for (const k of stored) {
      assert.ok(broken.unseen.some((p) => k.startsWith(p)), `${k} would be reported Removed`);
    }
    assert.match(
      broken.warnings[0],
      /cannot read .*: HKEY_USERS\\S-1-5-21-1-2-3-1001 cannot be read: locked/,
    );
  },
});

Deno.test("registryCollector() on a fake host: the values of the DCR's keys from an in-memory registry", async () => {
  const host = fakeHost({
    os: "windows",
    registry: () =>
      memoryRegistry({
        "HKLM\\SOFTWARE\\Contoso\\App": { Version: "1.2", Port: 8080 },
        "HKLM\\SOFTWARE\\Contoso\\App\\Plugins": { Enabled: 1 },
      }),
  });
  const settings = settingsSchema("windows").parse({
    registrySettings: { registryInfo: [info("hklm\\software\\contoso\\app", { recurse: true })] },
  });
  const got = await registryCollector().collect(settings, {
    host,
    signal: new AbortController().signal,
    log: memoryLogger(),
  });
  assert.deepEqual(got.items.map((i) => [registryKey(i), i.ValueType, i.ValueData]), [
    ["HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso\\App\\\\Version", "REG_SZ", "1.2"],
    ["HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso\\App\\\\Port", "REG_DWORD", "8080"],
    ["HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso\\App\\Plugins\\\\Enabled", "REG_DWORD", "1"],
  ]);
  assert.deepEqual([got.unseen, got.warnings], [[], []]);
});
