// The offline path: users and groups from real SAM hives (../shared), checked against chntpw's own SAM reader.
import assert from "node:assert/strict";
import { liveHost } from "../../host/mod.ts";
import { memoryLogger } from "../../log.ts";
import { named, sharedHive, skipReason } from "../../host/registry/testdata/hives.ts";
import { memoryRegistry } from "../../../test/fake_host.ts";
import { settingsSchema } from "../../config/dcr.ts";
import { baseBlockChecksum } from "../../host/registry/hive.ts";
import { readSamUsers } from "./sam.ts";
import users from "./mod.ts";
import type { UserItem } from "./item.ts";

const SAMS = ["SAM_dupename_EZ", "SAM_rootvalue_EZ"];

/** An image holding only `Windows/System32/config/SAM`. */
async function image(sam: string): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "ctagent-sam-" });
  await Deno.mkdir(`${root}/Windows/System32/config`, { recursive: true });
  await Deno.copyFile(await sharedHive(`sam/${sam}.xz`), `${root}/Windows/System32/config/SAM`);
  return root;
}

async function collect(root: string): Promise<UserItem[]> {
  const host = liveHost({ root, os: "windows" });
  const res = await users.collect(settingsSchema("windows").parse({}), {
    host,
    signal: new AbortController().signal,
    log: memoryLogger(),
  });
  assert.deepEqual([res.warnings, res.unseen], [[], undefined]);
  return res.items;
}

/** chntpw's tools (Debian chntpw) on a hive: `sampasswd -l` (users) and `samusrgrp -L` (groups and members). */
async function chntpw(tool: string, args: string[]): Promise<string[][] | null> {
  try {
    const o = await new Deno.Command(tool, { args, stdout: "piped", stderr: "null" }).output();
    return new TextDecoder().decode(o.stdout).trim().split("\n").map((l) => l.split(":"));
  } catch {
    return null;
  }
}

const skipFixtures = skipReason({ xz: true });
const hasChntpw = (await chntpw("sampasswd", ["-h"])) !== null;
const skipOracle = skipFixtures ||
  (hasChntpw ? "" : "skipped: chntpw's sampasswd/samusrgrp (Debian chntpw) are not installed");

for (const sam of SAMS) {
  Deno.test({
    name: named(
      `the offline path lists ${sam}'s accounts as chntpw reads them: RIDs, disabled, groups`,
      skipOracle,
    ),
    ignore: !!skipOracle,
    async fn() {
      const root = await image(sam);
      try {
        const items = await collect(root);
        const hive = `${root}/Windows/System32/config/SAM`;
        const users = items.filter((i) => i.Kind === "user").map((u) => [u.Id, u.Name, u.Disabled, u.Admin]);
        // sampasswd -l: RID (hex) : name : admin (0/1) : account bits (hex) : …
        const want = (await chntpw("sampasswd", ["-l", hive]))!
          .map((
            [rid, name, admin, acb],
          ) => [parseInt(rid, 16), name, (parseInt(acb, 16) & 1) === 1, admin === "1"]);
        const byRid = (a: unknown[], b: unknown[]) => (a[0] as number) - (b[0] as number);
        assert.deepEqual(users.sort(byRid), want.sort(byRid));
        // samusrgrp -L: group RID : group : index : member RID : member name : member SID.
        const members = (await chntpw("samusrgrp", ["-L", hive]))!.filter((l) => l.length >= 6);
        for (const u of items.filter((i) => i.Kind === "user")) {
          const want = members.filter((m) =>
            parseInt(m[3], 16) === u.Id && m[5].endsWith(`-${u.Id}`) &&
            m[5].startsWith("S-1-5-21-")
          ).map((m) => m[1]).sort();
          assert.equal(u.Groups, want.join(", "), u.Name);
        }
        const groups = items.filter((i) => i.Kind === "group");
        const listed = (await chntpw("samusrgrp", ["-l", hive]))!.map((
          [rid, name],
        ) => [parseInt(rid, 16), name]);
        assert.deepEqual(groups.map((g) => [g.Id, g.Name]), listed);
        assert.deepEqual(groups.filter((g) => g.Admin).map((g) => g.Name), ["Administrators"]);
      } finally {
        await Deno.remove(root, { recursive: true });
      }
    },
  });
}

Deno.test({
  name: named("the offline path lists the accounts PROVENANCE.md names for both SAM hives", skipFixtures),
  ignore: !!skipFixtures,
  async fn() {
    for (
      const [sam, names] of [
        ["SAM_dupename_EZ", ["Administrator", "Guest", "harry", "IUSR_FINN"]],
        ["SAM_rootvalue_EZ", ["Administrator", "Guest", "Win7SP1"]],
      ] as const
    ) {
      const root = await image(sam);
      try {
        const items = await collect(root);
        const users = items.filter((i) => i.Kind === "user");
        for (const n of names) assert.ok(users.some((u) => u.Name === n), `${sam}: ${n}`);
        assert.equal(users.find((u) => u.Name === "Administrator")?.Id, 500);
        assert.equal(users.find((u) => u.Name === "Guest")?.Id, 501);
        assert.equal(
          users.find((u) => u.Name === "Administrator")?.Admin,
          true,
          "RID 500 is in Administrators",
        );
        if (sam === "SAM_dupename_EZ") assert.ok(users.length >= 12, "12+ accounts");
      } finally {
        await Deno.remove(root, { recursive: true });
      }
    }
  },
});

Deno.test({
  name: named(
    "the offline path says when the SAM hive is dirty without its logs, and fails on a damaged one",
    skipFixtures,
  ),
  ignore: !!skipFixtures,
  async fn() {
    const root = await image("SAM_rootvalue_EZ");
    try {
      // The base block's two sequence numbers differ: Windows stopped before writing the hive back.
      const file = `${root}/Windows/System32/config/SAM`;
      const bytes = await Deno.readFile(file);
      const base = new DataView(bytes.buffer);
      base.setUint32(4, base.getUint32(8, true) + 1, true);
      base.setUint32(0x1fc, baseBlockChecksum(bytes), true);
      await Deno.writeFile(file, bytes);
      const res = await users.collect(settingsSchema("windows").parse({}), {
        host: liveHost({ root, os: "windows" }),
        signal: new AbortController().signal,
        log: memoryLogger(),
      });
      assert.equal(res.items.filter((i) => i.Kind === "user").length, 3);
      assert.deepEqual(res.warnings?.map((w) => w.replace(/^.*SAM: /, "")), [
        "hive is dirty, its logs are missing: recent changes may be absent",
      ]);
      // A damaged base block: the run fails (nothing read, so nothing reads as Removed).
      base.setUint32(0x1fc, baseBlockChecksum(bytes) ^ 1, true);
      await Deno.writeFile(file, bytes);
      await assert.rejects(
        users.collect(settingsSchema("windows").parse({}), {
          host: liveHost({ root, os: "windows" }),
          signal: new AbortController().signal,
          log: memoryLogger(),
        }),
        /HKEY_LOCAL_MACHINE\\SAM cannot be read: .*checksum/,
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

const D = "HKLM\\SAM\\SAM\\Domains";
/** The Account domain's V value: 24 bytes ending in the machine SID S-1-5-21-1-2-3. */
function domainV(): Uint8Array {
  const v = new Uint8Array(48);
  v.set([1, 4, 0, 0, 0, 0, 0, 5], 24);
  new DataView(v.buffer).setUint32(32, 21, true);
  for (let i = 1; i <= 3; i++) new DataView(v.buffer).setUint32(32 + 4 * i, i, true);
  return v;
}

Deno.test("readSamUsers() keeps a damaged user record with its error (named by the Names key), never dropping it", () => {
  const reader = memoryRegistry({
    [`${D}\\Account`]: { V: domainV() },
    [`${D}\\Account\\Users\\000003E8`]: { V: new Uint8Array(10), F: new Uint8Array(80) },
    [`${D}\\Account\\Users\\Names\\broken`]: { "": { type: 1000, data: new Uint8Array() } },
  });
  const { items } = readSamUsers(reader);
  assert.equal(items.length, 1);
  assert.deepEqual([items[0].Name, items[0].Id], ["broken", 1000]);
  assert.match(items[0].error!, /Users\\000003E8: the V value is 10 bytes, shorter than its table/);
});

Deno.test("readSamUsers() says when the image has no SAM: nothing seen, nothing removed", () => {
  assert.deepEqual(readSamUsers(memoryRegistry({ "HKLM\\SOFTWARE\\X": {} })), {
    items: [],
    unseen: [""],
    warnings: ["no SAM hive in this image: no users read"],
  });
  assert.throws(
    () => readSamUsers(memoryRegistry({ [`${D}\\Account`]: { V: new Uint8Array(4) } })),
    /the machine's SID cannot be read/,
  );
});
