import assert from "node:assert/strict";
import { dirname } from "node:path";
import { liveHost } from "../../host/mod.ts";
import { readUnits, systemd } from "./systemd.ts";
import { parseListUnits } from "../../host/systemd/manager.ts";
import { scanUnitTree, unitFileState } from "../../host/systemd/unit_tree.ts";
import type { ServiceItem } from "./types.ts";
import type { Host } from "../../host/mod.ts";

function systemctl(args: string[]): string | null {
  try {
    const out = new Deno.Command("systemctl", { args, stdout: "piped", stderr: "null" }).outputSync();
    return out.success ? new TextDecoder().decode(out.stdout) : null;
  } catch {
    return null;
  }
}
const HAVE_SYSTEMCTL = systemctl(["--version"]) !== null;
if (!HAVE_SYSTEMCTL) {
  console.warn("systemd_test.ts: SKIPPED the comparisons with systemctl: `systemctl` absent");
}

/** `systemctl list-unit-files --type=service` as "name state" lines, sorted. */
function listUnitFiles(root?: string): string[] {
  const args = ["list-unit-files", "--type=service", "--no-legend", "--no-pager"];
  if (root) args.unshift(`--root=${root}`);
  const out = systemctl(args);
  if (out === null) throw new Error(`systemctl ${args.join(" ")} failed`);
  return out.split("\n").filter(Boolean).map((l) => l.split(/\s+/).slice(0, 2).join(" ")).sort();
}

const UNIT = (desc: string, body = "", install = "") =>
  `[Unit]\nDescription=${desc}\n\n[Service]\n${body}\n${install ? `\n[Install]\n${install}\n` : ""}`;

/** A unit-file tree with one unit per enablement state systemd knows, plus drop-ins. Paths are machine paths. */
const TREE: Record<string, string | { link: string }> = {
  // enabled through a .wants link in /etc, with an Alias= link (the alias itself lists as "alias")
  "/lib/systemd/system/web.service": UNIT(
    "Web server",
    "Type=simple\nExecStart=/usr/bin/web --port 80 \\\n  --verbose\nUser=nobody",
    "WantedBy=multi-user.target\nAlias=www.service",
  ),
  "/etc/systemd/system/multi-user.target.wants/web.service": { link: "/lib/systemd/system/web.service" },
  "/etc/systemd/system/www.service": { link: "/lib/systemd/system/web.service" },
  // drop-ins: /etc overrides User and resets ExecStart; a /lib drop-in is masked by a /dev/null one in /etc
  "/etc/systemd/system/web.service.d/10-user.conf":
    "[Service]\nUser=www-data\nExecStart=\nExecStart=-/opt/web/bin/web2 --flag\n",
  "/lib/systemd/system/web.service.d/20-group.conf": "[Service]\nUser=shadowed\n",
  "/etc/systemd/system/web.service.d/20-group.conf": { link: "/dev/null" },
  // disabled: has [Install] but no link
  "/lib/systemd/system/idle.service": UNIT("Idle", "ExecStart=/usr/bin/idle", "WantedBy=multi-user.target"),
  // static: no [Install]
  "/lib/systemd/system/helper.service": UNIT("Helper", "ExecStart=/usr/libexec/helper"),
  // masked in /etc (symlink to /dev/null) over a vendor unit, masked by an empty file, masked at runtime
  "/lib/systemd/system/old.service": UNIT("Old", "ExecStart=/usr/bin/old", "WantedBy=multi-user.target"),
  "/etc/systemd/system/old.service": { link: "/dev/null" },
  "/etc/systemd/system/empty.service": "",
  "/run/systemd/system/gone.service": { link: "/dev/null" },
  // enabled at runtime only
  "/lib/systemd/system/rt.service": UNIT("Runtime", "ExecStart=/usr/bin/rt", "WantedBy=multi-user.target"),
  "/run/systemd/system/multi-user.target.wants/rt.service": { link: "/lib/systemd/system/rt.service" },
  // generated
  "/run/systemd/generator/gen.service": UNIT("Generated", "ExecStart=/usr/bin/gen"),
  // templates: enabled through DefaultInstance, indirect through another instance, static
  "/lib/systemd/system/tty@.service": UNIT(
    "TTY on %I",
    "ExecStart=-/sbin/agetty %I",
    "WantedBy=getty.target\nDefaultInstance=tty1",
  ),
  "/etc/systemd/system/getty.target.wants/tty@tty1.service": { link: "/lib/systemd/system/tty@.service" },
  "/lib/systemd/system/vpn@.service": UNIT(
    "VPN %i",
    "ExecStart=/usr/sbin/vpn --config %i",
    "WantedBy=multi-user.target",
  ),
  "/etc/systemd/system/multi-user.target.wants/vpn@office.service": {
    link: "/lib/systemd/system/vpn@.service",
  },
  "/lib/systemd/system/worker@.service": UNIT("Worker %i", "ExecStart=/usr/bin/worker %i"),
  // a vendor alias of a template
  "/lib/systemd/system/console@.service": { link: "tty@.service" },
  // indirect through Also=
  "/lib/systemd/system/sock-activated.service": UNIT(
    "Socket activated",
    "ExecStart=/usr/bin/sa",
    "Also=sa.socket",
  ),
  // linked: a unit file outside the search path
  "/opt/ext/ext.service": UNIT("External", "ExecStart=/opt/ext/bin/ext"),
  "/etc/systemd/system/ext.service": { link: "/opt/ext/ext.service" },
  // prefix and type-wide drop-ins; a quoted ExecStart path
  "/lib/systemd/system/app-worker.service": UNIT("App worker", 'ExecStart=@"/opt/app dir/worker" worker'),
  "/etc/systemd/system/app-.service.d/50-desc.conf": "[Unit]\nDescription=App worker (site)\n",
  "/etc/systemd/system/service.d/99-all.conf": "# applies to every service\n[Service]\nEnvironment=X=1\n",
  // bad: an alias whose target does not exist
  "/etc/systemd/system/dangling.service": { link: "/lib/systemd/system/missing.service" },
  // not services, not listed
  "/lib/systemd/system/sa.socket": "[Socket]\nListenStream=/run/sa.sock\n",
  "/lib/systemd/system/README": "not a unit",
  // systemctl --root resolves masks inside the root: an empty file stands in for the device there
  "/dev/null": "",
};

async function buildTree(root: string, tree = TREE): Promise<void> {
  for (const [path, content] of Object.entries(tree)) {
    await Deno.mkdir(dirname(root + path), { recursive: true });
    if (typeof content === "string") await Deno.writeTextFile(root + path, content, { createNew: true });
    else await Deno.symlink(content.link, root + path);
  }
}

async function withTree<T>(fn: (root: string) => Promise<T> | T, tree = TREE): Promise<T> {
  const root = await Deno.makeTempDir({ prefix: "ctagent-units-" });
  try {
    await buildTree(root, tree);
    return await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

const byName = (items: ServiceItem[]) => new Map(items.map((i) => [i.UnitName as string, i]));

Deno.test("readUnits() computes every enablement state systemd knows from a unit-file tree", async () => {
  await withTree((root) => {
    const items = byName(readUnits(scanUnitTree(liveHost({ root })), null));
    const states = Object.fromEntries([...items].map(([n, i]) => [n, i.SvcStartupType]));
    assert.deepEqual(states, {
      "app-worker.service": "static",
      "console@.service": "alias",
      "dangling.service": "bad",
      "empty.service": "masked",
      "ext.service": "linked",
      "gen.service": "generated",
      "gone.service": "masked-runtime",
      "helper.service": "static",
      "idle.service": "disabled",
      "old.service": "masked",
      "rt.service": "enabled-runtime",
      "sock-activated.service": "indirect",
      "tty@.service": "enabled",
      "vpn@.service": "indirect",
      "web.service": "enabled",
      "worker@.service": "static",
      "www.service": "alias",
    });
  });
});

Deno.test({
  name: "readUnits() agrees with `systemctl --root list-unit-files` on the test tree",
  ignore: !HAVE_SYSTEMCTL,
  async fn() {
    await withTree((root) => {
      const ours = readUnits(scanUnitTree(liveHost({ root })), null).map((i) =>
        `${i.UnitName} ${i.SvcStartupType}`
      );
      assert.deepEqual(ours.sort(), listUnitFiles(root));
    });
  },
});

Deno.test("readUnits() honours drop-ins, continuation lines and masked drop-ins", async () => {
  await withTree((root) => {
    const items = byName(readUnits(scanUnitTree(liveHost({ root })), null));
    const web = items.get("web.service")!;
    assert.equal(web.SvcName, "web");
    assert.equal(web.SvcDisplayName, "Web server");
    assert.equal(web.SvcAccount, "www-data");
    // The unit file, as FragmentPath; the program is in ExecStart (issue 15).
    assert.equal(web.SvcPath, "/lib/systemd/system/web.service");
    assert.equal(web.ExecStart, "-/opt/web/bin/web2 --flag");
    assert.equal(web.SvcRunlevels, "multi-user.target");
    assert.equal(web.SvcController, "systemd");
    assert.equal(web.SvcState, "Unknown");
    assert.equal(web.UnitFile, "/lib/systemd/system/web.service");
    assert.equal(
      web.DropIns,
      "/etc/systemd/system/web.service.d/10-user.conf /etc/systemd/system/service.d/99-all.conf",
    );
    const www = items.get("www.service")!;
    assert.equal(www.AliasOf, "web.service");
    assert.equal(www.SvcAccount, "www-data");
    const app = items.get("app-worker.service")!;
    assert.equal(app.SvcDescription, "App worker (site)");
    assert.equal(app.ExecStart, '@"/opt/app dir/worker" worker');
    assert.equal(app.SvcAccount, "root");
    const old = items.get("old.service")!;
    // Masked: the mask is the unit's fragment.
    assert.deepEqual([old.SvcPath, old.SvcDescription, old.SvcAccount, old.SvcRunlevels], [
      "/etc/systemd/system/old.service",
      "",
      "",
      "",
    ]);
    assert.match(String(items.get("dangling.service")!.Problem), /missing\.service/);
    assert.equal(items.get("dangling.service")!.error, undefined);
    assert.equal(items.get("ext.service")!.UnitFile, "/opt/ext/ext.service");
  });
});

Deno.test("readUnits() lists templates as templates, with the targets their instances are wanted by", async () => {
  await withTree((root) => {
    const items = byName(readUnits(scanUnitTree(liveHost({ root })), null));
    const tty = items.get("tty@.service")!;
    assert.equal(tty.SvcName, "tty@");
    assert.equal(tty.Template, true);
    assert.equal(tty.SvcRunlevels, "getty.target");
    assert.equal(items.get("vpn@.service")!.SvcRunlevels, "multi-user.target");
    assert.equal(items.get("web.service")!.Template, false);
    assert.ok(![...items.keys()].some((n) => /@.+\.service$/.test(n)), "no instance is listed");
  });
});

Deno.test("readUnits() takes SvcState from a running systemd, templates Running when an instance runs", async () => {
  await withTree((root) => {
    const runtime = parseListUnits(
      [
        "web.service          loaded active   running Web server",
        "● idle.service       loaded failed   failed  Idle",
        "tty@tty1.service     loaded active   running TTY on tty1",
        "helper.service       loaded active   exited  Helper",
        "gen.service          loaded reloading reload Generated",
        "rt.service           loaded activating start Runtime",
      ].join("\n"),
    );
    const items = byName(readUnits(scanUnitTree(liveHost({ root })), runtime));
    assert.equal(items.get("web.service")!.SvcState, "Running");
    assert.equal(items.get("www.service")!.SvcState, "Running");
    assert.deepEqual([items.get("idle.service")!.SvcState, items.get("idle.service")!.ActiveState], [
      "Stopped",
      "failed",
    ]);
    assert.equal(items.get("helper.service")!.SvcState, "Stopped");
    assert.equal(items.get("rt.service")!.SvcState, "Stopped");
    assert.equal(items.get("gen.service")!.SvcState, "Running");
    assert.equal(items.get("tty@.service")!.SvcState, "Running");
    assert.equal(items.get("vpn@.service")!.SvcState, "Stopped");
  });
});

Deno.test("readUnits() reads the same tree twice to the same items (no flapping)", async () => {
  await withTree((root) => {
    const a = readUnits(scanUnitTree(liveHost({ root })), null);
    const b = readUnits(scanUnitTree(liveHost({ root })), null);
    assert.deepEqual(a, b);
  });
});

Deno.test("unitFileState() follows a chain of aliases to the unit file", async () => {
  await withTree((root) => {
    const tree = scanUnitTree(liveHost({ root }));
    assert.equal(unitFileState(tree, "www.service"), "alias");
    assert.equal(unitFileState(tree, "web.service"), "enabled");
  });
});

Deno.test({
  name:
    "systemd source lists exactly the services `systemctl list-unit-files --type=service` shows on this machine",
  ignore: !HAVE_SYSTEMCTL,
  async fn() {
    const host = liveHost();
    assert.equal(await systemd.present(host), true);
    // Other work on this machine may install a package meanwhile: one retry on a mismatch.
    let theirs: string[] = [], ours: string[] = [], items: ServiceItem[] = [];
    for (let attempt = 0; attempt < 2; attempt++) {
      theirs = listUnitFiles();
      ({ items } = await systemd.read(host, new AbortController().signal));
      ours = items.map((i) => `${i.UnitName} ${i.SvcStartupType}`).sort();
      if (ours.join("\n") === theirs.join("\n")) break;
    }
    // Without templates, the set the real agent lists (SPEC §3.1) ...
    assert.deepEqual(ours.filter((l) => !l.includes("@")), theirs.filter((l) => !l.includes("@")));
    // ... and the templates as templates.
    assert.deepEqual(ours.filter((l) => l.includes("@")), theirs.filter((l) => l.includes("@")));
    for (const i of items) assert.ok(["Unknown", "Running", "Stopped"].includes(i.SvcState));
  },
});

/** The test tree seen as a live machine whose systemd runs, with `systemctl` answered by `answer`. */
function runningHost(root: string, answer: () => { code: number; stdout: string; stderr: string }): Host {
  const calls: string[][] = [];
  return Object.assign(
    {
      ...liveHost({ root }),
      root: "/",
      exec: (cmd: string, args: string[]) => {
        calls.push([cmd, ...args]);
        return Promise.resolve(answer());
      },
    },
    { calls },
  );
}

Deno.test("systemd source asks a running systemd for states once per run", async () => {
  await withTree(async (root) => {
    await Deno.mkdir(`${root}/run/systemd/system`, { recursive: true });
    const host = runningHost(
      root,
      () => ({ code: 0, stdout: "web.service loaded active running Web server\n", stderr: "" }),
    );
    const { items } = await systemd.read(host, new AbortController().signal);
    const web = items.find((i) => i.UnitName === "web.service")!;
    assert.equal(web.SvcState, "Running");
    assert.equal(items.find((i) => i.UnitName === "idle.service")!.SvcState, "Stopped");
    assert.deepEqual((host as unknown as { calls: string[][] }).calls.map((c) => c.slice(0, 2)), [[
      "systemctl",
      "list-units",
    ]]);
  });
});

Deno.test("systemd source fails the run rather than report every state Unknown when systemctl fails", async () => {
  await withTree(async (root) => {
    await Deno.mkdir(`${root}/run/systemd/system`, { recursive: true });
    let n = 0;
    const host = runningHost(
      root,
      () => ({ code: 1, stdout: "", stderr: `Failed to connect to bus (${++n})` }),
    );
    await assert.rejects(
      () => systemd.read(host, new AbortController().signal),
      /list-units exited with 1: Failed to connect to bus \(2\)/,
    );
  });
});
