import assert from "node:assert/strict";
import { liveHost } from "../../host/mod.ts";
import { memoryLogger } from "../../log.ts";
import { settingsSchema } from "../../config/dcr.ts";
import { servicesCollector } from "./mod.ts";
import { fakeHost } from "../../../test/fake_host.ts";
import { dataTypeOf, scheduleOf } from "../spec.ts";
import type { ServiceSource } from "./types.ts";

const ctx = (root: string) => ({
  host: liveHost({ root }),
  signal: new AbortController().signal,
  log: memoryLogger(),
});

async function tree(files: Record<string, string | { link: string }>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "ctagent-svc-" });
  for (const [p, c] of Object.entries(files)) {
    await Deno.mkdir(root + p.slice(0, p.lastIndexOf("/")), { recursive: true });
    if (typeof c === "string") await Deno.writeTextFile(root + p, c, { mode: 0o755, createNew: true });
    else await Deno.symlink(c.link, root + p);
  }
  return root;
}

Deno.test("servicesCollector() reads systemd units when the image boots systemd, even with init.d scripts", async () => {
  const root = await tree({
    "/sbin/init": { link: "/lib/systemd/systemd" },
    "/lib/systemd/system/ssh.service":
      "[Unit]\nDescription=OpenSSH\n[Service]\nExecStart=/usr/sbin/sshd -D\n",
    "/etc/init.d/ssh": "#!/bin/sh\n",
  });
  try {
    const c = servicesCollector();
    const settings = settingsSchema("linux").parse({});
    const { items } = await c.collect(settings, ctx(root));
    assert.deepEqual(items.map((i) => [i.SvcName, i.SvcController, i.SvcState]), [[
      "ssh",
      "systemd",
      "Unknown",
    ]]);
    assert.equal(c.key(items[0]), "ssh");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("servicesCollector() reads SysV scripts on a machine without systemd", async () => {
  const root = await tree({ "/sbin/init": "ELF", "/etc/init.d/ssh": "#!/bin/sh\n" });
  try {
    const { items } = await servicesCollector().collect(settingsSchema("linux").parse({}), ctx(root));
    assert.deepEqual(items.map((i) => [i.SvcName, i.SvcController]), [["ssh", "init"]]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("servicesCollector() keeps previous items when no controller is found", async () => {
  const root = await Deno.makeTempDir();
  try {
    const r = await servicesCollector().collect(settingsSchema("linux").parse({}), ctx(root));
    assert.deepEqual(r.items, []);
    assert.deepEqual(r.unseen, [""]);
    assert.match(r.warnings![0], /no known service controller/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("servicesCollector() names its data type per OS and follows the DCR schedule", () => {
  const c = servicesCollector();
  assert.equal(dataTypeOf(c, "linux"), "Daemons");
  assert.equal(dataTypeOf(c, "windows"), "WindowsServices");
  assert.deepEqual(c.volatile, ["ActiveState"]);
  const on = settingsSchema("linux").parse({ servicesSettings: { serviceCollectionFrequency: 60 } });
  assert.deepEqual(scheduleOf(c, on), { enabled: true, frequency: 60 });
  const off = settingsSchema("windows").parse({ enableServices: false });
  assert.deepEqual(scheduleOf(c, off), { enabled: false, frequency: 1800 });
});

Deno.test("servicesCollector() reads only the sources made for the host's OS", async () => {
  const read: string[] = [];
  const fake = (controller: string, platforms: ("linux" | "windows")[]): ServiceSource => ({
    controller,
    platforms,
    present: () => Promise.resolve(true),
    read: () => {
      read.push(controller);
      return Promise.resolve({ items: [], warnings: [] });
    },
  });
  const c = servicesCollector([fake("windows", ["windows"]), fake("systemd", ["linux"])]);
  await c.collect(settingsSchema("linux").parse({}), { ...ctx("/"), host: { ...liveHost(), os: "linux" } });
  assert.deepEqual(read, ["systemd"]);
});

Deno.test("servicesCollector() on a fake host: SysV scripts, their LSB headers and rc links, no systemd", async () => {
  const script = (desc: string) => ({
    data: `#!/bin/sh\n### BEGIN INIT INFO\n# Short-Description: ${desc}\n### END INIT INFO\n`,
    mode: 0o755,
  });
  const host = fakeHost({
    files: {
      "/sbin/init": "ELF",
      "/etc/init.d/ssh": script("OpenBSD Secure Shell server"),
      "/etc/init.d/cron": script("Regular background program processing daemon"),
      "/etc/init.d/README": "not a service (not executable)",
      "/etc/rc2.d/S01ssh": { link: "../init.d/ssh" },
      "/etc/rc0.d/K01ssh": { link: "../init.d/ssh" },
    },
  });
  const { items } = await servicesCollector().collect(settingsSchema("linux").parse({}), {
    ...ctx("/"),
    host,
  });
  assert.deepEqual(items.map((i) => [i.SvcName, i.SvcDisplayName, i.SvcStartupType, i.SvcRunlevels]), [
    ["cron", "Regular background program processing daemon", "disabled", ""],
    ["ssh", "OpenBSD Secure Shell server", "enabled", "0:off 2:on"],
  ]);
});

Deno.test("servicesCollector() on a fake Windows host: the SCM's services with their startup types", async () => {
  const svc = (name: string, start: number | null, delayed = false, error?: string) => ({
    name,
    type: 0x10,
    displayName: `${name} service`,
    description: "",
    state: 4,
    start,
    delayed,
    path: `C:\\${name}.exe`,
    account: "LocalSystem",
    ...(error ? { error } : {}),
  });
  const host = fakeHost({
    os: "windows",
    scm: [svc("a", 2, true), svc("b", 3), svc("c", null, false, "QueryServiceConfig failed")],
  });
  const { items, warnings } = await servicesCollector().collect(settingsSchema("windows").parse({}), {
    ...ctx("/"),
    host,
  });
  // WMI's StartMode (issue 15): Auto, the delay in DelayedAutoStart.
  assert.deepEqual(items.map((i) => [i.SvcName, i.SvcState, i.SvcStartupType, i.DelayedAutoStart, i.error]), [
    ["a", "Running", "Auto", true, undefined],
    ["b", "Running", "Manual", false, undefined],
    ["c", "Running", "Unknown", false, "QueryServiceConfig failed"],
  ]);
  assert.deepEqual(warnings, ["1 services whose configuration could not be read"]);
});

const linuxSettings = settingsSchema("linux").parse({});
const sysvScript = { data: "#!/bin/sh\n", mode: 0o755 };
const collectFake = (host: ReturnType<typeof fakeHost>) =>
  servicesCollector().collect(linuxSettings, { ...ctx("/"), host })
    .then((r) => ({ ...r, failed: null as string | null }))
    .catch((e: Error) => ({ items: [], unseen: [], warnings: [], failed: e.message }));

Deno.test("SysV: a script that is there but cannot be stat'ed is kept with its error, never dropped", async () => {
  const host = fakeHost({
    files: { "/sbin/init": "ELF", "/etc/init.d/ssh": sysvScript, "/etc/init.d/cron": sysvScript },
    failing: { "/etc/init.d/cron": "EIO" },
  });
  const r = await collectFake(host);
  assert.equal(r.failed, null);
  assert.deepEqual(r.items.map((i) => [i.SvcName, i.error ?? null]), [
    ["cron", "cannot stat /etc/init.d/cron: EIO: stat '/etc/init.d/cron'"],
    ["ssh", null],
  ]);
});

Deno.test("SysV: a runlevel directory that cannot be listed fails the run instead of changing every service", async () => {
  const host = fakeHost({
    files: {
      "/sbin/init": "ELF",
      "/etc/init.d/ssh": sysvScript,
      "/etc/rc2.d/S01ssh": { link: "../init.d/ssh" },
    },
    failing: { "/etc/rc2.d": "EACCES" },
  });
  assert.match(String((await collectFake(host)).failed), /cannot list \/etc\/rc2\.d: EACCES/);
});

const UNIT_FILE =
  "[Unit]\nDescription=d\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n";
for (
  const [what, failing, expect] of [
    [
      "a unit directory that cannot be listed",
      { "/etc/systemd/system": "EIO" },
      /cannot list \/etc\/systemd\/system: EIO/,
    ],
    [
      "a .wants directory that cannot be listed",
      { "/etc/systemd/system/multi-user.target.wants": "EACCES" },
      /cannot list \/etc\/systemd\/system\/multi-user\.target\.wants: EACCES/,
    ],
  ] as const
) {
  Deno.test(`systemd: ${what} fails the run instead of dropping or changing units`, async () => {
    const host = fakeHost({
      files: {
        "/sbin/init": { link: "/lib/systemd/systemd" },
        "/lib/systemd/system/web.service": UNIT_FILE,
        "/lib/systemd/system/db.service": UNIT_FILE,
        "/etc/systemd/system/multi-user.target.wants/web.service": {
          link: "/lib/systemd/system/web.service",
        },
        "/etc/systemd/system/web.service.d/x.conf": "[Service]\nUser=www\n",
      },
      failing,
    });
    assert.match(String((await collectFake(host)).failed), expect);
  });
}

Deno.test("systemd: a drop-in directory that cannot be listed is the error of the unit it belongs to", async () => {
  const host = fakeHost({
    files: {
      "/sbin/init": { link: "/lib/systemd/systemd" },
      "/lib/systemd/system/web.service": UNIT_FILE,
      "/lib/systemd/system/db.service": UNIT_FILE,
      "/etc/systemd/system/web.service.d/x.conf": "[Service]\nUser=www\n",
    },
    failing: { "/etc/systemd/system/web.service.d": "EIO" },
  });
  const r = await collectFake(host);
  assert.equal(r.failed, null);
  assert.match(
    String(r.items.find((i) => i.SvcName === "web")!.error),
    /cannot list \/etc\/systemd\/system\/web\.service\.d: EIO/,
  );
  assert.equal(r.items.find((i) => i.SvcName === "db")!.error, undefined);
});

Deno.test("systemd: a unit file that cannot be read is the item's error, not a unit systemd calls bad", async () => {
  const host = fakeHost({
    files: {
      "/sbin/init": { link: "/lib/systemd/systemd" },
      "/lib/systemd/system/web.service": UNIT_FILE,
      "/lib/systemd/system/db.service": UNIT_FILE,
    },
    failing: { "/lib/systemd/system/db.service": "EIO" },
  });
  const r = await collectFake(host);
  const db = r.items.find((i) => i.SvcName === "db")!;
  assert.match(String(db.error), /EIO/);
  assert.notEqual(db.SvcStartupType, "bad");
  assert.equal(r.items.find((i) => i.SvcName === "web")!.error, undefined);
});
