import assert from "node:assert/strict";
import { liveHost } from "../mod.ts";
import { memoryLogger } from "../../log.ts";
import { settingsSchema } from "../../config/dcr.ts";
import { softwareCollector } from "../../collectors/software/mod.ts";
import { windowsSoftware } from "../../collectors/software/windows.ts";
import { readWindowsServices, windowsServices } from "../../collectors/services/windows.ts";
import { servicesCollector } from "../../collectors/services/mod.ts";
import { offlineRegistryFromRoot } from "./offline.ts";
import { registryCollector, registryKey } from "../../collectors/registry/mod.ts";
import { buildHive, named, SHARED_HIVES, sharedHive, skipReason } from "./testdata/hives.ts";

const SID = "S-1-5-21-7-8-9-1001";
const skip = skipReason({ hivex: true });

const UTF16 = (text: string) =>
  [...text + "\0"].flatMap((c) => [c.charCodeAt(0).toString(16).padStart(2, "0"), "00"]).join(",");

/**
 * A Windows disk image as files: SOFTWARE (built, with a ProfileList entry for SID at `profile`), SYSTEM,
 * and users' hives under Users (bperry's NTUSER.DAT by default); written, not copied, so they can be changed.
 */
async function image(
  opts: {
    profile?: string;
    users?: Record<string, Record<string, Uint8Array>>;
    software?: (b: Uint8Array) => void;
    sam?: Uint8Array;
  } = {},
): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "ctagent-image-" });
  const config = `${root}/Windows/System32/config`;
  await Deno.mkdir(config, { recursive: true });
  const soft = await buildHive(
    [
      "Windows Registry Editor Version 5.00",
      "",
      `[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList\\${SID}]`,
      `"ProfileImagePath"=hex(2):${UTF16(opts.profile ?? "%SystemDrive%\\Users\\bperry")}`,
      "",
      "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\ImageApp]",
      '"DisplayName"="Image App"',
      '"DisplayVersion"="7.0"',
      "",
    ].join("\n"),
    "HKEY_LOCAL_MACHINE\\SOFTWARE",
    "SOFTWARE",
  );
  opts.software?.(soft.bytes);
  await Deno.writeFile(`${config}/SOFTWARE`, soft.bytes);
  await Deno.writeFile(`${config}/SYSTEM`, await Deno.readFile(`${SHARED_HIVES}synthetic/SYSTEM.hive`));
  if (opts.sam) await Deno.writeFile(`${config}/SAM`, opts.sam);
  const users = opts.users ?? { bperry: { "NTUSER.DAT": await Deno.readFile(`${SHARED_HIVES}NTUSER.DAT`) } };
  for (const [dir, files] of Object.entries(users)) {
    await Deno.mkdir(`${root}/Users/${dir}`, { recursive: true });
    for (const [name, bytes] of Object.entries(files)) {
      await Deno.writeFile(`${root}/Users/${dir}/${name}`, bytes);
    }
  }
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

const skipSam = skipReason({ hivex: true, xz: true });
Deno.test({
  name: named(
    "offlineRegistryFromRoot() mounts an image's SAM at HKLM\\SAM, as the live registry shows it",
    skipSam,
  ),
  ignore: !!skipSam,
  async fn() {
    const root = await image({ sam: await Deno.readFile(await sharedHive("sam/SAM_rootvalue_EZ.xz")) });
    try {
      const { reader, mounted } = await offlineRegistryFromRoot(root);
      assert.ok(mounted.includes("HKEY_LOCAL_MACHINE\\SAM"), mounted.join(", "));
      assert.deepEqual(reader.open("HKLM")!.subkeyNames().sort(), ["SAM", "SOFTWARE", "SYSTEM"]);
      // PROVENANCE.md: a Windows 7 SAM with Administrator, Guest and Win7SP1.
      const names = reader.open("HKLM\\SAM\\SAM\\Domains\\Account\\Users\\Names");
      assert.deepEqual(names?.subkeyNames().sort(), ["Administrator", "Guest", "Win7SP1"]);
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
      const { items: svcs } = await readWindowsServices(host);
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

const USER_UNINSTALL = `HKEY_USERS\\${SID}\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall`;
const MACHINE_UNINSTALL = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall";

/** The three Windows collectors over an image, as a run of each would see it. */
async function collectAll(root: string, keys: string[]) {
  const host = liveHost({ root, os: "windows" });
  const ctx = { host, signal: new AbortController().signal, log: memoryLogger() };
  const settings = settingsSchema("windows").parse({
    registrySettings: { registryInfo: keys.map((keyName) => ({ keyName, enabled: true, recurse: true })) },
  });
  return {
    software: await softwareCollector([windowsSoftware]).collect(settings, ctx),
    registry: await registryCollector().collect(settings, ctx),
    services: await servicesCollector([windowsServices]).collect(settings, ctx),
  };
}

const covered = (unseen: string[] | undefined, key: string) => (unseen ?? []).some((p) => key.startsWith(p));

Deno.test({
  name: named(
    "a damaged NTUSER.DAT in an image leaves services, software and HKLM registry as they are; only its user is unseen",
    skip,
  ),
  ignore: !!skip,
  async fn() {
    const ntuser = (await Deno.readFile(`${SHARED_HIVES}NTUSER.DAT`)).slice();
    ntuser[0x30] ^= 1; // the base block checksum fails
    const root = await image({ users: { bperry: { "NTUSER.DAT": ntuser } } });
    try {
      const { software, registry, services } = await collectAll(root, [MACHINE_UNINSTALL, USER_UNINSTALL]);
      assert.deepEqual(software.items.map((i) => i.SoftwareName), ["Image App"]);
      assert.ok(covered(software.unseen, `windows-user:${SID}:Spotify:`), "the user's programs are kept");
      assert.ok(!covered(software.unseen, "windows:Image App:x86"), "the machine's are not in doubt");
      assert.match(
        software.warnings!.join("\n"),
        /HKEY_USERS\\S-1-5-21-7-8-9-1001 cannot be read: .*NTUSER\.DAT: base block checksum/,
      );
      assert.ok(registry.items.some((i) => i.ValueData === "Image App"));
      assert.ok(covered(registry.unseen, `${USER_UNINSTALL}\\Spotify\\\\DisplayName`));
      assert.ok(!covered(registry.unseen, `${MACHINE_UNINSTALL}\\ImageApp\\\\DisplayName`));
      assert.match(
        registry.warnings!.join("\n"),
        /registryInfo\[1\]: cannot read .*NTUSER\.DAT: base block checksum .* at offset 0x1fc/,
      );
      assert.equal(services.items.length, 4);
      assert.deepEqual(services.warnings, []);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

const skipXz = skipReason({ hivex: true, xz: true });
const TONY = "S-1-5-21-2595688666-2948619230-3055395256-1001"; // the user the dirty NTUSER.DAT's root key names
Deno.test({
  name: named(
    "offlineRegistryFromRoot() finds user hives through ProfileList and in Users\\*, a dirty one with its logs applied",
    skipXz,
  ),
  ignore: !!skipXz,
  async fn() {
    const dirty = async (name: string) => await Deno.readFile(await sharedHive(`dirty/${name}.xz`));
    const tony = {
      "NTUSER.DAT": await dirty("NTUSER_transactions"),
      "ntuser.dat.LOG1": await dirty("NTUSER_transactions.LOG1"),
      "ntuser.dat.LOG2": await dirty("NTUSER_transactions.LOG2"),
    };
    const bperry = { "NTUSER.DAT": await Deno.readFile(`${SHARED_HIVES}NTUSER.DAT`) };
    // ProfileList puts bperry's profile on another disk: found in Users by the folder's name. tony is in no
    // profile: found in Users, and his SID read from his hive.
    // A hive in Users whose root key names no user (a SAM, here): not placed, said, and HKEY_USERS still lists.
    const odd = { "NTUSER.DAT": await Deno.readFile(await sharedHive("sam/SAM_rootvalue_EZ.xz")) };
    const root = await image({ profile: "D:\\Users\\bperry", users: { bperry, tony, odd } });
    const noLogs = await image({
      profile: "D:\\Users\\bperry",
      users: { bperry, odd, tony: { "NTUSER.DAT": tony["NTUSER.DAT"] } },
    });
    try {
      const { reader, mounted } = await offlineRegistryFromRoot(root);
      assert.deepEqual(mounted.sort(), [
        "HKEY_LOCAL_MACHINE\\SOFTWARE",
        "HKEY_LOCAL_MACHINE\\SYSTEM",
        `HKEY_USERS\\${TONY}`,
        `HKEY_USERS\\${SID}`,
      ]);
      assert.deepEqual(reader.warnings!(), [
        "Users/odd/NTUSER.DAT: in no profile, and the hive does not say whose it is: not read",
      ]);
      assert.deepEqual(reader.open("HKEY_USERS")!.subkeyNames().sort(), [TONY, SID]);
      const keys = [`HKEY_USERS\\${TONY}`];
      const withLogs = (await collectAll(root, keys)).registry;
      const without = (await collectAll(noLogs, keys)).registry;
      const odd_ = "Users/odd/NTUSER.DAT: in no profile, and the hive does not say whose it is: not read";
      assert.deepEqual(withLogs.warnings, [odd_]);
      assert.deepEqual(without.warnings, [
        odd_,
        `Users/tony/NTUSER.DAT: hive is dirty, its logs are missing: recent changes may be absent`,
      ]);
      const a = new Set(without.items.map(registryKey)), b = new Set(withLogs.items.map(registryKey));
      // The same figures as hive_log_test.ts finds on the hive alone: 595 values more, 19 fewer.
      assert.equal([...b].filter((k) => !a.has(k)).length, 595);
      assert.equal([...a].filter((k) => !b.has(k)).length, 19);
      const sw = (await collectAll(root, [])).software;
      assert.deepEqual(sw.items.map((i) => `${i.SoftwareName} ${i.Manager}`).sort(), [
        "Image App windows",
        `Microsoft OneDrive windows-user:${TONY}`,
        `Spotify windows-user:${SID}`,
      ]);
    } finally {
      await Deno.remove(root, { recursive: true });
      await Deno.remove(noLogs, { recursive: true });
    }
  },
});

Deno.test({
  name: named(
    "an image whose SOFTWARE hive is damaged keeps every program unseen (the users cannot be listed) and its services read",
    skip,
  ),
  ignore: !!skip,
  async fn() {
    const root = await image({ software: (b) => void (b[0x30] ^= 1) });
    try {
      const { software, services } = await collectAll(root, []);
      assert.deepEqual(software.items, []);
      for (const key of ["windows:Image App:x64", `windows-user:${SID}:Spotify:`]) {
        assert.ok(covered(software.unseen, key), `${key} would be reported Removed`);
      }
      assert.match(
        software.warnings!.join("\n"),
        /cannot list HKEY_USERS: the profile list in SOFTWARE cannot be read/,
      );
      assert.equal(services.items.length, 4);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
