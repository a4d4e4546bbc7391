// Windows services through the live Service Control Manager (Windows Deno, natively or under Wine).
import assert from "node:assert/strict";
import { named, sc, setDelayedAutoStart, SKIP } from "../../../test/windows/seed.ts";
import { liveHost } from "../../host/mod.ts";
import { readWindowsServices } from "./windows.ts";

Deno.test({
  name: named("readWindowsServices() reads seeded services with their startup types from the SCM"),
  ignore: !!SKIP,
  async fn() {
    const names = ["ctagent_t_auto", "ctagent_t_delayed", "ctagent_t_manual", "ctagent_t_disabled"];
    for (const n of names) await sc(["delete", n], true);
    await sc([
      "create",
      names[0],
      "binPath=",
      "C:\\ctagent\\svc.exe --auto",
      "start=",
      "auto",
      "DisplayName=",
      "Ctagent Auto",
    ]);
    await sc(["create", names[1], "binPath=", "C:\\ctagent\\svc.exe", "start=", "auto"]);
    const how = await setDelayedAutoStart(names[1], true);
    console.log(`delayed auto-start seeded through the ${how}`);
    await sc(["create", names[2], "binPath=", "C:\\ctagent\\svc.exe", "start=", "demand"]);
    await sc(["create", names[3], "binPath=", "C:\\ctagent\\svc.exe", "start=", "disabled"]);
    await sc(["description", names[0], "Seeded by ctagent's tests — ünïcode"]);
    try {
      const { items } = await readWindowsServices(liveHost());
      const by = new Map(items.map((i) => [i.SvcName, i]));
      assert.deepEqual(by.get(names[0]), {
        SvcName: names[0],
        SvcDisplayName: "Ctagent Auto",
        SvcDescription: "Seeded by ctagent's tests — ünïcode",
        SvcState: "Stopped",
        SvcStartupType: "Auto",
        SvcAccount: "LocalSystem",
        SvcPath: "C:\\ctagent\\svc.exe --auto",
        SvcController: "windows",
        SvcRunlevels: "",
        DelayedAutoStart: false,
      });
      assert.deepEqual([by.get(names[1])?.SvcStartupType, by.get(names[1])?.DelayedAutoStart], [
        "Auto",
        true,
      ]);
      assert.equal(by.get(names[2])?.SvcStartupType, "Manual");
      assert.equal(by.get(names[3])?.SvcStartupType, "Disabled");
      assert.ok(items.length > names.length, "Wine's own services are listed too");
      assert.ok(items.some((i) => i.SvcState === "Running"));
    } finally {
      for (const n of names) await sc(["delete", n], true);
    }
  },
});
