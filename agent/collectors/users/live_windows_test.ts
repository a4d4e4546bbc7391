// The users collector on the running Windows machine (Windows Deno, natively or under Wine): netapi32's accounts.
import assert from "node:assert/strict";
import { named, SKIP } from "../../../test/windows/seed.ts";
import { liveHost } from "../../host/mod.ts";
import { memoryLogger } from "../../log.ts";
import { settingsSchema } from "../../config/dcr.ts";
import users from "./mod.ts";

Deno.test({
  name: named(
    "the users collector lists the live machine's users (Wine's), the running one an administrator",
  ),
  ignore: !!SKIP,
  async fn() {
    const o = await new Deno.Command("whoami", { stdout: "piped", stderr: "null" }).output();
    const me = new TextDecoder().decode(o.stdout).trim().split("\\").pop()!;
    const { items, warnings } = await users.collect(settingsSchema("windows").parse({}), {
      host: liveHost(),
      signal: new AbortController().signal,
      log: memoryLogger(),
      now: Date.now(),
    });
    console.log(
      items.map((i) => `${i.Kind} ${i.Name} (${i.Id}) admin=${i.Admin} groups=${i.Groups}`).join("\n"),
    );
    assert.equal(warnings, undefined);
    const mine = items.find((i) => i.Kind === "user" && i.Name.toUpperCase() === me.toUpperCase());
    assert.ok(mine, `${me} (whoami) is listed`);
    assert.deepEqual([mine.Admin, mine.Disabled], [true, false]);
    assert.ok(mine.Groups?.split(", ").length, "its groups are named");
    assert.ok(items.some((i) => i.Kind === "group" && i.Id === 544 && i.Admin), "Administrators, by its RID");
  },
});
