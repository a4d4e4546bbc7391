// The kernel_modules collector: a fixture machine read with --root (items exact, and equal to lsmod shown the same
// /proc/modules in a mount namespace of its own), this machine's kernel against lsmod, a module upgraded (one
// Modified) and unloaded (one Removed), and --once, --config and AMA's streams end to end.
import assert from "node:assert/strict";
import { join } from "node:path";
import { liveHost } from "../../host/mod.ts";
import { memoryLogger } from "../../log.ts";
import { settingsSchema } from "../../config/dcr.ts";
import { openDb } from "../../../db/open.ts";
import { runCollector } from "../../pipeline/run.ts";
import { main } from "../../cli.ts";
import { capture } from "../../../test/e2e_helpers.ts";
import { startFakeAma } from "../../../test/fake_ama.ts";
import { COLLECTORS } from "../mod.ts";
import type { ModuleItem } from "./item.ts";
import modules from "./mod.ts";

const MACHINE = new URL("./testdata/machine", import.meta.url).pathname;
const settings = settingsSchema("linux").parse({});
const collect = (root: string) =>
  modules.collect(settings, {
    host: liveHost({ root, hostname: "fixture" }),
    signal: new AbortController().signal,
    log: memoryLogger("debug"),
  });

const onPath = (tool: string) =>
  new Deno.Command("sh", { args: ["-c", `command -v ${tool}`], stdout: "null" }).outputSync().success;

/** lsmod's table: name → size, count and users (sorted: lsmod lists them in /sys's directory order). */
function parseLsmod(text: string): Map<string, [number, number, string[]]> {
  const rows = text.trim().split("\n").slice(1).filter(Boolean).map((l) => l.trim().split(/\s+/));
  return new Map(rows.map(([name, size, count, users]) => [
    name,
    [Number(size), Number(count), users ? users.split(",").sort() : []],
  ]));
}

const ourTable = (items: ModuleItem[]) =>
  new Map(
    items.filter((i) => i.Kind === "module").map((i) => [
      i.Module,
      [i.Size, i.RefCount, i.UsedBy ? i.UsedBy.split(", ").sort() : []] as [number, number, string[]],
    ]),
  );

const F = "ctagent fixture signing key";
const file = (rel: string) => `/lib/modules/6.1.0-ctagent/${rel}`;

Deno.test("kernel_modules reads a fixture machine with --root: /proc/modules, each module's file, the taint", async () => {
  const got = await collect(MACHINE);
  const none = {
    Size: null,
    RefCount: null,
    UsedBy: null,
    State: null,
    Taint: null,
    TaintMask: null,
    Path: null,
    Version: null,
    SrcVersion: null,
    License: null,
    Description: null,
    Signed: null,
    Signer: null,
    SigKey: null,
    SigHashAlgo: null,
    FileNote: null,
  };
  const row = (i: ModuleItem) => [
    i.Module,
    i.Size,
    i.RefCount,
    i.UsedBy,
    i.State,
    i.Taint,
    i.Path,
    i.Version,
    i.License,
    i.Signed,
    i.Signer,
    i.SigHashAlgo,
    i.FileNote,
  ];
  assert.deepEqual(got.items[0], {
    Kind: "taint",
    Module: "kernel",
    ...none,
    Taint: "POE",
    TaintMask: 12289,
    Version: "6.1.0-ctagent",
    Description:
      "proprietary module loaded; externally-built (out-of-tree) module loaded; unsigned module loaded",
  });
  assert.deepEqual(got.items.slice(1).map(row), [
    [
      "vendor",
      61440000,
      2,
      null,
      "Live",
      "POE",
      file("updates/dkms/vendor.ko"),
      "535.129.03",
      "Proprietary",
      false,
      null,
      null,
      null,
    ],
    [
      "zcrypt",
      16384,
      0,
      null,
      "Live",
      null,
      file("kernel/crypto/zcrypt.ko.zst"),
      "2.0",
      "GPL",
      true,
      F,
      "sha256",
      null,
    ],
    [
      "signed_net",
      32768,
      1,
      "zcrypt",
      "Live",
      null,
      file("kernel/drivers/net/signed-net.ko"),
      null,
      "GPL v2",
      true,
      F,
      "sha256",
      null,
    ],
    [
      "plainfs",
      1003520,
      3,
      "signed_net, zcrypt",
      "Live",
      null,
      file("kernel/fs/plainfs/plainfs.ko"),
      "1.2.3",
      "GPL",
      false,
      null,
      null,
      null,
    ],
    [
      "gzmod",
      8192,
      0,
      null,
      "Loading",
      null,
      file("kernel/lib/gzmod.ko.gz"),
      "0.9-rc1",
      "Dual MIT/GPL",
      true,
      F,
      "sha512",
      null,
    ],
    [
      "xzmod",
      12288,
      0,
      null,
      "Live",
      null,
      file("kernel/sound/xzmod.ko.xz"),
      null,
      null,
      null,
      null,
      null,
      "xz-compressed: ctagent has no xz decoder, so its version and signature are not read",
    ],
    [
      "ghost",
      4096,
      0,
      null,
      "Live",
      "O",
      null,
      null,
      null,
      null,
      null,
      null,
      "not in /lib/modules/6.1.0-ctagent/modules.dep: its file is not known",
    ],
  ]);
  assert.deepEqual(got.unseen, []);
});

const LSMOD_SKIP = Deno.uid() === 0 && onPath("unshare") && onPath("lsmod")
  ? ""
  : " (SKIPPED: needs root, unshare and lsmod from kmod)";

Deno.test({
  name:
    "kernel_modules equals lsmod shown the fixture's /proc/modules (bound over /proc in a mount namespace of its own)" +
    LSMOD_SKIP,
  ignore: !!LSMOD_SKIP,
  async fn() {
    // lsmod takes counts and users from /sys/module/<name>/{refcnt,holders}: the kernel's view of the same
    // modules, written here from the fixture's lines as the kernel keeps both.
    const sys = await Deno.makeTempDir({ prefix: "ctagent-sys-" });
    try {
      for (const line of Deno.readTextFileSync(join(MACHINE, "proc/modules")).trim().split("\n")) {
        const [name, , count, users] = line.split(" ");
        await Deno.mkdir(join(sys, "module", name, "holders"), { recursive: true });
        await Deno.writeTextFile(join(sys, "module", name, "refcnt"), `${count}\n`);
        for (const user of users === "-" ? [] : users.split(",").filter(Boolean)) {
          await Deno.symlink(`../../${user}`, join(sys, "module", name, "holders", user));
        }
      }
      const out = await new Deno.Command("unshare", {
        args: [
          "-m",
          "sh",
          "-c",
          'mount --bind "$0/proc" /proc && mount --bind "$1" /sys && exec lsmod',
          MACHINE,
          sys,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const lsmod = new TextDecoder().decode(out.stdout);
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      assert.equal(parseLsmod(lsmod).size, 7, lsmod);
      assert.deepEqual(ourTable((await collect(MACHINE)).items), parseLsmod(lsmod));
    } finally {
      await Deno.remove(sys, { recursive: true });
    }
  },
});

const HAVE_MODULES = (() => {
  try {
    Deno.statSync("/proc/modules");
    return true;
  } catch {
    return false;
  }
})();
const LIVE_SKIP = !onPath("lsmod")
  ? " (SKIPPED: needs lsmod from kmod)"
  : HAVE_MODULES
  ? ""
  : " (this machine's kernel has no /proc/modules: it loads no modules, as in a container or a VM built without them; so both are empty here and the fixture tests above stand in)";

Deno.test({
  name: "kernel_modules equals lsmod on this machine" + LIVE_SKIP,
  ignore: LIVE_SKIP.includes("SKIPPED"),
  async fn() {
    const got = await collect("/");
    const out = await new Deno.Command("lsmod", { stdout: "piped", stderr: "piped" }).output();
    if (!HAVE_MODULES) {
      assert.ok(!out.success, "lsmod fails too: could not open /proc/modules");
      assert.deepEqual(got.items.filter((i) => i.Kind === "module"), []);
      assert.deepEqual(got.unseen, ["module:"], "nothing known, so nothing reported Removed");
      assert.equal(got.items[0]?.Kind, "taint", "the taint is read all the same");
      return;
    }
    // Names, sizes and users (counts move with every mount and open between the two reads).
    const strip = (t: Map<string, [number, number, string[]]>) =>
      new Map([...t].map(([n, [s, , u]]) => [n, [s, u]]));
    assert.deepEqual(strip(ourTable(got.items)), strip(parseLsmod(new TextDecoder().decode(out.stdout))));
  },
});

Deno.test("kernel_modules: a module upgraded on disk is one Modified (Version), a count moving none, an unloaded one Removed", async () => {
  const root = await Deno.makeTempDir({ prefix: "ctagent-modules-" });
  const opened = await openDb(join(root, "state.db"));
  try {
    await new Deno.Command("cp", { args: ["-a", `${MACHINE}/.`, `${root}/machine`] }).output();
    const m = join(root, "machine");
    const run = async () =>
      (await runCollector({
        ...opened,
        collector: modules,
        settings,
        host: liveHost({ root: m, hostname: "fixture" }),
        log: memoryLogger("debug"),
        signal: new AbortController().signal,
      })).changes.map((c) => [c.ChangeCategory, c.Module, c.FieldsChanged ?? "", c.Current ?? ""]);
    assert.deepEqual(await run(), []);
    // vendor's file replaced by plainfs's (another version, licence, description); zcrypt's count moves.
    const proc = join(m, "proc/modules");
    const text = Deno.readTextFileSync(proc);
    Deno.writeTextFileSync(proc, text.replace("zcrypt 16384 0 -", "zcrypt 16384 5 -"));
    Deno.copyFileSync(
      join(m, "lib/modules/6.1.0-ctagent/kernel/fs/plainfs/plainfs.ko"),
      join(m, "lib/modules/6.1.0-ctagent/updates/dkms/vendor.ko"),
    );
    assert.deepEqual(await run(), [[
      "Modified",
      "vendor",
      "Description, License, SrcVersion, Version",
      "1.2.3",
    ]]);
    Deno.writeTextFileSync(proc, Deno.readTextFileSync(proc).replace(/^ghost .*\n/m, ""));
    assert.deepEqual(await run(), [["Removed", "ghost", "", ""]]);
    // /proc/modules gone (an image with no running kernel): nothing is known, nothing Removed.
    Deno.removeSync(proc);
    assert.deepEqual(await run(), []);
  } finally {
    await opened.close();
    await Deno.remove(root, { recursive: true });
  }
});

/**
 * A `--config` file that switches off the other collectors ctagent's settings switch on (this root has no tree for
 * them), and this one too when `off`.
 */
async function ownSettings(dir: string, off = false): Promise<string[]> {
  const others = COLLECTORS.filter((c) => c.schedule.dcr === null && (off || c.name !== "kernel_modules"));
  const file = join(dir, off ? "off.json" : "agent.json");
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      collectors: Object.fromEntries(
        others.map((c) => [c.schedule.dcr === null ? c.schedule.setting : c.name, { enabled: false }]),
      ),
    }),
  );
  return ["--config", file];
}

Deno.test("--once: kernel modules go to --json on ctagent's own stream, never to AMA; --config switches them off", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ctagent-modules-" });
  const ama = await startFakeAma({
    settings: { enableSoftware: false, enableServices: false, enableFiles: false },
  });
  const once = async (args: string[]) => {
    const io = capture();
    const own = args.includes("--config") ? [] : await ownSettings(dir);
    const code = await main([
      ...own,
      "--once",
      "--data-dir",
      join(dir, "data"),
      "--root",
      MACHINE,
      "--no-ui",
      ...args,
    ], { io });
    return { code, out: io.outText(), err: io.errText() };
  };
  try {
    const first = await once([
      "--ama-config",
      ama.configEndpoint!,
      "--ama-data",
      ama.dataEndpoints[0],
      "--json",
    ]);
    assert.equal(first.code, 0, first.err);
    const rows = JSON.parse(first.out).inventory.kernel_modules;
    assert.deepEqual(rows.map((r: Record<string, unknown>) => [r.ConfigDataType, r.Module]).slice(0, 2), [
      ["KernelModules", "ghost"],
      ["KernelModules", "gzmod"],
    ]);
    assert.equal(rows.length, 8);
    assert.deepEqual(
      ama.received.filter((e) =>
        e.record.ConfigDataType === "KernelModules" || e.record.ConfigChangeType === "KernelModules"
      ),
      [],
      "AMA's tables have no such type",
    );
    const off = await once(["--no-ama", ...await ownSettings(dir, true)]);
    assert.match(off.out, /kernel_modules\s+skipped\s+disabled by ctagent's settings/);
  } finally {
    await ama.close();
    await Deno.remove(dir, { recursive: true });
  }
});
