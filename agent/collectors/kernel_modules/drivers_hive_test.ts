// Windows drivers from the SYSTEM hive of an image under --root (any OS): the same reader as Windows services.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  hivexExport,
  named,
  SHARED_HIVES,
  sharedHive,
  skipReason,
} from "../../host/registry/testdata/hives.ts";
import { liveHost } from "../../host/mod.ts";
import { memoryLogger } from "../../log.ts";
import { settingsSchema } from "../../config/dcr.ts";
import { readWindowsServices } from "../services/windows.ts";
import type { ModuleItem } from "./item.ts";
import modules from "./mod.ts";
import { DRIVER_FILE_NOTE } from "./windows.ts";

/** A Windows image holding only `hive` as its SYSTEM hive. */
async function imageWith(hive: string): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "ctagent-drivers-" });
  await Deno.mkdir(join(root, "Windows/System32/config"), { recursive: true });
  await Deno.copyFile(hive, join(root, "Windows/System32/config/SYSTEM"));
  return root;
}

const collect = async (root: string) =>
  await modules.collect(settingsSchema("windows").parse({}), {
    host: liveHost({ root, os: "windows", hostname: "image" }),
    signal: new AbortController().signal,
    log: memoryLogger("debug"),
  });

/**
 * The kernel (Type 1) and file system (Type 2) drivers of `hivexregedit --export HIVE KEY`'s text, KEY being a
 * Services key: its subkeys (the first header is KEY itself, as the hive spells it) with their Type.
 */
function driversIn(reg: string): Map<string, number> {
  const out = new Map<string, number>();
  let services: string | null = null;
  let key: string | null = null;
  for (const line of reg.split("\n")) {
    if (line.startsWith("[") && services === null) services = line.slice(1, -1) + "\\";
    else if (line.startsWith("[") && services !== null) {
      const sub = line.slice(1, -1);
      key = sub.startsWith(services) && !sub.slice(services.length).includes("\\")
        ? sub.slice(services.length)
        : null;
    }
    const type = key && line.match(/^"Type"=dword:([0-9a-f]{8})$/);
    if (type && parseInt(type[1], 16) & 0x3) out.set(key!, parseInt(type[1], 16));
  }
  return out;
}

Deno.test({
  name: named(
    "kernel_modules lists the drivers of the real Windows 7 SYSTEM hive under --root: the names and types hivexregedit finds",
    skipReason({ xz: true, hivex: true }),
  ),
  ignore: !!skipReason({ xz: true, hivex: true }),
  async fn() {
    const file = await sharedHive("SYSTEM_win7sp1_x86.xz");
    const root = await imageWith(file);
    try {
      const { items, warnings } = await collect(root);
      assert.deepEqual(warnings, []);
      // Select\Current is 1: CurrentControlSet is ControlSet001.
      const reg = new TextDecoder("latin1").decode(await hivexExport(file, "\\ControlSet001\\Services"));
      const theirs = driversIn(reg);
      // PROVENANCE.md: Type 1 = 230 and Type 2 = 25 in ControlSet001\Services.
      assert.equal(theirs.size, 230 + 25);
      const kind = (t: number) => t & 0x2 ? "File system driver" : "Kernel driver";
      assert.deepEqual(
        items.map((i) => `${i.Module}|${i.DriverType}`).sort(),
        [...theirs].map(([name, type]) => `${name}|${kind(type)}`).sort(),
      );
      assert.ok(items.every((i) => i.Kind === "driver" && i.State === "Unknown" && !i.error));
      const services = (await readWindowsServices(liveHost({ root, os: "windows" }))).items;
      assert.deepEqual(
        services.filter((s) => theirs.has(s.SvcName)).map((s) => s.SvcName),
        [],
        "a driver is not a service",
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: named(
    "kernel_modules reads a driver's image path, start type and state from an image's SYSTEM hive",
    skipReason(),
  ),
  ignore: !!skipReason(),
  async fn() {
    const root = await imageWith(`${SHARED_HIVES}synthetic/SYSTEM.hive`);
    try {
      const { items } = await collect(root);
      assert.deepEqual(items, [
        {
          Kind: "driver",
          Module: "Tcpip",
          Size: null,
          RefCount: null,
          UsedBy: null,
          State: "Unknown",
          Taint: null,
          TaintMask: null,
          Path: "System32\\drivers\\tcpip.sys",
          Version: null,
          SrcVersion: null,
          License: null,
          Description: null,
          Signed: null,
          Signer: null,
          SigKey: null,
          SigHashAlgo: null,
          FileNote: DRIVER_FILE_NOTE,
          DisplayName: "@%SystemRoot%\\system32\\tcpipcfg.dll,-50003",
          DriverType: "Kernel driver",
          StartType: "Boot",
        } satisfies ModuleItem,
      ]);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
