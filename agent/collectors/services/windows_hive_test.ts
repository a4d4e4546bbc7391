// Windows services read from real and synthetic SYSTEM hives (any OS; the live SCM is in scm_windows_test.ts).
import assert from "node:assert/strict";
import { offlineRegistry, systemMount } from "../../host/registry/offline.ts";
import {
  freeValueList,
  named,
  SHARED_HIVES,
  sharedHive,
  skipReason,
} from "../../host/registry/testdata/hives.ts";
import { liveHost } from "../../host/mod.ts";
import { readWindowsServices, servicesFromRegistry, startupType } from "./windows.ts";

Deno.test({
  name: named(
    "servicesFromRegistry() lists the Win32 services of the real Windows 7 SYSTEM hive",
    skipReason({ xz: true }),
  ),
  ignore: !!skipReason({ xz: true }),
  async fn() {
    const file = await sharedHive("SYSTEM_win7sp1_x86.xz");
    const items = servicesFromRegistry(offlineRegistry([systemMount(await Deno.readFile(file), file)]));
    // PROVENANCE.md: ControlSet001\Services types 0x10=38, 0x20=118, 0x110=3 are services; the rest are drivers.
    assert.equal(items.length, 38 + 118 + 3);
    const byLower = new Map(items.map((i) => [i.SvcName.toLowerCase(), i]));
    const by = {
      get: (n: string) => byLower.get(n.toLowerCase()),
      has: (n: string) => byLower.has(n.toLowerCase()),
    };
    assert.deepEqual(by.get("Spooler"), {
      SvcName: "Spooler",
      SvcDisplayName: "@%systemroot%\\system32\\spoolsv.exe,-1",
      SvcDescription: "@%systemroot%\\system32\\spoolsv.exe,-2",
      SvcState: "Unknown",
      SvcStartupType: "Auto",
      SvcAccount: "LocalSystem",
      SvcPath: "%SystemRoot%\\System32\\spoolsv.exe",
      SvcController: "windows",
      SvcRunlevels: "",
      DelayedAutoStart: false,
    });
    // WMI's StartMode says Auto for a delayed start too (issue 15); the delay is a field of its own.
    assert.deepEqual([by.get("wuauserv")?.SvcStartupType, by.get("wuauserv")?.DelayedAutoStart], [
      "Auto",
      true,
    ]);
    assert.deepEqual(
      [by.get("BITS")?.SvcStartupType, by.get("BITS")?.DelayedAutoStart],
      ["Manual", false],
      "DelayedAutoStart only delays Auto services",
    );
    assert.equal(by.get("EventLog")?.SvcAccount, "NT AUTHORITY\\LocalService");
    assert.equal(by.has("Tcpip"), false, "drivers are not services");
  },
});

Deno.test({
  name: named("readWindowsServices() reads the SYSTEM hive of a Windows image under host.root", skipReason()),
  ignore: !!skipReason(),
  async fn() {
    const root = await Deno.makeTempDir();
    await Deno.mkdir(`${root}/WINDOWS/system32/config`, { recursive: true });
    await Deno.copyFile(`${SHARED_HIVES}synthetic/SYSTEM.hive`, `${root}/WINDOWS/system32/config/SYSTEM`);
    const { items } = await readWindowsServices(liveHost({ root, os: "windows" }));
    const rows = items.map((i) => `${i.SvcName}|${i.SvcStartupType}|${i.SvcAccount}|${i.SvcPath}`).sort();
    assert.deepEqual(rows, [
      "DisabledSvc|Disabled|LocalSystem|C:\\Program Files\\Fixture\\svc.exe",
      "NoImagePath|Unknown|LocalSystem|",
      "Spooler|Auto|LocalSystem|%SystemRoot%\\System32\\spoolsv.exe",
      "wuauserv|Manual|LocalSystem|%systemroot%\\system32\\svchost.exe -k netsvcs -p",
    ]);
    assert.equal(
      items.find((i) => i.SvcName === "Spooler")?.SvcDescription,
      "This service spools print jobs and handles interaction with the printer.",
    );
    await Deno.remove(root, { recursive: true });
  },
});

Deno.test("startupType() names every SCM start type", () => {
  assert.deepEqual([0, 1, 2, 3, 4].map((s) => startupType(s)), [
    "Boot",
    "System",
    "Auto",
    "Manual",
    "Disabled",
  ]);
  assert.equal(startupType(null), "Unknown");
});

Deno.test({
  name: named(
    "servicesFromRegistry() keeps a service whose key cannot be read, with its error, and reads the others",
    skipReason(),
  ),
  ignore: !!skipReason(),
  async fn() {
    const bytes = (await Deno.readFile(`${SHARED_HIVES}synthetic/SYSTEM.hive`)).slice();
    const list = freeValueList(bytes, "ControlSet001\\Services\\Spooler"); // its value list: a free cell
    const items = servicesFromRegistry(offlineRegistry([systemMount(bytes, "SYSTEM")]));
    assert.deepEqual(items.map((i) => i.SvcName).sort(), [
      "DisabledSvc",
      "NoImagePath",
      "Spooler",
      "wuauserv",
    ]);
    const s = items.find((i) => i.SvcName === "Spooler")!;
    assert.match(
      String(s.error),
      new RegExp(
        `^cannot read HKEY_LOCAL_MACHINE\\\\SYSTEM\\\\CurrentControlSet\\\\Services\\\\Spooler: SYSTEM: value list: the cell is free \\(not in use\\) at offset 0x${
          list.toString(16)
        }$`,
      ),
    );
  },
});
