// Windows drivers on the running machine (Windows Deno, natively or under Wine): the SCM's kernel and file system
// drivers, from the same reader as the services collector.
import assert from "node:assert/strict";
import { named, sc, SKIP } from "../../../test/windows/seed.ts";
import { liveHost } from "../../host/mod.ts";
import { memoryLogger } from "../../log.ts";
import { settingsSchema } from "../../config/dcr.ts";
import { readWindowsServices } from "../services/windows.ts";
import modules from "./mod.ts";
import { DRIVER_FILE_NOTE } from "./windows.ts";

Deno.test({
  name: named(
    "kernel_modules lists the SCM's drivers: seeded kernel and file system drivers with their path, start type and state, none of them a service",
  ),
  ignore: !!SKIP,
  async fn() {
    const kernel = "ctagent_t_drv", fs = "ctagent_t_fsd";
    for (const n of [kernel, fs]) await sc(["delete", n], true);
    await sc([
      "create",
      kernel,
      "type=",
      "kernel",
      "start=",
      "demand",
      "binPath=",
      "C:\\ctagent\\drv.sys",
      "DisplayName=",
      "Ctagent test driver",
    ]);
    await sc(["create", fs, "type=", "filesys", "start=", "disabled", "binPath=", "C:\\ctagent\\fsd.sys"]);
    try {
      const { items, warnings } = await modules.collect(settingsSchema("windows").parse({}), {
        host: liveHost(),
        signal: new AbortController().signal,
        log: memoryLogger("debug"),
      });
      console.log(
        items.map((i) => `${i.Module} ${i.DriverType} ${i.StartType} ${i.State} ${i.Path}`).join("\n"),
      );
      assert.deepEqual(warnings, []);
      const by = new Map(items.map((i) => [i.Module, i]));
      const fields = (name: string) => {
        const i = by.get(name);
        return i && [i.Kind, i.DisplayName, i.DriverType, i.StartType, i.State, i.Path, i.FileNote, i.error];
      };
      assert.deepEqual(fields(kernel), [
        "driver",
        "Ctagent test driver",
        "Kernel driver",
        "Manual",
        "Stopped",
        "C:\\ctagent\\drv.sys",
        DRIVER_FILE_NOTE,
        undefined,
      ]);
      assert.deepEqual(fields(fs), [
        "driver",
        fs,
        "File system driver",
        "Disabled",
        "Stopped",
        "C:\\ctagent\\fsd.sys",
        DRIVER_FILE_NOTE,
        undefined,
      ]);
      assert.ok(items.every((i) => i.Kind === "driver"));
      assert.ok(items.some((i) => i.State === "Running"), "Wine's own drivers run (winedevice.exe)");
      const services = new Set((await readWindowsServices(liveHost())).items.map((s) => s.SvcName));
      assert.deepEqual(
        items.filter((i) => services.has(i.Module)).map((i) => i.Module),
        [],
        "no driver is a service",
      );
      assert.ok(services.size > 0);
    } finally {
      for (const n of [kernel, fs]) await sc(["delete", n], true);
    }
  },
});
