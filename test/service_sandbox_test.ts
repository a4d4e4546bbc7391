// The service's protections do not stop it reading what it inventories: --once under the unit's own limits
// (read-only file system but the state directory, only the unit's capabilities, no new privileges) finds
// exactly what an unconfined run finds. systemd is not PID 1 here, so the limits are applied with
// unshare -m, a read-only remount and setpriv, read from the generated unit.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { bundle } from "../build/bundle.ts";
import { systemdUnit } from "../agent/service/systemd.ts";

const canSandbox = Deno.build.os === "linux" && Deno.uid() === 0 && existsSync("/usr/bin/unshare") &&
  existsSync("/usr/bin/setpriv");

/** The unit's settings this sandbox reproduces. */
function unitLimits() {
  const unit = systemdUnit({ execStart: ["/usr/local/bin/ctagent"], version: "test" });
  const get = (k: string) => unit.match(new RegExp(`^${k}=(.*)$`, "m"))?.[1];
  assert.equal(get("ProtectSystem"), "strict", "the sandbox below reproduces ProtectSystem=strict");
  assert.equal(get("NoNewPrivileges"), "yes");
  const caps = (get("CapabilityBoundingSet") ?? "").split(/\s+/).filter(Boolean)
    .map((c) => `+${c.replace(/^CAP_/, "").toLowerCase()}`);
  return { bounding: ["-all", ...caps].join(",") };
}

interface OnceRun {
  collector: string;
  counts: { items: number; errors: number };
  error: string | null;
}

async function once(
  file: string,
  dir: string,
  sandbox: boolean,
): Promise<{ runs: OnceRun[]; stderr: string }> {
  const state = join(dir, sandbox ? "state_sandboxed" : "state_free");
  const cache = join(dir, sandbox ? "cache_sandboxed" : "cache_free");
  await Deno.mkdir(state);
  await Deno.mkdir(cache);
  const agent = [Deno.execPath(), "run", "-A", file, "--once", "--json", "--data-dir", state];
  const { bounding } = unitLimits();
  // Each run in a network namespace of its own (-n): the machine's listening ports are live state that other
  // processes change between the two runs; in a fresh namespace both see the same (none).
  const args = sandbox
    ? [
      "-m",
      "-n",
      "sh",
      "-c",
      // StateDirectory= and CacheDirectory= stay writable; everything else is read-only
      'set -e; mount --make-rprivate /; mount --bind "$1" "$1"; mount --bind "$2" "$2"; ' +
      'mount -o remount,bind,ro /; shift 2; exec setpriv --no-new-privs --bounding-set="$BOUNDING" ' +
      '--inh-caps=-all "$@"',
      "sh",
      state,
      cache,
      ...agent,
    ]
    : ["-m", "-n", ...agent];
  const out = await new Deno.Command("unshare", {
    args,
    env: { DENO_DIR: cache, BOUNDING: bounding, NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.code <= 7, `--once ${sandbox ? "in the sandbox " : ""}exited ${out.code}:\n${stderr}`);
  return { runs: JSON.parse(new TextDecoder().decode(out.stdout)).runs, stderr };
}

Deno.test({
  name: "under the unit's protections --once finds what an unconfined run finds, and cannot write the system",
  ignore: !canSandbox,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ctagent_sandbox_" });
    const { out: file } = await bundle({ out: join(dir, "ctagent.js"), log: () => {} });

    const free = await once(file, dir, false);
    const boxed = await once(file, dir, true);
    assert.ok(free.runs.length > 0);
    for (const r of free.runs) {
      const b = boxed.runs.find((x) => x.collector === r.collector);
      assert.ok(b, `${r.collector} ran in the sandbox too`);
      assert.equal(b.error, null, `${r.collector} failed in the sandbox: ${b.error}\n${boxed.stderr}`);
      assert.equal(b.counts.items, r.counts.items, `${r.collector}: same inventory inside and outside`);
      assert.ok(b.counts.errors <= r.counts.errors, `${r.collector}: no item unreadable only in the sandbox`);
    }

    // the sandbox is real: the system is read-only, and only the bounding set's capabilities remain
    const { bounding } = unitLimits();
    const probe = await new Deno.Command("unshare", {
      args: [
        "-m",
        "sh",
        "-c",
        'mount --make-rprivate / && mount -o remount,bind,ro / && exec setpriv --no-new-privs --bounding-set="$0" ' +
        "--inh-caps=-all sh -c 'grep CapEff /proc/self/status; touch /etc/ctagent_probe 2>&1'",
        bounding,
      ],
      stdin: "null",
    }).output();
    const text = new TextDecoder().decode(probe.stdout);
    assert.match(text, /CapEff:\s+0+4\b/, "CAP_DAC_READ_SEARCH (bit 2) alone");
    assert.match(text, /Read-only file system/);
    assert.ok(!existsSync("/etc/ctagent_probe"));
    await Deno.remove(dir, { recursive: true });
  },
});
