import assert from "node:assert/strict";
import { liveHost } from "../../host/mod.ts";
import { formatRunlevels, parseLsbHeader, parseRcLinks, readSysv, sysv } from "./sysv.ts";

const DBUS = `#!/bin/sh
### BEGIN INIT INFO
# Provides:          dbus
# Required-Start:    $remote_fs $syslog
# Default-Start:     2 3 4 5
# Default-Stop:
# Short-Description: D-Bus systemwide message bus
# Description:       D-Bus is a simple interprocess messaging system, used
#                    for sending messages between applications.
### END INIT INFO
set -e
`;

Deno.test("parseLsbHeader() joins continued Description lines", () => {
  const h = parseLsbHeader(DBUS);
  assert.equal(h["Provides"], "dbus");
  assert.equal(h["Default-Stop"], "");
  assert.equal(h["Short-Description"], "D-Bus systemwide message bus");
  assert.equal(
    h["Description"],
    "D-Bus is a simple interprocess messaging system, used for sending messages between applications.",
  );
  assert.deepEqual(parseLsbHeader("#!/bin/sh\necho no header\n"), {});
});

Deno.test("parseRcLinks() and formatRunlevels() give runlevels in order, S links winning", () => {
  const links = parseRcLinks([
    { level: "6", names: ["K01ssh"] },
    { level: "2", names: ["S01ssh", "K05ssh", "README"] },
    { level: "0", names: ["K01ssh"] },
    { level: "S", names: ["S10ssh"] },
  ]);
  assert.equal(formatRunlevels(links.get("ssh")), "0:off 2:on 6:off S:on");
  assert.equal(formatRunlevels(undefined), "");
});

async function sysvTree(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "ctagent-sysv-" });
  const w = async (p: string, text: string, mode = 0o755) => {
    await Deno.mkdir(root + p.slice(0, p.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(root + p, text, { mode, createNew: true });
    await Deno.chmod(root + p, mode);
  };
  await w("/etc/init.d/dbus", DBUS);
  await w("/etc/init.d/cron", "#!/bin/sh\n# no LSB header\n");
  await w("/etc/init.d/README", "not a script", 0o644);
  await w("/etc/init.d/functions", "helpers", 0o644);
  await w("/etc/init.d/skeleton", DBUS);
  await w("/etc/init.d/dbus.dpkg-old", DBUS);
  for (const l of ["2", "3", "4", "5"]) {
    await Deno.mkdir(`${root}/etc/rc${l}.d`, { recursive: true });
    await Deno.symlink("../init.d/dbus", `${root}/etc/rc${l}.d/S01dbus`);
  }
  for (const l of ["0", "1", "6"]) {
    await Deno.mkdir(`${root}/etc/rc${l}.d`, { recursive: true });
    await Deno.symlink("../init.d/cron", `${root}/etc/rc${l}.d/K01cron`);
  }
  return root;
}

Deno.test("readSysv() lists the init scripts with their headers and rc?.d links", async () => {
  const root = await sysvTree();
  try {
    const host = liveHost({ root });
    assert.equal(await sysv.present(host), true);
    const items = readSysv(host);
    assert.deepEqual(items.map((i) => i.SvcName), ["cron", "dbus"]);
    const [cron, dbus] = items;
    assert.equal(dbus.SvcDisplayName, "D-Bus systemwide message bus");
    assert.match(dbus.SvcDescription, /^D-Bus is a simple .* between applications\.$/);
    assert.equal(dbus.SvcStartupType, "enabled");
    assert.equal(dbus.SvcRunlevels, "2:on 3:on 4:on 5:on");
    assert.equal(dbus.SvcPath, "/etc/init.d/dbus");
    assert.equal(dbus.SvcController, "init");
    assert.equal(dbus.SvcState, "Unknown");
    assert.equal(cron.SvcDisplayName, "cron");
    assert.equal(cron.SvcStartupType, "disabled");
    assert.equal(cron.SvcRunlevels, "0:off 1:off 6:off");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("readSysv() reads Red Hat's /etc/rc.d/init.d and /etc/rc.d/rcN.d layout", async () => {
  const root = await Deno.makeTempDir({ prefix: "ctagent-sysv-rh-" });
  try {
    await Deno.mkdir(`${root}/etc/rc.d/init.d`, { recursive: true });
    await Deno.writeTextFile(`${root}/etc/rc.d/init.d/network`, "#!/bin/bash\n# chkconfig: 2345 10 90\n", {
      createNew: true,
    });
    await Deno.chmod(`${root}/etc/rc.d/init.d/network`, 0o755);
    await Deno.writeTextFile(`${root}/etc/rc.d/init.d/functions`, "# sourced, not run\n", {
      createNew: true,
    });
    for (const [l, link] of [["0", "K90network"], ["3", "S10network"], ["5", "S10network"]]) {
      await Deno.mkdir(`${root}/etc/rc.d/rc${l}.d`, { recursive: true });
      await Deno.symlink("../init.d/network", `${root}/etc/rc.d/rc${l}.d/${link}`);
    }
    const items = readSysv(liveHost({ root }));
    assert.deepEqual(
      items.map((i) => [i.SvcName, i.SvcPath, i.SvcStartupType, i.SvcRunlevels]),
      [["network", "/etc/rc.d/init.d/network", "enabled", "0:off 3:on 5:on"]],
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
