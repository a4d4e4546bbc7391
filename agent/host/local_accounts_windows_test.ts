// Local users and groups of the running Windows machine (Windows Deno, natively or under Wine).
import assert from "node:assert/strict";
import { named, SKIP } from "../../test/windows/seed.ts";
import { localAccounts } from "./local_accounts_windows.ts";

/** `DOMAIN\name` of the user running this test, as whoami.exe (an independent reader) says. */
async function whoami(): Promise<{ domain: string; name: string }> {
  const o = await new Deno.Command("whoami", { stdout: "piped", stderr: "null" }).output();
  const [domain, name] = new TextDecoder().decode(o.stdout).trim().split("\\");
  return { domain, name };
}

Deno.test({
  name: named("localAccounts() lists the running user with its RID, and the Administrators group by its SID"),
  ignore: !!SKIP,
  async fn() {
    const me = await whoami();
    const accounts = localAccounts();
    assert.equal(accounts.domain().toUpperCase(), me.domain.toUpperCase());
    const users = accounts.users();
    console.log(`users: ${users.map((u) => `${u.name} (RID ${u.rid}, flags 0x${u.flags.toString(16)})`)}`);
    const mine = users.find((u) => u.name.toUpperCase() === me.name.toUpperCase());
    assert.ok(mine, `${me.name} is listed`);
    assert.ok(mine.rid >= 500, `a real RID (${mine.rid})`);
    assert.equal(mine.flags & 0x2, 0, "the running user is not disabled");
    const groups = accounts.groups();
    console.log(`groups listed: ${groups.map((g) => `${g.name} ${g.sid}`)}`);
    for (const g of groups) assert.match(g.sid ?? "", /^S-1-5-/);
    const admins = accounts.group("S-1-5-32-544");
    assert.ok(admins, "Administrators is found by its SID");
    assert.equal(admins.sid, "S-1-5-32-544");
    console.log(`${admins.name}: ${admins.members}`);
    assert.ok(
      admins.members.some((m) => m.split("\\").pop()!.toUpperCase() === me.name.toUpperCase()),
      "Wine runs its user as an administrator",
    );
    assert.equal(accounts.group("S-1-5-32-9999"), null, "no such group");
  },
});
