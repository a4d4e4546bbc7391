// `ctagent service` on Linux against a test root, checked by the real systemctl and systemd-analyze.
import assert from "node:assert/strict";
import { existsSync, lstatSync } from "node:fs";
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { serviceCommand, type ServiceDeps } from "./mod.ts";
import { BIN_PATH, STATE_DIR, UNIT_PATH } from "./systemd.ts";

const haveSystemd = Deno.build.os === "linux" && existsSync("/usr/bin/systemd-analyze") &&
  existsSync("/usr/bin/systemctl") &&
  existsSync("/usr/lib/systemd/system/multi-user.target");

/** existsSync() without following links: enable's links point at /etc/…, which exists only inside the root. */
const linkExists = (p: string) => lstatSync(p, { throwIfNoEntry: false }) !== undefined;

async function run(cmd: string, args: string[]) {
  const r = await new Deno.Command(cmd, { args, stdin: "null", env: { SYSTEMD_LOG_COLOR: "0" } }).output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

/** A root holding the machine's own system units (so dependencies like multi-user.target resolve). */
async function testRoot() {
  const root = await Deno.makeTempDir({ prefix: "ctagent_root_" });
  await mkdir(join(root, "usr/lib/systemd"), { recursive: true });
  await cp("/usr/lib/systemd/system", join(root, "usr/lib/systemd/system"), { recursive: true });
  // the "compiled ctagent" being installed: any executable serves
  const exe = join(root, "..", `${root.split("/").pop()}_ctagent`);
  await writeFile(exe, await readFile("/bin/true"), { mode: 0o755 });
  return { root, exe };
}

function deps(execPath: string, over: Partial<ServiceDeps> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const d: ServiceDeps = {
    os: "linux",
    execPath,
    mainModule: "file:///nowhere/main.ts",
    version: "1.2.3",
    privileged: true,
    exec: run,
    env: () => undefined,
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    ...over,
  };
  return { d, out, err };
}

Deno.test({
  name:
    "service install on a test root writes a unit systemd-analyze verify accepts, enabled, status sees it",
  ignore: !haveSystemd,
  async fn() {
    const { root, exe } = await testRoot();
    const { d, out, err } = deps(exe);
    const code = await serviceCommand([
      "install",
      "--root",
      root,
      "--listen",
      "127.0.0.1:8088",
      "--dcr",
      "/srv/my dcrs/ct 100%.json",
      "--",
      "--verbose",
    ], d);
    assert.equal(code, 0, err.join("\n"));
    assert.ok(existsSync(join(root, BIN_PATH)), "the executable is copied into place");
    const unit = await readFile(join(root, UNIT_PATH), "utf8");
    const execStart = `ExecStart=${BIN_PATH} --data-dir ${STATE_DIR} --dcr "/srv/my dcrs/ct 100%%.json" ` +
      `--listen 127.0.0.1:8088 --verbose`;
    assert.ok(unit.split("\n").includes(execStart), unit);

    const verify = await run("systemd-analyze", ["verify", `--root=${root}`, join(root, UNIT_PATH)]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal(verify.stderr.trim(), "", "no warning about the unit");
    assert.ok(
      linkExists(join(root, "etc/systemd/system/multi-user.target.wants/ctagent.service")),
      "systemctl enable linked it into multi-user.target",
    );

    out.length = 0;
    assert.equal(await serviceCommand(["status", "--root", root], d), 0);
    assert.match(out.join("\n"), /enabled: +enabled/);
    assert.match(out.join("\n"), /written by: 1\.2\.3/);
    await Deno.remove(root, { recursive: true });
    await Deno.remove(exe);
  },
});

Deno.test({
  name: "systemd-analyze verify on a test root rejects a broken unit (the check can fail)",
  ignore: !haveSystemd,
  async fn() {
    const { root, exe } = await testRoot();
    const { d } = deps(exe);
    assert.equal(await serviceCommand(["install", "--root", root], d), 0);
    const path = join(root, UNIT_PATH);
    await writeFile(
      path,
      (await readFile(path, "utf8")).replace("ProtectHome=read-only", "ProtectHome=readonly"),
    );
    const verify = await run("systemd-analyze", ["verify", `--root=${root}`, path]);
    assert.match(
      verify.stderr,
      /ctagent\.service:\d+: Failed to parse protect home value, ignoring: readonly/,
    );
    await Deno.remove(join(root, BIN_PATH));
    const missing = await run("systemd-analyze", ["verify", `--root=${root}`, path]);
    assert.notEqual(missing.code, 0, "a unit whose program is missing fails");
    await Deno.remove(root, { recursive: true });
    await Deno.remove(exe);
  },
});

Deno.test({
  name: "the unit's exposure (systemd-analyze security) stays at or below 5.0",
  ignore: !haveSystemd,
  async fn() {
    const { root, exe } = await testRoot();
    assert.equal(await serviceCommand(["install", "--root", root], deps(exe).d), 0);
    const r = await run("systemd-analyze", [
      "security",
      "--offline=true",
      `--root=${root}`,
      join(root, UNIT_PATH),
    ]);
    const score = Number(r.stdout.match(/Overall exposure level for ctagent\.service: ([\d.]+)/)?.[1]);
    assert.ok(
      score <= 5.0,
      `exposure ${score}:\n${r.stdout.split("\n").filter((l) => l.includes("✗")).join("\n")}`,
    );
    await Deno.remove(root, { recursive: true });
    await Deno.remove(exe);
  },
});

Deno.test({
  name: "service uninstall disables and removes the unit and the executable, keeps the state unless --purge",
  ignore: !haveSystemd,
  async fn() {
    const { root, exe } = await testRoot();
    const { d, out } = deps(exe);
    assert.equal(await serviceCommand(["install", "--root", root], d), 0);
    await mkdir(join(root, STATE_DIR), { recursive: true });
    await writeFile(join(root, STATE_DIR, "state.db"), "x");

    assert.equal(await serviceCommand(["uninstall", "--root", root], d), 0);
    assert.ok(!existsSync(join(root, UNIT_PATH)));
    assert.ok(!linkExists(join(root, "etc/systemd/system/multi-user.target.wants/ctagent.service")));
    assert.ok(!existsSync(join(root, BIN_PATH)));
    assert.ok(existsSync(join(root, STATE_DIR, "state.db")), "the state survives an uninstall");
    assert.equal(await serviceCommand(["status", "--root", root], d), 3);
    assert.match(out.join("\n"), /not installed/);

    assert.equal(await serviceCommand(["uninstall", "--root", root, "--purge"], d), 0);
    assert.ok(!existsSync(join(root, STATE_DIR)));
    await Deno.remove(root, { recursive: true });
    await Deno.remove(exe);
  },
});

Deno.test({
  name: "service install under deno runs deno on the script in place, with a writable DENO_DIR",
  ignore: !haveSystemd,
  async fn() {
    const { root, exe } = await testRoot();
    const denoPath = join(root, "opt/deno/deno");
    await mkdir(join(root, "opt/deno"), { recursive: true });
    await writeFile(denoPath, "", { mode: 0o755 });
    const { d, err } = deps(denoPath, { mainModule: "file:///opt/ctagent/ctagent.js" });
    assert.equal(await serviceCommand(["install", "--root", root], d), 0);
    const unit = await readFile(join(root, UNIT_PATH), "utf8");
    assert.match(
      unit,
      new RegExp(`^ExecStart=${denoPath} run -A --no-prompt /opt/ctagent/ctagent.js --data-dir`, "m"),
    );
    assert.match(unit, /^Environment=DENO_DIR=\/var\/cache\/ctagent$/m);
    assert.ok(!existsSync(join(root, BIN_PATH)), "nothing copied");
    assert.match(err.join("\n"), /in place/);
    await Deno.remove(root, { recursive: true });
    await Deno.remove(exe);
  },
});

Deno.test("service install on the live machine without root says to use sudo, changes nothing", async () => {
  const { d, err } = deps("/nonexistent/ctagent", {
    privileged: false,
    exec: () => Promise.reject(new Error("ran")),
  });
  assert.equal(await serviceCommand(["install"], d), 1);
  assert.match(err.join("\n"), /needs root .*sudo/);
});

Deno.test("service with a wrong action or flag prints usage, exit 2", async () => {
  const { d, err } = deps("/x");
  assert.equal(await serviceCommand(["instal"], d), 2);
  assert.match(err[0], /expected install, uninstall or status, got "instal"/);
  assert.equal(await serviceCommand(["install", "--bogus"], d), 2);
  assert.match(err.join("\n"), /bogus/);
});

Deno.test({
  name: "`ctagent service …` reaches the service command through the CLI, with its own flags",
  ignore: Deno.build.os !== "linux",
}, async () => {
  const { main } = await import("../cli.ts");
  const root = await Deno.makeTempDir({ prefix: "ctagent_root_" });
  const out: string[] = [];
  const io = {
    out: (t: string) => out.push(t),
    outPieces: async (ps: AsyncIterable<string>) => void out.push((await Array.fromAsync(ps)).join("")),
    err: (t: string) => out.push(t),
    env: () => undefined,
  };
  assert.equal(await main(["service", "status", "--root", root], { io }), 3);
  assert.match(out.join("\n"), /ctagent\.service: not installed/);
  assert.equal(await main(["service", "uninstall", "--root", root, "--purge"], { io }), 0);
  await Deno.remove(root, { recursive: true });
});
