import assert from "node:assert/strict";
import { fakeHost, type FakeHostOptions } from "../../../test/fake_host.ts";
import { liveHost } from "../../host/mod.ts";
import { readLinuxUsers } from "./linux.ts";
import type { UserItem } from "./item.ts";

const SHA512 =
  "$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.";
const NOW = Date.UTC(2026, 0, 15, 12);

const ETC = {
  "/etc/passwd": [
    "root:x:0:0:root:/root:/bin/bash",
    "alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash",
    "bob:x:1001:1001::/home/bob:/bin/sh",
    "carol:x:1002:100::/home/carol:/bin/sh",
    "dan:x:1003:1003::/home/dan:/usr/sbin/nologin",
  ].join("\n"),
  "/etc/group": [
    "root:x:0:",
    "sudo:x:27:alice",
    "users:x:100:",
    "alice:x:1000:",
    "bob:x:1001:",
    "ops:x:1005:bob,ghost",
    "wheel:x:10:",
  ].join("\n"),
  "/etc/shadow": {
    data: [
      `root:*:20000:0:99999:7:::`,
      `alice:${SHA512}:20000:0:99999:7:::`,
      `bob:!${SHA512}:20000:0:30:7:::`,
      `carol::0:0:99999:7:::`,
      `dan:${SHA512}:20000:0:99999:7::20500:`,
    ].join("\n"),
    mode: 0o640,
  },
  "/etc/sudoers": "root ALL=(ALL:ALL) ALL\n%ops ALL=(ALL) NOPASSWD: ALL\n@includedir /etc/sudoers.d\n",
  "/etc/sudoers.d/carol": "carol ALL = /usr/bin/apt\n",
};

async function read(over: Partial<FakeHostOptions> = {}) {
  const res = await readLinuxUsers(fakeHost({ files: ETC, ...over }), NOW);
  return { ...res, by: new Map(res.items.map((i) => [`${i.Kind}:${i.Name}`, i])) };
}

Deno.test("readLinuxUsers() reads accounts, groups, password states and who administers the machine", async () => {
  const { by, warnings, unseen } = await read();
  assert.deepEqual([warnings, unseen], [[], undefined]);
  assert.deepEqual(by.get("user:alice"), {
    Kind: "user",
    Name: "alice",
    Id: 1000,
    Gid: 1000,
    FullName: "Alice",
    Home: "/home/alice",
    Shell: "/bin/bash",
    Groups: "alice, sudo",
    OtherMembers: null,
    Admin: true,
    Sudo: "",
    Disabled: false,
    PasswordStatus: "set",
    PasswordChanged: "2024-10-04",
    PasswordExpired: false,
  });
  const pick = (k: string, ...f: (keyof UserItem)[]) => f.map((x) => by.get(k)?.[x]);
  assert.deepEqual(pick("user:root", "Admin", "PasswordStatus", "Sudo"), [
    true,
    "none",
    "/etc/sudoers: root ALL=(ALL:ALL) ALL",
  ]);
  // bob is an administrator through %ops; the rule is told on the group, not repeated on him.
  assert.deepEqual(pick("user:bob", "Groups", "Admin", "Sudo", "PasswordStatus", "PasswordExpired"), [
    "bob, ops",
    true,
    "",
    "locked",
    true,
  ]);
  assert.deepEqual(pick("user:carol", "Groups", "Admin", "Sudo", "PasswordStatus", "PasswordExpired"), [
    "users",
    false,
    "/etc/sudoers.d/carol: carol ALL = /usr/bin/apt",
    "empty",
    true,
  ]);
  assert.deepEqual(
    pick("user:dan", "Disabled", "Groups"),
    [false, "1003"],
    "a gid with no group: its number",
  );
  assert.deepEqual(pick("group:ops", "Admin", "Sudo", "OtherMembers", "Id"), [
    true,
    "/etc/sudoers: %ops ALL=(ALL) NOPASSWD: ALL",
    "ghost",
    1005,
  ]);
  assert.deepEqual(pick("group:wheel", "Admin"), [true]);
  assert.deepEqual(pick("group:users", "Admin", "OtherMembers"), [false, ""]);
  assert.equal(by.size, 5 + 7);
  const later = await readLinuxUsers(fakeHost({ files: ETC }), Date.UTC(2026, 2, 1));
  assert.equal(later.items.find((i) => i.Name === "dan")?.Disabled, true, "past shadow's expire day");
});

Deno.test("readLinuxUsers() never lets a password hash, or any part of one, out", async () => {
  const { items, warnings } = await read({
    files: { ...ETC, "/etc/passwd": ETC["/etc/passwd"] + `\nold:${SHA512}:1010:100::/:/bin/sh\n` },
  });
  const all = JSON.stringify({ items, warnings });
  for (let i = 0; i + 8 <= SHA512.length; i++) assert.ok(!all.includes(SHA512.slice(i, i + 8)), `part ${i}`);
  assert.equal(items.find((i) => i.Name === "old")?.PasswordStatus, "set");
});

Deno.test("readLinuxUsers() without permission for shadow or sudoers leaves those fields unknown and says so", async () => {
  const { by, warnings } = await read({
    failing: { "/etc/shadow": "EACCES", "/etc/sudoers.d/carol": "EACCES" },
  });
  assert.deepEqual(warnings, [
    "/etc/shadow cannot be read (permission denied): its fields are left unknown",
    "/etc/sudoers.d/carol cannot be read (permission denied): who it makes an administrator is unknown",
  ]);
  const alice = by.get("user:alice")!, carol = by.get("user:carol")!;
  assert.deepEqual([alice.PasswordStatus, alice.PasswordChanged, alice.PasswordExpired, alice.Disabled], [
    null,
    null,
    null,
    null,
  ]);
  assert.equal(alice.Admin, true, "sudo's member is an administrator whatever the unread file says");
  assert.deepEqual([carol.Admin, carol.Sudo], [null, null], "carol's rules are not known");
});

Deno.test("readLinuxUsers() fails on an I/O error rather than report a partial truth; no /etc/passwd is nothing seen", async () => {
  await assert.rejects(read({ failing: { "/etc/shadow": "EIO" } }), /cannot read \/etc\/shadow: EIO/);
  await assert.rejects(read({ failing: { "/etc/group": "EIO" } }), /cannot read \/etc\/group: EIO/);
  await assert.rejects(read({ failing: { "/etc/passwd": "EACCES" } }), /cannot read \/etc\/passwd: EACCES/);
  const none = await readLinuxUsers(fakeHost({ files: { "/var/lib/dpkg/status": "" } }), NOW);
  assert.deepEqual(none, { items: [], unseen: [""], warnings: ["no /etc/passwd: no users read"] });
});

Deno.test("readLinuxUsers() keeps the first of two entries with one name, as getpwnam does, and says so", async () => {
  const { by, warnings } = await read({
    files: { ...ETC, "/etc/passwd": ETC["/etc/passwd"] + "\nalice:x:2000:2000::/tmp:/bin/sh\n+::::::\n" },
  });
  assert.equal(by.get("user:alice")?.Id, 1000);
  assert.deepEqual(warnings, [
    "/etc/passwd line 7: a NIS compat entry (+/-): NIS's accounts are not listed: not read",
    "/etc/passwd: alice is listed twice: the first entry counts",
  ]);
});

/** `getent DB` lines split on ':'. */
async function getent(db: string): Promise<string[][]> {
  const o = await new Deno.Command("getent", { args: [db], stdout: "piped" }).output();
  assert.equal(o.code, 0, `getent ${db}`);
  return new TextDecoder().decode(o.stdout).trim().split("\n").map((l) => l.split(":"));
}

Deno.test("the inventory of this machine equals getent passwd and getent group (names, ids, homes, shells, memberships)", async () => {
  const { items } = await readLinuxUsers(liveHost(), Date.now());
  const users = items.filter((i) => i.Kind === "user"), groups = items.filter((i) => i.Kind === "group");
  const passwd = await getent("passwd"), group = await getent("group");
  assert.deepEqual(
    users.map((u) => [u.Name, u.Id, u.Gid, u.FullName, u.Home, u.Shell]),
    passwd.map(([n, , uid, gid, gecos, home, shell]) => [n, +uid, +gid, gecos.split(",")[0], home, shell]),
  );
  assert.deepEqual(groups.map((g) => [g.Name, g.Id]), group.map(([n, , gid]) => [n, +gid]));
  // Each user's groups: its primary group and every group listing it; names no user has stay on the group.
  const names = new Set(passwd.map(([n]) => n));
  for (const [name, , uid, gid] of passwd) {
    const want = group.filter(([, , id, members]) => id === gid || members.split(",").includes(name))
      .map(([g]) => g).sort();
    assert.equal(users.find((u) => u.Name === name)?.Groups, want.join(", "), `${name} (uid ${uid})`);
  }
  for (const [g, , , members] of group) {
    const others = members.split(",").filter((m) => m && !names.has(m)).sort().join(", ");
    assert.equal(groups.find((x) => x.Name === g)?.OtherMembers, others, g);
  }
});
