// The Windows software source read from real and built hives (runs on any OS; the live registry is in *_windows_test.ts).
import assert from "node:assert/strict";
import { openHive } from "../../host/registry/hive.ts";
import { offlineRegistry, systemMount } from "../../host/registry/offline.ts";
import {
  buildHive,
  freeValueList,
  named,
  SHARED_HIVES,
  sharedHive,
  skipReason,
} from "../../host/registry/testdata/hives.ts";
import {
  parseCbsPackageName,
  parseInstallDate,
  profileHives,
  readWindowsSoftware,
  windowsSoftware,
  type WindowsSoftwareItem,
} from "./windows.ts";
import { softwareCollector } from "./mod.ts";
import { runCollector } from "../../pipeline/run.ts";
import { openDb } from "../../../db/open.ts";
import { settingsSchema } from "../../config/dcr.ts";
import { fakeHost } from "../../../test/fake_host.ts";
import { memoryLogger } from "../../log.ts";

const SID = "S-1-5-21-1111111111-2222222222-3333333333-1001";
const UN_PATH = "Microsoft\\Windows\\CurrentVersion\\Uninstall";
const find = (items: WindowsSoftwareItem[], name: string) => items.find((i) => i.SoftwareName === name);

Deno.test({
  name: named(
    "readWindowsSoftware() inventories the real Software subtree and the real NTUSER.DAT",
    skipReason({ xz: true }),
  ),
  ignore: !!skipReason({ xz: true }),
  async fn() {
    const soft = await sharedHive("Software_subtree_partial.xz");
    const reader = offlineRegistry([
      { path: "HKLM\\SOFTWARE", hive: openHive(await Deno.readFile(soft), soft) },
      { path: `HKEY_USERS\\${SID}`, hive: openHive(await Deno.readFile(`${SHARED_HIVES}NTUSER.DAT`)) },
    ]);
    const { items } = readWindowsSoftware(reader);
    // PROVENANCE.md: 5 machine entries, all with a DisplayName; 1 per-user entry (Spotify).
    assert.equal(items.length, 6);
    assert.deepEqual(items.map((i) => i.SoftwareType), Array(6).fill("Application"));
    const kraken = find(items, "GitKraken")!;
    assert.equal(kraken.CurrentVersion, "5.0.4");
    assert.equal(kraken.Publisher, "Axosoft, LLC");
    assert.equal(kraken.Architecture, "x64", "a hive with WOW6432Node is a 64-bit OS");
    assert.equal(kraken.Manager, "windows");
    assert.equal(find(items, "Microsoft OneDrive")?.CurrentVersion, "20.028.0206.0009");
    assert.equal(find(items, "Python 3.7 distorm3-3.3.4")?.CurrentVersion, "");
    assert.ok(find(items, "Microsoft Visual Studio Code (User)"));
    const spotify = find(items, "Spotify")!;
    assert.equal(spotify.CurrentVersion, "1.0.38.171.g5e1cd7b2");
    assert.equal(spotify.Publisher, "Spotify AB");
    assert.equal(spotify.Manager, `windows-user:${SID}`);
    assert.equal(
      spotify.SourceKey,
      `HKEY_USERS\\${SID}\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\Spotify`,
    );
  },
});

Deno.test({
  name: named(
    "readWindowsSoftware() hides what Programs and Features hides (synthetic SOFTWARE.hive)",
    skipReason(),
  ),
  ignore: !!skipReason(),
  async fn() {
    const hive = openHive(await Deno.readFile(`${SHARED_HIVES}synthetic/SOFTWARE.hive`));
    const { items } = readWindowsSoftware(offlineRegistry([{ path: "HKLM\\SOFTWARE", hive }]));
    assert.deepEqual(items.map((i) => `${i.SoftwareName}|${i.Architecture}`).sort(), [
      "7-Zip 23.01 (x64)|x64",
      "Notepad++ (32-bit x86)|x86",
    ]);
    const zip = find(items, "7-Zip 23.01 (x64)")!;
    assert.equal(zip.InstalledAt, "2024-01-15T00:00:00.000Z");
    assert.equal(zip.Size, 0x162a * 1024);
    assert.equal(zip.Publisher, "Igor Pavlov");
  },
});

const UN = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall";
const CBS =
  "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\Packages";
const PATCH_REG = `Windows Registry Editor Version 5.00

[${UN}]

[${UN}\\App]
"DisplayName"="Plain App"
"DisplayVersion"="1.0"

[${UN}\\KB5005565]
"DisplayName"="Security Update for Windows (KB5005565)"

[${UN}\\OfficeFix]
"DisplayName"="Update for Microsoft Office 2016 (KB4484103) 64-Bit Edition"
"ParentKeyName"="Office16.PROPLUS"

[${UN}\\Hotfix1]
"DisplayName"="Hotfix for Something"
"ReleaseType"="Hotfix"

[${UN}\\Hidden]
"DisplayName"="Hidden update"
"ParentKeyName"="X"
"SystemComponent"=dword:00000001

[${CBS}]

[${CBS}\\Package_for_KB4012212~31bf3856ad364e35~amd64~~6.1.1.2]
"CurrentState"=dword:00000070
"InstallTimeHigh"=dword:01d29c4b
"InstallTimeLow"=dword:9a1c8000
"ReleaseType"="Security Update"

[${CBS}\\Package_1_for_KB4012215~31bf3856ad364e35~amd64~~6.1.1.0]
"CurrentState"=dword:00000070

[${CBS}\\Package_2_for_KB4012215~31bf3856ad364e35~amd64~~6.1.1.0]
"CurrentState"=dword:00000070

[${CBS}\\Package_for_KB999999~31bf3856ad364e35~amd64~~6.1.1.0]
"CurrentState"=dword:00000020

[${CBS}\\Package_for_KB5005565~31bf3856ad364e35~amd64~~10.0.1.0]
"CurrentState"=dword:00000070

[${CBS}\\Package_for_RollupFix~31bf3856ad364e35~amd64~~19041.1.1.0]
"CurrentState"=dword:00000070
`;

const skipHivex = skipReason({ hivex: true });
Deno.test({
  name: named(
    "readWindowsSoftware() tells updates from programs and lists installed CBS packages once per KB",
    skipHivex,
  ),
  ignore: !!skipHivex,
  async fn() {
    const { bytes } = await buildHive(PATCH_REG, "HKEY_LOCAL_MACHINE\\SOFTWARE", "SOFTWARE");
    const sys = await buildHive(
      'Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SYSTEM\\Select]\n"Current"=dword:00000001\n\n[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control\\Session Manager\\Environment]\n"PROCESSOR_ARCHITECTURE"="AMD64"\n',
      "HKEY_LOCAL_MACHINE\\SYSTEM",
      "SYSTEM",
    );
    const reader = offlineRegistry([
      { path: "HKLM\\SOFTWARE", hive: openHive(bytes) },
      systemMount(sys.bytes),
    ]);
    const { items } = readWindowsSoftware(reader);
    const rows = items.map((i) => `${i.SoftwareType}|${i.SoftwareName}|${i.KBId}|${i.Architecture}`).sort();
    assert.deepEqual(rows, [
      "Application|Plain App|null|x64",
      "Update|Hotfix for Something|null|x64",
      "Update|KB4012212|KB4012212|x64",
      "Update|KB4012215|KB4012215|x64",
      "Update|Security Update for Windows (KB5005565)|KB5005565|x64",
      "Update|Update for Microsoft Office 2016 (KB4484103) 64-Bit Edition|KB4484103|x64",
    ]);
    const kb = find(items, "KB4012212")!;
    assert.equal(kb.CurrentVersion, "6.1.1.2");
    assert.equal(kb.SoftwareDescription, "Security Update");
    assert.match(kb.InstalledAt!, /^2017-/);
  },
});

Deno.test("parseCbsPackageName() and parseInstallDate() read the Windows spellings", () => {
  assert.deepEqual(parseCbsPackageName("Package_for_KB2533552~31bf3856ad364e35~x86~~6.1.1.1"), {
    kb: "KB2533552",
    arch: "x86",
    version: "6.1.1.1",
  });
  assert.deepEqual(
    parseCbsPackageName("Package_12_for_KB4012215~31bf3856ad364e35~amd64~~6.1.1.0")?.kb,
    "KB4012215",
  );
  assert.equal(parseCbsPackageName("Microsoft-Windows-Foo-Package~31bf3856ad364e35~amd64~~6.1.1.0"), null);
  assert.equal(parseInstallDate("20240229"), "2024-02-29T00:00:00.000Z");
  assert.equal(parseInstallDate("20230229"), null);
  assert.equal(parseInstallDate("1/2/2024"), null);
});

Deno.test({
  name: named(
    "profileHives() reads the NTUSER.DAT of users who are not logged on; one it cannot read is unseen, never gone",
    skipHivex,
  ),
  ignore: !!skipHivex,
  async fn() {
    const PL = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList";
    const utf16hex = (s: string) =>
      [...s + "\0"].flatMap((c) => [c.charCodeAt(0).toString(16).padStart(2, "0"), "00"]).join(",");
    const { bytes } = await buildHive(
      [
        "Windows Registry Editor Version 5.00",
        "",
        `[${PL}\\S-1-5-21-9-9-9-1001]`,
        `"ProfileImagePath"=hex(2):${utf16hex("%SystemDrive%\\Users\\bperry")}`,
        "",
        `[${PL}\\S-1-5-21-9-9-9-1002]`,
        '"ProfileImagePath"="C:\\\\Users\\\\gone"',
        "",
        `[${PL}\\S-1-5-21-9-9-9-1003]`,
        '"ProfileImagePath"="C:\\\\Users\\\\busy"',
        "",
        `[${PL}\\S-1-5-18]`,
        '"ProfileImagePath"="C:\\\\Windows\\\\system32\\\\config\\\\systemprofile"',
        "",
      ].join("\n"),
      "HKEY_LOCAL_MACHINE\\SOFTWARE",
      "SOFTWARE",
    );
    const reader = offlineRegistry([{ path: "HKLM\\SOFTWARE", hive: openHive(bytes) }]);
    const asked: string[] = [];
    const users = await profileHives(reader, { SystemDrive: "C:" }, (p) => {
      asked.push(p);
      if (p === "C:\\Users\\bperry\\NTUSER.DAT") return Deno.readFile(`${SHARED_HIVES}NTUSER.DAT`);
      if (p === "C:\\Users\\busy\\NTUSER.DAT") {
        return Promise.reject(new Error("The process cannot access the file because it is being used"));
      }
      return Promise.resolve(null); // no such file
    });
    assert.deepEqual(
      asked.filter((p) => p.endsWith(".DAT")),
      ["C:\\Users\\bperry\\NTUSER.DAT", "C:\\Users\\gone\\NTUSER.DAT", "C:\\Users\\busy\\NTUSER.DAT"],
      "S-1-5-18 is no user",
    );
    assert.ok(asked.includes("C:\\Users\\bperry\\NTUSER.DAT.LOG1"), "its logs are looked for");
    const r = readWindowsSoftware(reader, users);
    assert.deepEqual(r.items.map((i) => `${i.SoftwareName} ${i.Manager}`), [
      "Spotify windows-user:S-1-5-21-9-9-9-1001",
    ]);
    // The user whose hive is gone has no programs; the one whose hive is busy keeps them, and it is said.
    assert.deepEqual(r.unseen, ["windows-user:S-1-5-21-9-9-9-1003:"]);
    assert.equal(r.warnings.length, 1);
    assert.match(
      r.warnings[0],
      /^cannot read HKEY_USERS\\S-1-5-21-9-9-9-1003\\Software\\.*\\Uninstall: HKEY_USERS\\S-1-5-21-9-9-9-1003 cannot be read: cannot read C:\\Users\\busy\\NTUSER.DAT: The process cannot access/,
    );
  },
});

Deno.test({
  name: named(
    "an Uninstall entry that cannot be read is unseen and named, never reported Removed (real Software and NTUSER.DAT hives, through a run)",
    skipReason({ xz: true }),
  ),
  ignore: !!skipReason({ xz: true }),
  async fn() {
    const softFile = await sharedHive("Software_subtree_partial.xz");
    const good = {
      soft: await Deno.readFile(softFile),
      user: await Deno.readFile(`${SHARED_HIVES}NTUSER.DAT`),
    };
    const bad = { soft: good.soft.slice(), user: good.user.slice() };
    const softAt = freeValueList(bad.soft, `${UN_PATH}\\distorm3-py3.7`);
    const userAt = freeValueList(bad.user, `Software\\${UN_PATH}\\Spotify`);
    let hives = good;
    const host = fakeHost({
      os: "windows",
      hostname: "image",
      registry: () =>
        offlineRegistry([
          { path: "HKLM\\SOFTWARE", hive: openHive(hives.soft, "SOFTWARE") },
          { path: `HKEY_USERS\\${SID}`, hive: openHive(hives.user, "NTUSER.DAT") },
        ]),
    });
    const { db, raw } = await openDb(":memory:");
    let t = 1_000_000;
    const run = () =>
      runCollector({
        db,
        raw,
        collector: softwareCollector([windowsSoftware]),
        settings: settingsSchema("windows").parse({}),
        host,
        log: memoryLogger(),
        signal: new AbortController().signal,
        now: () => (t += 1000),
      });
    assert.equal((await run()).counts.items, 6);
    hives = bad;
    const damaged = await run();
    assert.equal(damaged.status, "ok");
    assert.deepEqual(damaged.changes, [], "nothing Removed, nothing else either");
    assert.equal(damaged.counts.items, 4);
    assert.equal(damaged.warnings.length, 2, damaged.warnings.join("\n"));
    assert.match(
      damaged.warnings.join("\n"),
      new RegExp(
        `cannot read HKEY_LOCAL_MACHINE\\\\SOFTWARE\\\\.*\\\\Uninstall\\\\distorm3-py3\\.7: SOFTWARE: value list: the cell is free \\(not in use\\) at offset 0x${
          softAt.toString(16)
        }`,
      ),
    );
    assert.match(
      damaged.warnings.join("\n"),
      new RegExp(
        `cannot read HKEY_USERS\\\\${SID}\\\\Software\\\\.*\\\\Spotify: NTUSER\\.DAT: .* at offset 0x${
          userAt.toString(16)
        }`,
      ),
    );
    hives = good;
    const healed = await run();
    assert.deepEqual([healed.changes, healed.warnings], [[], []], "readable again: the same six programs");
    assert.equal(healed.counts.items, 6);
  },
});
