// End to end through `ctagent --once --json`: the software and services inventories are the machine's truth.
import assert from "node:assert/strict";
import { buildRpmDb, haveRpm, rpmOracle, SAMPLE_BUILDS } from "./fixtures/rpm_db.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

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
  if (!have) console.warn(`once_linux_test.ts: SKIPPED the tests that compare with ${what}: absent`);
}

type Rec = Record<string, string>;
interface OnceJson {
  runs: { collector: string; status: string; durationMs: number }[];
  inventory: Record<string, Rec[]>;
}

/** Runs `main.ts --once --json` with only software and services enabled. */
async function once(extra: string[] = []): Promise<OnceJson> {
  const dir = await Deno.makeTempDir({ prefix: "ctagent-once-" });
  try {
    await Deno.writeTextFile(
      `${dir}/dcr.json`,
      JSON.stringify({ enableFiles: false, enableSoftware: true, enableServices: true }),
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        MAIN,
        "--once",
        "--json",
        "--data-dir",
        `${dir}/data`,
        "--dcr",
        `${dir}/dcr.json`,
        ...extra,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    if (!text.startsWith("{")) {
      throw new Error(
        `--once --json printed no JSON (exit ${out.code}): ${new TextDecoder().decode(out.stderr)}`,
      );
    }
    return JSON.parse(text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name:
    "--once --json: services equal `systemctl list-unit-files --type=service`, packages equal `dpkg-query -W`",
  ignore: !HAVE_SYSTEMCTL || !HAVE_DPKG,
  async fn() {
    // Other work on this machine may install a package meanwhile: one retry on a mismatch.
    for (let attempt = 0;; attempt++) {
      const units = tool("systemctl", ["list-unit-files", "--type=service", "--no-legend", "--no-pager"])!
        .split("\n").filter(Boolean).map((l) => l.split(/\s+/).slice(0, 2).join(" ")).sort();
      const packages = tool("dpkg-query", ["-W", "-f", "${Package} ${Version} ${Architecture}\\n"])!
        .split("\n").filter(Boolean).sort();
      const res = await once();
      for (const r of res.runs) assert.equal(r.status, "baseline", `${r.collector} run: ${r.status}`);
      const services = res.inventory.services.map((r) => `${r.SvcName}.service ${r.SvcStartupType}`).sort();
      const software = res.inventory.software.filter((r) => r.Manager === "dpkg")
        .map((r) => `${r.SoftwareName} ${r.CurrentVersion} ${r.Architecture}`).sort();
      if (attempt === 0 && (services.join() !== units.join() || software.join() !== packages.join())) {
        continue;
      }
      assert.deepEqual(services.filter((s) => !s.includes("@")), units.filter((s) => !s.includes("@")));
      assert.deepEqual(services.filter((s) => s.includes("@")), units.filter((s) => s.includes("@")));
      assert.deepEqual(software, packages);
      for (const r of res.inventory.services) {
        assert.equal(r.ConfigDataType, "Daemons");
        assert.equal(r.SvcController, "systemd");
      }
      break;
    }
  },
});

Deno.test({
  name: "--once --json --root: the rpm inventory equals the real agent's rpm query on a real database",
  ignore: !HAVE_RPM,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ctagent-once-rpm-" });
    try {
      const dbdir = await buildRpmDb(dir, `${dir}/root`, SAMPLE_BUILDS);
      const res = await once(["--root", `${dir}/root`]);
      const ours = res.inventory.software.map((r) =>
        `${r.SoftwareName} ${r.CurrentVersion} ${r.Architecture} ${r.Size}`
      );
      const theirs = (await rpmOracle(dbdir)).map((o) => `${o.name} ${o.evr} ${o.arch} ${o.size}`);
      assert.deepEqual(ours.sort(), theirs.sort());
      assert.ok(res.inventory.software.every((r) => r.Manager === "rpm" && r.SoftwareType === "Package"));
      assert.equal(res.runs.find((r) => r.collector === "software")!.status, "baseline");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
