import assert from "node:assert/strict";
import {
  accountExpired,
  dayText,
  parseGroup,
  parsePasswd,
  parseShadow,
  passwordExpired,
  passwordStatus,
  type ShadowEntry,
} from "./passwd.ts";

const SHA512 =
  "$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.";
const DAY = 86_400_000;

Deno.test("passwordStatus() tells a usable hash, a locked one, no hash and an empty field apart", () => {
  const cases: [string, string][] = [
    [SHA512, "set"],
    ["$y$j9T$salt$hash", "set"],
    ["abDEfgh1234./", "set"], // traditional DES: 13 characters
    ["_J9..salt1234567890a", "set"],
    [`!${SHA512}`, "locked"],
    [`!!${SHA512}`, "locked"],
    ["!", "none"],
    ["!!", "none"],
    ["!*", "none"],
    ["*", "none"],
    ["*LK*", "none"],
    ["x", "none"],
    ["", "empty"],
  ];
  assert.deepEqual(cases.map(([f]) => [f, passwordStatus(f)]), cases);
});

Deno.test("parsePasswd() reads glibc's seven fields, and skips compat and malformed lines by number", () => {
  const text = [
    "root:x:0:0:root:/root:/bin/bash",
    "# a comment",
    "",
    "alice:x:1000:1000:Alice Liddell,Room 1,,:/home/alice:/bin/zsh",
    `old:${SHA512}:1001:100::/home/old:/bin/sh`,
    "+@netgroup::::::",
    "broken:x:12:",
    "baduid:x:abc:1:::",
  ].join("\n");
  const { entries, skipped } = parsePasswd(text);
  assert.deepEqual(entries, [
    { name: "root", uid: 0, gid: 0, fullName: "root", home: "/root", shell: "/bin/bash", password: "shadow" },
    {
      name: "alice",
      uid: 1000,
      gid: 1000,
      fullName: "Alice Liddell",
      home: "/home/alice",
      shell: "/bin/zsh",
      password: "shadow",
    },
    { name: "old", uid: 1001, gid: 100, fullName: "", home: "/home/old", shell: "/bin/sh", password: "set" },
  ]);
  assert.deepEqual(skipped.map((s) => s.line), [6, 7, 8]);
  assert.ok(!JSON.stringify(entries).includes("abcdefgh"), "a hash in passwd itself is never kept");
});

Deno.test("parseGroup() reads members, empty lists as none", () => {
  const { entries, skipped } = parseGroup("sudo:x:27:alice,bob\nusers:x:100:\nbad:x:\n");
  assert.deepEqual(entries, [
    { name: "sudo", gid: 27, members: ["alice", "bob"] },
    { name: "users", gid: 100, members: [] },
  ]);
  assert.deepEqual(skipped, [{ line: 3, why: "not name:password:gid:members" }]);
});

Deno.test("parseShadow() keeps the password's state and days, and no part of any hash, not even in what it skips", () => {
  const text = [
    `alice:${SHA512}:20000:0:99999:7:::`,
    `bob:!${SHA512}:19000:0:90:7::20100:`,
    "carol::0:0:99999:7:::",
    `dave:${SHA512}:notaday:0:99999:7:::`,
  ].join("\n");
  const parsed = parseShadow(text);
  assert.deepEqual(parsed.entries, [
    ["alice", { status: "set", lastChange: 20000, maxAge: 99999, expires: null }],
    ["bob", { status: "locked", lastChange: 19000, maxAge: 90, expires: 20100 }],
    ["carol", { status: "empty", lastChange: 0, maxAge: 99999, expires: null }],
  ]);
  assert.deepEqual(parsed.skipped.map((s) => s.line), [4]);
  const everything = JSON.stringify(parsed);
  for (let i = 0; i + 8 <= SHA512.length; i++) {
    assert.ok(!everything.includes(SHA512.slice(i, i + 8)), `no part of the hash (${i})`);
  }
});

Deno.test("passwordExpired() and accountExpired() judge at the run's day, as login does", () => {
  const e = (over: Partial<ShadowEntry>): ShadowEntry => ({
    status: "set",
    lastChange: 20000,
    maxAge: 90,
    expires: null,
    ...over,
  });
  const at = (day: number) => day * DAY + 3_600_000;
  assert.equal(passwordExpired(e({}), at(20089)), false);
  assert.equal(passwordExpired(e({}), at(20090)), true, "on the day it reaches its maximum age");
  assert.equal(passwordExpired(e({ maxAge: null }), at(30000)), false, "no maximum age");
  assert.equal(passwordExpired(e({ lastChange: 0 }), undefined), true, "a forced change needs no date");
  assert.equal(passwordExpired(e({}), undefined), null, "no date given: not judged");
  assert.equal(accountExpired(e({ expires: 20100 }), at(20099)), false);
  assert.equal(accountExpired(e({ expires: 20100 }), at(20100)), true);
  assert.equal(accountExpired(e({ expires: 1 }), at(20000)), true, "usermod --expiredate 1 disables");
  assert.equal(accountExpired(e({}), at(20000)), false);
  assert.equal(accountExpired(e({ expires: 20100 }), undefined), null);
  assert.equal(dayText(20000), "2024-10-04");
});
