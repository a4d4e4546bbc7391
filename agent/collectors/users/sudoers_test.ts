import assert from "node:assert/strict";
import { fakeHost } from "../../../test/fake_host.ts";
import {
  grantsAll,
  includedNames,
  names,
  parseSudoers,
  readSudoers,
  type SudoersFile,
  type Who,
} from "./sudoers.ts";

const noAliases = (): SudoersFile["aliases"] => ({ user: new Map(), runas: new Map(), cmnd: new Map() });
const user = (name: string, id: number, groups: [string, number][] = []): Who => ({
  name,
  id,
  kind: "user",
  groups: groups.map(([name, gid]) => ({ name, gid })),
});
const group = (name: string, id: number): Who => ({ name, id, kind: "group", groups: [] });

Deno.test("parseSudoers() reads rules, aliases, includes; joins continued lines and drops comments but not uids", () => {
  const f = parseSudoers([
    "# comment",
    "Defaults env_reset",
    "Defaults:alice !requiretty",
    "User_Alias ADMINS = alice, %wheel : OPS = #1001",
    "Cmnd_Alias SHELLS = /bin/sh, \\",
    "  /bin/bash",
    "root ALL=(ALL:ALL) ALL # the root rule",
    "%sudo   ALL=(ALL:ALL) ALL",
    "#1002 ALL = /usr/bin/apt",
    "@includedir /etc/sudoers.d",
    '#include "/etc/sudoers.local"',
    "this is not a rule",
  ].join("\n"));
  assert.deepEqual([...f.aliases.user], [["ADMINS", ["alice", "%wheel"]], ["OPS", ["#1001"]]]);
  assert.deepEqual([...f.aliases.cmnd], [["SHELLS", ["/bin/sh", "/bin/bash"]]]);
  assert.deepEqual(f.rules.map((r) => [r.text, r.users.map((u) => `${u.kind}:${u.value}`)]), [
    ["root ALL=(ALL:ALL) ALL", ["user:root"]],
    ["%sudo ALL=(ALL:ALL) ALL", ["group:sudo"]],
    ["#1002 ALL = /usr/bin/apt", ["uid:1002"]],
  ]);
  assert.deepEqual(f.includes, [{ dir: true, path: "/etc/sudoers.d" }, {
    dir: false,
    path: "/etc/sudoers.local",
  }]);
  assert.deepEqual(f.skipped, [{ line: 12, why: "neither a rule, an alias, Defaults nor an include" }]);
});

Deno.test("grantsAll() is true only for ALL commands run as root: run-as lists, tags, negation and aliases", () => {
  const aliases = noAliases();
  aliases.cmnd.set("EVERYTHING", ["ALL"]);
  aliases.cmnd.set("NESTED", ["/bin/ls", "EVERYTHING"]);
  aliases.runas.set("ROOTS", ["root"]);
  const cases: [string, boolean][] = [
    ["ALL", true],
    ["(ALL:ALL) ALL", true],
    ["(ALL) NOPASSWD: ALL", true],
    ["(root) NOPASSWD: SETENV: ALL", true],
    ["(#0) ALL", true],
    ["(ROOTS) ALL", true],
    ["NESTED", true],
    ["/usr/bin/apt, ALL", true],
    ["/usr/bin/apt", false],
    ["!ALL", false],
    ["(postgres) ALL", false],
    ["(:wheel) ALL", false],
    ["(postgres) /bin/ls, (root) ALL", true],
    ["(postgres) ALL : otherhost = ALL", true],
    ["ROLE=unconfined_r TYPE=unconfined_t ALL", true],
    ["/bin/ls ALL", false],
  ];
  assert.deepEqual(cases.map(([r]) => [r, grantsAll(r, aliases)]), cases);
});

Deno.test("names() matches users, uids, %groups, %#gids and aliases; the last matching entry decides", () => {
  const f = parseSudoers([
    "User_Alias ADMINS = alice, %wheel, !mallory",
    "ADMINS ALL = ALL",
    "%#27 ALL = ALL",
    "ALL, !bob ALL = ALL",
  ].join("\n"));
  const rules = f.rules.map((r) => ({ ...r, file: "/etc/sudoers", grantsAll: true }));
  const alice = user("alice", 1000);
  const mallory = user("mallory", 1001, [["wheel", 10]]);
  const carol = user("carol", 1002, [["wheel", 10]]);
  const dan = user("dan", 1003, [["sudo", 27]]);
  const bob = user("bob", 1004);
  const byAlias = rules[0], byGid = rules[1], byAll = rules[2];
  assert.equal(names(byAlias, alice, f.aliases.user), true);
  assert.equal(names(byAlias, carol, f.aliases.user), true, "through %wheel in the alias");
  assert.equal(names(byAlias, mallory, f.aliases.user), false, "!mallory comes last");
  assert.equal(names(byAlias, dan, f.aliases.user), false);
  assert.equal(names(byGid, dan, f.aliases.user), true);
  assert.equal(names(byGid, group("sudo", 27), f.aliases.user), true);
  assert.equal(names(byAlias, group("wheel", 10), f.aliases.user), true, "a rule names the group itself");
  assert.equal(names(byAll, dan, f.aliases.user), true);
  assert.equal(names(byAll, bob, f.aliases.user), false);
  assert.equal(names(byAll, group("sudo", 27), f.aliases.user), false, "ALL is every user, not a group");
});

Deno.test("includedNames() keeps what sudo reads from an includedir: no dot, no trailing ~, in order", () => {
  assert.deepEqual(includedNames(["zz", "README", "a.rpmsave", "b~", "10-ops", "00_admins"]), [
    "00_admins",
    "10-ops",
    "README",
    "zz",
  ]);
});

Deno.test("readSudoers() follows @include, #includedir, relative paths and %h; a missing /etc/sudoers is no rule", async () => {
  const host = fakeHost({
    hostname: "web01",
    files: {
      "/etc/sudoers": "root ALL=(ALL) ALL\n@includedir /etc/sudoers.d\n#include sudoers.%h\n",
      "/etc/sudoers.d/ops": "%ops ALL=(ALL) NOPASSWD: ALL\n@include ../sudoers.nested\n",
      "/etc/sudoers.d/skipped.bak": "eve ALL=(ALL) ALL\n",
      "/etc/sudoers.d/old~": "eve ALL=(ALL) ALL\n",
      "/etc/sudoers.nested": "Cmnd_Alias ANY = ALL\nbob ALL = ANY\n",
      "/etc/sudoers.web01": "carol ALL = /usr/bin/apt\n",
    },
  });
  const s = await readSudoers(host);
  assert.deepEqual(s.rules.map((r) => [r.file, r.text, r.grantsAll]), [
    ["/etc/sudoers", "root ALL=(ALL) ALL", true],
    ["/etc/sudoers.d/ops", "%ops ALL=(ALL) NOPASSWD: ALL", true],
    ["/etc/sudoers.nested", "bob ALL = ANY", true],
    ["/etc/sudoers.web01", "carol ALL = /usr/bin/apt", false],
  ]);
  assert.deepEqual([s.unreadable, s.warnings], [[], []]);
  assert.deepEqual(await readSudoers(fakeHost()), {
    rules: [],
    userAliases: new Map(),
    unreadable: [],
    warnings: [],
  });
});

Deno.test("readSudoers() lists a file it may not read (EACCES) as unreadable, fails on an I/O error, stops include loops", async () => {
  const denied = await readSudoers(fakeHost({
    files: { "/etc/sudoers": "@includedir /etc/sudoers.d\n", "/etc/sudoers.d/x": "a ALL=ALL\n" },
    failing: { "/etc/sudoers.d/x": "EACCES" },
  }));
  assert.deepEqual([denied.rules, denied.unreadable], [[], ["/etc/sudoers.d/x"]]);
  await assert.rejects(
    readSudoers(fakeHost({ files: { "/etc/sudoers": "" }, failing: { "/etc/sudoers": "EIO" } })),
    /cannot read \/etc\/sudoers: EIO/,
  );
  const loop = await readSudoers(
    fakeHost({ files: { "/etc/sudoers": "a ALL=ALL\n@include /etc/sudoers\n" } }),
  );
  assert.equal(loop.rules.length, 129, "read to the depth sudo allows, then said");
  assert.match(loop.warnings[0], /nested more than 128 deep/);
});
