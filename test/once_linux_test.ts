// End to end through `ctagent --once --json`: the software and services inventories are the machine's truth,
// and a change to a unit file or an rpm database comes out as exactly the right change records.
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { onlyDcr, runCli, withTempDir } from "./helpers.ts";
import { buildRpmDb, haveRpm, rpmOracle, run, SAMPLE_BUILDS } from "./fixtures/rpm_db.ts";

function tool(cmd: string, args: string[]): string | null {
  try {
    const out = new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).outputSync();
    return out.success ? new TextDecoder().decode(out.stdout) : null;
  } catch {
    return null;
  }
}
const HAVE_SYSTEMCTL = tool("systemctl", ["--version"]) !== null;
const HAVE_DPKG = tool("dpkg-query", ["--version"]) !== null;
const HAVE_RPM = haveRpm();
for (
  const [have, what] of [[HAVE_SYSTEMCTL, "systemctl"], [HAVE_DPKG, "dpkg-query"], [
    HAVE_RPM,
    "rpm/rpmbuild",
  ]] as const
) {
  if (!have) console.warn(`once_linux_test.ts: SKIPPED the tests that need ${what}: absent`);
}

type Rec = Record<string, string>;
interface OnceJson {
  runs: { collector: string; status: string; durationMs: number }[];
  inventory: Record<string, Rec[]>;
  changes: Rec[];
}

/** `--once --json` with only software and services enabled; the state lives in `dir/data`. */
async function once(dir: string, extra: string[] = []): Promise<{ code: number; json: OnceJson }> {
  await Deno.writeTextFile(`${dir}/dcr.json`, onlyDcr(["software", "services"]));
  const r = await runCli([
    "--once",
    "--json",
    "--data-dir",
    `${dir}/data`,
    "--dcr",
    `${dir}/dcr.json`,
    ...extra,
  ]);
  if (!r.out.startsWith("{")) throw new Error(`--once --json printed no JSON (exit ${r.code}): ${r.err}`);
  return { code: r.code, json: JSON.parse(r.out) };
}

Deno.test({
  name:
    "--once --json: services equal `systemctl list-unit-files --type=service`, packages equal `dpkg-query -W`",
  ignore: !HAVE_SYSTEMCTL || !HAVE_DPKG,
  fn: () =>
    withTempDir(async (dir) => {
      // Other work on this machine may install a package meanwhile: one retry on a mismatch.
      for (let attempt = 0;; attempt++) {
        const units = tool("systemctl", ["list-unit-files", "--type=service", "--no-legend", "--no-pager"])!
          .split("\n").filter(Boolean).map((l) => l.split(/\s+/).slice(0, 2).join(" ")).sort();
        const packages = tool("dpkg-query", ["-W", "-f", "${Package} ${Version} ${Architecture}\\n"])!
          .split("\n").filter(Boolean).sort();
        const { json } = await once(dir);
        const services = json.inventory.services.map((r) => `${r.SvcName}.service ${r.SvcStartupType}`)
          .sort();
        const software = json.inventory.software.filter((r) => r.Manager === "dpkg")
          .map((r) => `${r.SoftwareName} ${r.CurrentVersion} ${r.Architecture}`).sort();
        if (
          attempt === 0 && (services.join() !== units.join() || software.join() !== packages.join())
        ) continue;
        assert.deepEqual(services.filter((s) => !s.includes("@")), units.filter((s) => !s.includes("@")));
        assert.deepEqual(services.filter((s) => s.includes("@")), units.filter((s) => s.includes("@")));
        assert.deepEqual(software, packages);
        // systemd is installed but not running in this sandbox: no state is guessed.
        const running = (() => {
          try {
            return Deno.statSync("/run/systemd/system").isDirectory;
          } catch {
            return false;
          }
        })();
        for (const r of json.inventory.services) {
          assert.equal(r.ConfigDataType, "Daemons");
          assert.equal(r.SvcController, "systemd");
          if (!running) assert.equal(r.SvcState, "Unknown", r.SvcName);
          else assert.ok(r.SvcState === "Running" || r.SvcState === "Stopped", r.SvcName);
        }
        break;
      }
    }),
});

Deno.test({
  name:
    "--once --json --root: the rpm inventory equals the real agent's rpm query; a new kernel is one Added",
  ignore: !HAVE_RPM,
  fn: () =>
    withTempDir(async (dir) => {
      const root = `${dir}/root`;
      const dbdir = await buildRpmDb(`${dir}/build`, root, SAMPLE_BUILDS);
      const first = await once(dir, ["--root", root]);
      assert.equal(first.code, 0);
      const ours = first.json.inventory.software.map((r) =>
        `${r.SoftwareName} ${r.CurrentVersion} ${r.Architecture} ${r.Size}`
      );
      const theirs = (await rpmOracle(dbdir)).map((o) => `${o.name} ${o.evr} ${o.arch} ${o.size}`);
      assert.deepEqual(ours.sort(), theirs.sort());
      assert.ok(
        first.json.inventory.software.every((r) => r.Manager === "rpm" && r.SoftwareType === "Package"),
      );

      // A third kernel is installed next to the two others: Added, and no Modified of the old ones.
      await buildRpmDb(`${dir}/build2`, `${dir}/unused`, [
        {
          name: "kernel-core",
          ver: "6.3.0",
          rel: "1",
          target: "x86_64",
          size: 300,
          provides: "installonlypkg(kernel)",
        },
      ]);
      await run("rpm", [
        "--dbpath",
        dbdir,
        "-i",
        "--justdb",
        "--nodeps",
        "--ignorearch",
        `${dir}/build2/rpms/x86_64/kernel-core-6.3.0-1.x86_64.rpm`,
      ]);
      const second = await once(dir, ["--root", root]);
      assert.equal(second.code, 1);
      assert.deepEqual(
        second.json.changes.map((c) => [c.ChangeCategory, c.ConfigChangeType, c.SoftwareName, c.Current]),
        [["Added", "Software", "kernel-core", "0:6.3.0-1"]],
      );
    }),
});

const UNIT =
  "[Unit]\nDescription=Web server\n[Service]\nExecStart=/usr/bin/web\n[Install]\nWantedBy=multi-user.target\n";

Deno.test("--once --json --root: enabling a unit and a drop-in User= give one Modified with the right fields", () =>
  withTempDir(async (dir) => {
    const root = `${dir}/root`;
    const put = async (p: string, text: string | { link: string }) => {
      await Deno.mkdir(dirname(root + p), { recursive: true });
      // createNew: a fixture write must never follow a link out to the real machine
      if (typeof text === "string") await Deno.writeTextFile(root + p, text, { createNew: true });
      else await Deno.symlink(text.link, root + p);
    };
    await put("/sbin/init", { link: "/lib/systemd/systemd" });
    await put("/lib/systemd/system/web.service", UNIT);
    await put("/lib/systemd/system/db.service", UNIT.replace("Web server", "Database"));
    const first = await once(dir, ["--root", root]);
    assert.equal(first.code, 0);
    assert.deepEqual(
      first.json.inventory.services.map((r) => [r.SvcName, r.SvcStartupType, r.SvcState, r.SvcAccount]),
      [["db", "disabled", "Unknown", "root"], ["web", "disabled", "Unknown", "root"]],
    );

    await put("/etc/systemd/system/multi-user.target.wants/web.service", {
      link: "/lib/systemd/system/web.service",
    });
    await put("/etc/systemd/system/web.service.d/user.conf", "[Service]\nUser=www-data\n");
    const second = await once(dir, ["--root", root]);
    assert.equal(second.code, 4);
    assert.equal(second.json.changes.length, 1);
    const c = second.json.changes[0];
    assert.deepEqual([c.ChangeCategory, c.ConfigChangeType, c.SvcName], ["Modified", "Daemons", "web"]);
    assert.deepEqual(c.FieldsChanged.split(/[,; ]+/).sort(), [
      "DropIns",
      "SvcAccount",
      "SvcRunlevels",
      "SvcStartupType",
    ]);
    assert.deepEqual([c.SvcStartupType, c.SvcPreviousStartupType], ["enabled", "disabled"]);
    assert.deepEqual([c.SvcAccount, c.SvcPreviousAccount], ["www-data", "root"]);

    await Deno.remove(`${root}/lib/systemd/system/db.service`);
    const third = await once(dir, ["--root", root]);
    assert.equal(third.code, 2);
    assert.deepEqual(third.json.changes.map((c) => [c.ChangeCategory, c.SvcName]), [["Removed", "db"]]);
  }));
