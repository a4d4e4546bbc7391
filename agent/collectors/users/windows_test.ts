import assert from "node:assert/strict";
import { fakeHost, type FakeHostOptions } from "../../../test/fake_host.ts";
import { memoryLogger } from "../../log.ts";
import { settingsSchema } from "../../config/dcr.ts";
import users from "./mod.ts";

const run = async (accounts: FakeHostOptions["accounts"]) =>
  (await users.collect(settingsSchema("windows").parse({}), {
    host: fakeHost({ os: "windows", accounts }),
    signal: new AbortController().signal,
    log: memoryLogger(),
  })).items;

Deno.test("the live Windows path: local members by the machine's domain, others kept on the group, Administrators by SID", async () => {
  const items = await run({
    domain: "PC1",
    users: [
      { name: "Administrator", fullName: "", rid: 500, flags: 0x203 },
      { name: "alice", fullName: "Alice L.", rid: 1001, flags: 0x200 },
      { name: "bob", fullName: "", rid: 1002, flags: 0x200 },
    ],
    groups: [
      // A German Windows: the group's name is its language's, its SID says what it is.
      {
        name: "Administratoren",
        comment: "",
        sid: "S-1-5-32-544",
        members: ["PC1\\Administrator", "pc1\\alice", "CORP\\bob", "CORP\\Domain Admins"],
      },
      {
        name: "Benutzer",
        comment: "",
        sid: "S-1-5-32-545",
        members: ["NT AUTHORITY\\INTERACTIVE", "PC1\\bob"],
      },
    ],
  });
  const by = new Map(items.map((i) => [`${i.Kind}:${i.Name}`, i]));
  const pick = (k: string) => {
    const i = by.get(k)!;
    return [i.Id, i.Groups, i.Admin, i.Disabled, i.OtherMembers];
  };
  assert.deepEqual(pick("user:Administrator"), [500, "Administratoren", true, true, null]);
  assert.deepEqual(pick("user:alice"), [1001, "Administratoren", true, false, null]);
  assert.deepEqual(pick("user:bob"), [1002, "Benutzer", false, false, null], "CORP\\bob is another bob");
  assert.deepEqual(pick("group:Administratoren"), [544, null, true, null, "CORP\\Domain Admins, CORP\\bob"]);
  assert.deepEqual(pick("group:Benutzer"), [545, null, false, null, "NT AUTHORITY\\INTERACTIVE"]);
  assert.equal(by.get("user:alice")?.FullName, "Alice L.");
});

Deno.test("the live Windows path finds Administrators by its SID when the group list lacks it (Wine)", async () => {
  const items = await run({
    domain: "VM",
    users: [{ name: "root", fullName: "", rid: 1000, flags: 0x200 }],
    groups: [],
    unlisted: [{ name: "Administrators", comment: "", sid: "S-1-5-32-544", members: ["root"] }],
  });
  assert.deepEqual(items.map((i) => [i.Kind, i.Name, i.Admin, i.Groups]), [
    ["group", "Administrators", true, null],
    ["user", "root", true, "Administrators"],
  ]);
  const none = await run({
    domain: "VM",
    users: [{ name: "x", fullName: "", rid: 1000, flags: 0 }],
    groups: [],
  });
  assert.equal(none[0].Admin, null, "no Administrators group found: not known");
});
