// The wire, one data type at a time: an Added, a Modified and a Removed item reach the fake AMA as rows of the
// Log Analytics tables (SPEC §2.3, §7.15–7.21), every column checked against an oracle: dpkg-query, the real
// agent's rpm query, systemctl, sha256sum, getfacl. Registry and Windows services: test/windows/wire_windows_test.ts.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { main } from "../agent/cli.ts";
import { type FakeAma, startFakeAma } from "./fake_ama.ts";
import { capture } from "./e2e_helpers.ts";
import { dcrCollectorsOnly, withTempDir } from "./helpers.ts";
import { withRunValuesBlanked } from "./record_check.ts";
import { buildRpmDb, haveRpm, type RpmBuild, rpmOracle, run } from "./fixtures/rpm_db.ts";

type Rec = Record<string, string>;
interface Row {
  stream: string;
  rec: Rec;
}

const ok = (cmd: string, args: string[]) => spawnSync(cmd, args).status === 0;
const HAVE_DPKG = ok("dpkg-query", ["--version"]);
const HAVE_RPM = haveRpm();
const HAVE_SYSTEMCTL = ok("systemctl", ["--version"]);
const HAVE_ACL = ok("getfacl", ["--version"]);
const skipped = (name: string, missing: [boolean, string][]) => {
  const absent = missing.filter(([have]) => !have).map(([, what]) => what);
  return absent.length ? `${name} (skipped: ${absent.join(", ")} not installed)` : name;
};

/** The image's name for itself (SPEC §7.20): every record of a tree below says Computer "e2e-host". */
const COMPUTER = "e2e-host";

/** A machine tree under `dir` that names itself e2e-host.example.org. */
async function machine(dir: string): Promise<string> {
  const root = `${dir}/root`;
  await Deno.mkdir(`${root}/etc`, { recursive: true });
  await Deno.writeTextFile(`${root}/etc/hostname`, `${COMPUTER}.example.org\n`);
  return root;
}

async function write(path: string, text: string): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(path, text);
}

/** A DCR of one collector, served by the fake AMA (its config socket is where the agent takes it from). */
function settings(collector: string, extra: Record<string, unknown> = {}) {
  const on = (c: string) => collector === c;
  return {
    enableSoftware: on("software"),
    enableServices: on("services"),
    enableFiles: on("files"),
    enableRegistry: false,
    enableInventory: true,
    ...extra,
  };
}

/**
 * One `ctagent --once` of the tree against the fake AMA: its exit code, and the `expect` rows it delivered,
 * TimeGenerated and LastSnapshotAge checked for their form and then written "<time>" and "<age>".
 */
async function once(ama: FakeAma, dir: string, root: string, expect: number): Promise<[number, Row[]]> {
  const before = ama.received.length;
  const io = capture();
  const code = await main([
    "--once",
    "--data-dir",
    `${dir}/data`,
    "--root",
    root,
    "--ama-config",
    ama.configEndpoint!,
    "--ama-data",
    ama.dataEndpoints[0],
    ...dcrCollectorsOnly(dir),
  ], { io });
  assert.ok(code <= 7, `--once exit ${code}: ${io.errText()}`);
  assert.equal(io.errText(), "", "everything delivered");
  await ama.waitFor(before + expect);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(ama.received.length, before + expect, "no more rows than expected");
  const rows = ama.received.slice(before).map((e) => ({
    stream: e.tag.slice(e.tag.lastIndexOf(":") + 1),
    rec: withRunValuesBlanked(e.record),
  }));
  return [code, sortRows(rows)];
}

const rowKey = (r: Row) =>
  `${r.stream} ${r.rec.ChangeCategory ?? ""} ${
    r.rec.SoftwareName ?? r.rec.SvcName ?? r.rec.FileSystemPath ?? r.rec.RegistryKey ?? ""
  }`;
const sortRows = (rows: Row[]) =>
  rows.sort((a, b) => rowKey(a) < rowKey(b) ? -1 : rowKey(a) > rowKey(b) ? 1 : 0);
const head = { TimeGenerated: "<time>", Computer: COMPUTER };
const change = (rec: Rec): Row => ({ stream: "CONFIG_CHANGE_BLOB_V2", rec: { ...head, ...rec } });
const data = (rec: Rec): Row => ({ stream: "CONFIG_DATA_BLOB_V2", rec: { ...head, ...rec } });

// ---- software ----------------------------------------------------------------------------------------------

/** Installed packages of this machine's dpkg database, each its status stanza, in file order. */
function realStanzas(n: number): { name: string; text: string }[] {
  const out: { name: string; text: string }[] = [];
  for (const text of Deno.readTextFileSync("/var/lib/dpkg/status").split(/\n\n+/)) {
    const name = /^Package: (.+)$/m.exec(text)?.[1];
    if (!name || !/^Status: install ok installed$/m.test(text) || !/^Installed-Size: \d+$/m.test(text)) {
      continue;
    }
    if (!/^Description: /m.test(text) || !/^Maintainer: /m.test(text)) continue;
    out.push({ name, text: text.trim() + "\n\n" });
    if (out.length === n) break;
  }
  return out;
}

/** What dpkg itself says of the tree's packages, by name. */
function dpkgOracle(root: string): Map<string, Rec> {
  const out = spawnSync("dpkg-query", [
    `--admindir=${root}/var/lib/dpkg`,
    "-W",
    "-f=${Package}\\t${Version}\\t${Installed-Size}\\t${Maintainer}\\t${binary:Summary}\\t${Architecture}\\n",
  ], { encoding: "utf8" });
  assert.equal(out.status, 0, out.stderr);
  return new Map(
    out.stdout.split("\n").filter(Boolean).map((l) => {
      const [name, version, size, maintainer, summary, arch] = l.split("\t");
      return [name, { name, version, size, maintainer, summary, arch }];
    }),
  );
}

/** The ConfigurationChange and ConfigurationData rows of packages as an oracle describes them (SPEC §2.3). */
function software(p: Rec) {
  const about = {
    SoftwareName: p.name,
    SoftwareDescription: p.summary,
    SoftwareType: "Package",
    Publisher: p.publisher,
  };
  return {
    added: change({
      ConfigChangeType: "Software",
      ChangeCategory: "Added",
      FieldsChanged: "",
      Current: p.version,
      ...about,
      Size: p.size,
    }),
    modified: (was: Rec) =>
      change({
        ConfigChangeType: "Software",
        ChangeCategory: "Modified",
        FieldsChanged: was.size === p.size ? "CurrentVersion" : "CurrentVersion, Size",
        LastSnapshotAge: "<age>",
        Current: p.version,
        Previous: was.version,
        ...(was.size === p.size ? {} : { PreviousSize: was.size }),
        ...about,
        Size: p.size,
      }),
    removed: change({
      ConfigChangeType: "Software",
      ChangeCategory: "Removed",
      FieldsChanged: "",
      LastSnapshotAge: "<age>",
      Previous: p.version,
      SoftwareName: p.name,
      PreviousSize: p.size,
    }),
    data: data({
      ConfigDataType: "Software",
      ...about,
      CurrentVersion: p.version,
      Architecture: p.arch,
      Size: p.size,
    }),
  };
}

Deno.test({
  name: skipped(
    "wire: dpkg packages of this machine added, upgraded, removed arrive as the rows dpkg-query describes",
    [[
      HAVE_DPKG,
      "dpkg-query",
    ]],
  ),
  ignore: !HAVE_DPKG,
  fn: () =>
    withTempDir(async (dir) => {
      const root = await machine(dir);
      const status = `${root}/var/lib/dpkg/status`;
      const [a, b, c, d] = realStanzas(4);
      await write(status, a.text + b.text + c.text);
      const ama = await startFakeAma({ settings: settings("software") });
      try {
        const [code1, first] = await once(ama, dir, root, 3);
        const was = dpkgOracle(root);
        const pkg = (o: Rec) => ({ ...o, publisher: o.maintainer });
        assert.equal(code1, 0);
        assert.deepEqual(first, sortRows([a, b, c].map((p) => software(pkg(was.get(p.name)!)).data)));

        // b is upgraded (a new version, a new size), c removed, d installed.
        const upgraded = b.text.replace(/^Version: (.+)$/m, "Version: $1+e2e1")
          .replace(/^Installed-Size: (\d+)$/m, (_, n) => `Installed-Size: ${Number(n) + 1}`);
        await write(status, a.text + upgraded + d.text);
        const [code2, second] = await once(ama, dir, root, 5);
        const now = dpkgOracle(root);
        assert.equal(code2, 1 | 2 | 4);
        const B = software(pkg(now.get(b.name)!)), D = software(pkg(now.get(d.name)!));
        assert.deepEqual(
          second,
          sortRows([
            D.added,
            B.modified(pkg(was.get(b.name)!)),
            software(pkg(was.get(c.name)!)).removed,
            B.data,
            D.data,
          ]),
        );
      } finally {
        await ama.close();
      }
    }),
});

const RPMS: RpmBuild[] = [
  {
    name: "e2e-alpha",
    ver: "1.0",
    rel: "1",
    target: "x86_64",
    size: 1000,
    packager: "Alpha Team <a@example.org>",
  },
  {
    name: "e2e-beta",
    ver: "2.0",
    rel: "1",
    target: "noarch",
    size: 2000,
    noarch: true,
    packager: "Beta <b@example.org>",
  },
  {
    name: "e2e-gamma",
    ver: "3.0",
    rel: "1",
    target: "x86_64",
    size: 300,
    epoch: "2",
    packager: "Gamma <g@example.org>",
  },
];

Deno.test({
  name: skipped(
    "wire: rpm packages added, upgraded, removed in a real rpm database arrive as the rows of the real agent's rpm query",
    [[
      HAVE_RPM,
      "rpm/rpmbuild",
    ]],
  ),
  ignore: !HAVE_RPM,
  fn: () =>
    withTempDir(async (dir) => {
      const root = await machine(dir);
      const db = await buildRpmDb(`${dir}/build1`, root, RPMS);
      const ama = await startFakeAma({ settings: settings("software") });
      try {
        const oracle = async () =>
          new Map((await rpmOracle(db)).map((o) => [o.name, {
            name: o.name,
            version: o.evr,
            size: String(o.size),
            publisher: o.packager,
            summary: o.summary,
            arch: o.arch,
          }]));
        const [code1, first] = await once(ama, dir, root, 3);
        const was = await oracle();
        assert.equal(code1, 0);
        assert.deepEqual(first, sortRows([...was.values()].map((p) => software(p).data)));

        // As a package manager does it: beta upgraded, gamma erased, delta installed.
        await buildRpmDb(`${dir}/build2`, `${dir}/scratch`, [
          { ...RPMS[1], ver: "2.1", size: 2500 },
          {
            name: "e2e-delta",
            ver: "0.9",
            rel: "3",
            target: "x86_64",
            size: 10,
            packager: "Delta <d@example.org>",
          },
        ]);
        const built = (name: string) => {
          for (const arch of Deno.readDirSync(`${dir}/build2/rpms`)) {
            for (const e of Deno.readDirSync(`${dir}/build2/rpms/${arch.name}`)) {
              if (e.name.startsWith(name)) return `${dir}/build2/rpms/${arch.name}/${e.name}`;
            }
          }
          throw new Error(`no rpm of ${name}`);
        };
        const rpm = (args: string[]) => run("rpm", ["--dbpath", db, "--justdb", "--nodeps", ...args]);
        await rpm(["-U", "--ignorearch", "--ignoreos", built("e2e-beta")]);
        await rpm(["-e", "e2e-gamma"]);
        await rpm(["-i", "--ignorearch", "--ignoreos", built("e2e-delta")]);
        const [code2, second] = await once(ama, dir, root, 5);
        const now = await oracle();
        assert.equal(code2, 1 | 2 | 4);
        const B = software(now.get("e2e-beta")!), D = software(now.get("e2e-delta")!);
        assert.equal(now.get("e2e-beta")!.version, "0:2.1-1", "E:V-R with 0 for no epoch (SPEC §2.3)");
        assert.deepEqual(
          second,
          sortRows([
            D.added,
            B.modified(was.get("e2e-beta")!),
            software(was.get("e2e-gamma")!).removed,
            B.data,
            D.data,
          ]),
        );
      } finally {
        await ama.close();
      }
    }),
});

// ---- daemons -----------------------------------------------------------------------------------------------

const unit = (description: string, install = "[Install]\nWantedBy=multi-user.target\n") =>
  `[Unit]\nDescription=${description}\n[Service]\nExecStart=/usr/bin/${description.toLowerCase()} --serve\n${install}`;

/** `systemctl --root list-unit-files`: the enablement systemd itself gives each unit. */
function unitFileStates(root: string): Map<string, string> {
  const out = spawnSync("systemctl", [
    "--root",
    root,
    "list-unit-files",
    "--type=service",
    "--no-legend",
    "--no-pager",
  ], {
    encoding: "utf8",
  });
  assert.equal(out.status, 0, out.stderr);
  return new Map(
    out.stdout.split("\n").filter(Boolean).map((l) => {
      const [name, state] = l.split(/\s+/);
      return [name.replace(/\.service$/, ""), state];
    }),
  );
}

Deno.test({
  name: skipped(
    "wire: systemd units of a --root tree added, enabled with a drop-in, removed arrive as the real agent's Daemons rows",
    [[
      HAVE_SYSTEMCTL,
      "systemctl",
    ]],
  ),
  ignore: !HAVE_SYSTEMCTL,
  fn: () =>
    withTempDir(async (dir) => {
      const root = await machine(dir);
      await Deno.mkdir(`${root}/sbin`);
      await Deno.symlink("/lib/systemd/systemd", `${root}/sbin/init`);
      const lib = `${root}/lib/systemd/system`, etc = `${root}/etc/systemd/system`;
      await write(`${lib}/alpha.service`, unit("Alpha"));
      await write(`${lib}/beta.service`, unit("Beta"));
      await write(`${lib}/gamma.service`, unit("Gamma", ""));
      await Deno.mkdir(`${etc}/multi-user.target.wants`, { recursive: true });
      await Deno.symlink("/lib/systemd/system/beta.service", `${etc}/multi-user.target.wants/beta.service`);
      const ama = await startFakeAma({ settings: settings("services") });
      // systemd is not running in a tree: SvcState is not known, so it is not sent (SPEC §2.3: Running|Stopped).
      const daemon = (name: string, startup: string, account: string, runlevels: string) => ({
        SvcName: name,
        SvcDisplayName: name[0].toUpperCase() + name.slice(1),
        SvcStartupType: startup,
        SvcAccount: account,
        SvcPath: `/lib/systemd/system/${name}.service`,
        SvcController: "systemd",
        SvcRunlevels: runlevels,
      });
      try {
        const [code1, first] = await once(ama, dir, root, 3);
        const s1 = unitFileStates(root);
        assert.equal(code1, 0);
        assert.deepEqual(
          first,
          sortRows([
            data({
              ConfigDataType: "Daemons",
              ...daemon("alpha", s1.get("alpha")!, "root", ""),
              SvcDescription: "Alpha",
            }),
            data({
              ConfigDataType: "Daemons",
              ...daemon("beta", s1.get("beta")!, "root", "multi-user.target"),
              SvcDescription: "Beta",
            }),
            data({
              ConfigDataType: "Daemons",
              ...daemon("gamma", s1.get("gamma")!, "root", ""),
              SvcDescription: "Gamma",
            }),
          ]),
        );

        // alpha enabled and given a user by a drop-in, gamma deleted, delta installed.
        await Deno.symlink(
          "/lib/systemd/system/alpha.service",
          `${etc}/multi-user.target.wants/alpha.service`,
        );
        await write(`${etc}/alpha.service.d/user.conf`, "[Service]\nUser=www-data\n");
        await Deno.remove(`${lib}/gamma.service`);
        await write(`${lib}/delta.service`, unit("Delta"));
        const [code2, second] = await once(ama, dir, root, 5);
        const s2 = unitFileStates(root);
        assert.equal(code2, 1 | 2 | 4);
        assert.deepEqual([s1.get("alpha"), s2.get("alpha")], ["disabled", "enabled"], "systemctl agrees");
        const alpha = daemon("alpha", s2.get("alpha")!, "www-data", "multi-user.target");
        const delta = daemon("delta", s2.get("delta")!, "root", "");
        assert.deepEqual(
          second,
          sortRows([
            change({ ConfigChangeType: "Daemons", ChangeCategory: "Added", FieldsChanged: "", ...delta }),
            change({
              ConfigChangeType: "Daemons",
              ChangeCategory: "Modified",
              FieldsChanged: "SvcAccount, SvcRunlevels, SvcStartupType",
              LastSnapshotAge: "<age>",
              Current: JSON.stringify({
                SvcAccount: "www-data",
                SvcRunlevels: "multi-user.target",
                SvcStartupType: "enabled",
              }),
              Previous: JSON.stringify({ SvcAccount: "root", SvcRunlevels: "", SvcStartupType: "disabled" }),
              SvcChangeType: "StartupType ServiceAccount Runlevels",
              SvcPreviousAccount: "root",
              SvcPreviousRunlevels: "",
              SvcPreviousStartupType: "disabled",
              ...alpha,
            }),
            change({
              ConfigChangeType: "Daemons",
              ChangeCategory: "Removed",
              FieldsChanged: "",
              LastSnapshotAge: "<age>",
              SvcPreviousStartupType: s1.get("gamma")!,
              SvcPreviousAccount: "root",
              SvcPreviousPath: "/lib/systemd/system/gamma.service",
              SvcPreviousController: "systemd",
              SvcPreviousRunlevels: "",
              SvcName: "gamma",
            }),
            data({ ConfigDataType: "Daemons", ...alpha, SvcDescription: "Alpha" }),
            data({ ConfigDataType: "Daemons", ...delta, SvcDescription: "Delta" }),
          ]),
        );
      } finally {
        await ama.close();
      }
    }),
});

/** An LSB init script. */
const script = (name: string) =>
  `#!/bin/sh\n### BEGIN INIT INFO\n# Provides: ${name}\n# Short-Description: ${name} daemon\n# Description: The ${name} daemon\n### END INIT INFO\nexit 0\n`;

Deno.test("wire: SysV scripts of a --root tree added, enabled, removed arrive with SvcController init and N:on|off runlevels", () =>
  withTempDir(async (dir) => {
    const root = await machine(dir);
    const put = async (name: string) => {
      await write(`${root}/etc/init.d/${name}`, script(name));
      await Deno.chmod(`${root}/etc/init.d/${name}`, 0o755);
    };
    /** update-rc.d's links: S in `on`, K in the other runlevels. */
    const links = async (name: string, on: string[]) => {
      for (const level of ["0", "1", "2", "3", "4", "5", "6"]) {
        const d = `${root}/etc/rc${level}.d`;
        await Deno.mkdir(d, { recursive: true });
        for (const e of Deno.readDirSync(d)) if (e.name.slice(3) === name) Deno.removeSync(`${d}/${e.name}`);
        await Deno.symlink(`../init.d/${name}`, `${d}/${on.includes(level) ? "S01" : "K01"}${name}`);
      }
    };
    for (const n of ["cron", "ntp", "lpd"]) await put(n);
    await links("cron", ["2", "3", "4", "5"]);
    await links("ntp", []);
    await links("lpd", ["2", "3", "4", "5"]);
    const ama = await startFakeAma({ settings: settings("services") });
    const sysv = (name: string, startup: string, runlevels: string) => ({
      SvcName: name,
      SvcDisplayName: `${name} daemon`,
      SvcStartupType: startup,
      SvcAccount: "root",
      SvcPath: `/etc/init.d/${name}`,
      SvcController: "init",
      SvcRunlevels: runlevels,
    });
    const ON = "0:off 1:off 2:on 3:on 4:on 5:on 6:off", OFF = "0:off 1:off 2:off 3:off 4:off 5:off 6:off";
    try {
      const [, first] = await once(ama, dir, root, 3);
      assert.deepEqual(
        first.map((r) => [r.rec.SvcName, r.rec.SvcController, r.rec.SvcRunlevels]),
        [["cron", "init", ON], ["lpd", "init", ON], ["ntp", "init", OFF]],
      );
      await links("ntp", ["2", "3", "4", "5"]);
      for (const level of ["0", "1", "2", "3", "4", "5", "6"]) {
        for (const e of Deno.readDirSync(`${root}/etc/rc${level}.d`)) {
          if (e.name.endsWith("lpd")) Deno.removeSync(`${root}/etc/rc${level}.d/${e.name}`);
        }
      }
      await Deno.remove(`${root}/etc/init.d/lpd`);
      await put("sshd");
      await links("sshd", ["2", "3", "4", "5"]);
      const [code2, second] = await once(ama, dir, root, 5);
      assert.equal(code2, 1 | 2 | 4);
      const ntp = sysv("ntp", "enabled", ON), sshd = sysv("sshd", "enabled", ON);
      assert.deepEqual(
        second,
        sortRows([
          change({ ConfigChangeType: "Daemons", ChangeCategory: "Added", FieldsChanged: "", ...sshd }),
          change({
            ConfigChangeType: "Daemons",
            ChangeCategory: "Modified",
            FieldsChanged: "SvcRunlevels, SvcStartupType",
            LastSnapshotAge: "<age>",
            Current: JSON.stringify({ SvcRunlevels: ON, SvcStartupType: "enabled" }),
            Previous: JSON.stringify({ SvcRunlevels: OFF, SvcStartupType: "disabled" }),
            SvcChangeType: "StartupType Runlevels",
            SvcPreviousRunlevels: OFF,
            SvcPreviousStartupType: "disabled",
            ...ntp,
          }),
          change({
            ConfigChangeType: "Daemons",
            ChangeCategory: "Removed",
            FieldsChanged: "",
            LastSnapshotAge: "<age>",
            SvcPreviousStartupType: "enabled",
            SvcPreviousAccount: "root",
            SvcPreviousPath: "/etc/init.d/lpd",
            SvcPreviousController: "init",
            SvcPreviousRunlevels: ON,
            SvcName: "lpd",
          }),
          data({ ConfigDataType: "Daemons", ...ntp, SvcDescription: "The ntp daemon" }),
          data({ ConfigDataType: "Daemons", ...sshd, SvcDescription: "The sshd daemon" }),
        ]),
      );
    } finally {
      await ama.close();
    }
  }));

// ---- files -------------------------------------------------------------------------------------------------

/** A file as the oracles see it: sha256sum, stat, getfacl (the tree's own account names). */
function fileOracle(real: string): Rec {
  const st = Deno.statSync(real);
  const sum = spawnSync("sha256sum", [real], { encoding: "utf8" }).stdout.split(" ")[0];
  const acl = spawnSync("getfacl", ["--omit-header", "--absolute-names", real], { encoding: "utf8" }).stdout
    .split("\n").filter(Boolean).join(",");
  return {
    FileContentChecksum: sum,
    Size: String(st.size),
    DateCreated: st.birthtime!.toISOString(),
    DateModified: st.mtime!.toISOString(),
    Acls: acl,
  };
}

Deno.test({
  name: skipped(
    "wire: files added, rewritten with a chmod, removed arrive with sha256sum's checksum, stat's times and getfacl's Acls",
    [[
      HAVE_ACL,
      "getfacl (Debian acl)",
    ]],
  ),
  ignore: !HAVE_ACL,
  fn: () =>
    withTempDir(async (dir) => {
      const root = await machine(dir);
      // The tree's accounts are this machine's: getfacl names ids from the same files.
      for (const f of ["passwd", "group"]) await Deno.copyFile(`/etc/${f}`, `${root}/etc/${f}`);
      const conf = `${root}/srv/e2e`;
      for (const [n, text] of [["a", "alpha\n"], ["b", "bravo\n"], ["c", "charlie\n"]]) {
        await write(`${conf}/${n}.conf`, text);
      }
      const ama = await startFakeAma({
        settings: settings("files", {
          fileSettings: { fileInfo: [{ name: "e2e", destinationPath: "/srv/e2e/.*.conf", recurse: false }] },
        }),
      });
      const file = (n: string): Rec => ({
        FileSystemPath: `/srv/e2e/${n}.conf`,
        ...fileOracle(`${conf}/${n}.conf`),
      });
      try {
        const [code1, first] = await once(ama, dir, root, 3);
        assert.equal(code1, 0);
        assert.deepEqual(
          first,
          sortRows(["a", "b", "c"].map((n) => data({ ConfigDataType: "Files", ...file(n) }))),
        );
        const was = { b: file("b"), c: file("c") };

        await new Promise((r) => setTimeout(r, 20)); // another mtime
        await Deno.writeTextFile(`${conf}/b.conf`, "bravo, rewritten\n");
        await Deno.chmod(`${conf}/b.conf`, 0o600);
        await Deno.remove(`${conf}/c.conf`);
        await write(`${conf}/d.conf`, "delta\n");
        await run("setfacl", ["-m", "u:nobody:r", `${conf}/d.conf`]);
        const [code2, second] = await once(ama, dir, root, 5);
        assert.equal(code2, 1 | 2 | 4);
        const b = file("b"), d = file("d");
        const changed = ["Acls", "DateModified", "FileContentChecksum", "Size"] as const;
        assert.deepEqual(
          second,
          sortRows([
            change({ ConfigChangeType: "Files", ChangeCategory: "Added", FieldsChanged: "", ...d }),
            change({
              ConfigChangeType: "Files",
              ChangeCategory: "Modified",
              FieldsChanged: changed.join(", "),
              LastSnapshotAge: "<age>",
              Current: JSON.stringify(
                Object.fromEntries(changed.map((f) => [f, f === "Size" ? Number(b[f]) : b[f]])),
              ),
              Previous: JSON.stringify(
                Object.fromEntries(changed.map((f) => [f, f === "Size" ? Number(was.b[f]) : was.b[f]])),
              ),
              PreviousAcls: was.b.Acls,
              PreviousDateModified: was.b.DateModified,
              PreviousFileContentChecksum: was.b.FileContentChecksum,
              PreviousSize: was.b.Size,
              ...b,
            }),
            change({
              ConfigChangeType: "Files",
              ChangeCategory: "Removed",
              FieldsChanged: "",
              LastSnapshotAge: "<age>",
              PreviousSize: was.c.Size,
              PreviousDateCreated: was.c.DateCreated,
              PreviousDateModified: was.c.DateModified,
              PreviousAcls: was.c.Acls,
              PreviousFileContentChecksum: was.c.FileContentChecksum,
              FileSystemPath: "/srv/e2e/c.conf",
            }),
            data({ ConfigDataType: "Files", ...b }),
            data({ ConfigDataType: "Files", ...d }),
          ]),
        );
        assert.equal(b.Acls, "user::rw-,group::---,other::---");
        assert.equal(d.Acls, "user::rw-,user:nobody:r--,group::r--,mask::r--,other::r--");
      } finally {
        await ama.close();
      }
    }),
});
