// build/compile.ts: the no-runtime detection and the offline route, with a fake DENO_DIR and no network.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ROOT, stampHeader } from "./bundle.ts";
import { runtimeDownloadFailure, runtimeUrl, runtimeZipPath, TARGETS } from "./compile.ts";
import { storedZip } from "../test/zip.ts";

const canUnshare = Deno.build.os === "linux" && Deno.uid() === 0 && existsSync("/usr/bin/unshare");

/** Runs `deno task compile` (the CLI) under `unshare -n`: no network at all, whatever the machine has. */
async function compileOffline(denoDir: string, args: string[]) {
  const out = await new Deno.Command("unshare", {
    args: ["-n", Deno.execPath(), "run", "-A", join(ROOT, "build", "compile.ts"), ...args],
    env: { DENO_DIR: denoDir, NO_COLOR: "1" },
    cwd: ROOT,
    stdin: "null",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

async function fixture() {
  const dir = await Deno.makeTempDir({ prefix: "ctagent_compile_" });
  const source = join(dir, "app.js");
  await writeFile(
    source,
    stampHeader({ version: "9.9.9", commit: "c0ffee", date: "2026-01-01T00:00:00Z" }) +
      'console.log("hello from", globalThis.__CTAGENT_BUILD__.version);\n',
  );
  return { dir, source, denoDir: join(dir, "deno_dir"), outDir: join(dir, "dist") };
}

Deno.test({
  name: "compile reports the runtime it cannot download and where to put it, exit 3",
  ignore: !canUnshare,
  async fn() {
    const f = await fixture();
    const target = "aarch64-unknown-linux-gnu";
    const r = await compileOffline(f.denoDir, [
      "--skip-bundle",
      "--source",
      f.source,
      "--out-dir",
      f.outDir,
      "--target",
      target,
    ]);
    assert.equal(r.code, 3, r.stderr);
    const zip = runtimeZipPath(f.denoDir, Deno.version.deno, target);
    assert.ok(r.stderr.includes(zip), `the advice names ${zip}:\n${r.stderr}`);
    assert.ok(r.stderr.includes(runtimeUrl(Deno.version.deno, target)), r.stderr);
    assert.match(r.stderr, /could not download/);
    assert.ok(!existsSync(join(f.outDir, TARGETS[target])));
    await Deno.remove(f.dir, { recursive: true });
  },
});

Deno.test({
  name: "compile uses a runtime zip placed at the advised path, without the network",
  ignore: !canUnshare,
  async fn() {
    const f = await fixture();
    const target = "x86_64-unknown-linux-gnu";
    // A stand-in runtime: any executable works as the base binary; the compiler appends the program to it.
    const zip = runtimeZipPath(f.denoDir, Deno.version.deno, target);
    await mkdir(join(zip, ".."), { recursive: true });
    await writeFile(zip, storedZip("denort", await readFile("/bin/true")));

    const r = await compileOffline(f.denoDir, [
      "--skip-bundle",
      "--source",
      f.source,
      "--out-dir",
      f.outDir,
      "--target",
      target,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /runtime cached at/);
    const exe = await readFile(join(f.outDir, TARGETS[target]));
    const embedded = new TextDecoder("latin1").decode(exe);
    assert.ok(embedded.includes('"commit":"c0ffee"'), "the stamped program is embedded in the executable");

    // one target cached, one not: the cached one is built, the run still says what is missing
    const both = await compileOffline(f.denoDir, [
      "--skip-bundle",
      "--source",
      f.source,
      "--out-dir",
      f.outDir,
      "--target",
      target,
      "--target",
      "x86_64-pc-windows-msvc",
    ]);
    assert.equal(both.code, 3, both.stderr);
    assert.ok(both.stderr.includes(runtimeZipPath(f.denoDir, Deno.version.deno, "x86_64-pc-windows-msvc")));
    assert.ok(!both.stderr.includes(`-> ${zip}`), "the cached target is not listed as missing");
    await Deno.remove(f.dir, { recursive: true });
  },
});

Deno.test({
  name: "compile fails with exit 1, not the offline advice, when the program itself is wrong",
  ignore: !canUnshare,
  async fn() {
    const f = await fixture();
    await writeFile(f.source, 'import "./missing_module.js";\n');
    const r = await compileOffline(f.denoDir, [
      "--skip-bundle",
      "--source",
      f.source,
      "--out-dir",
      f.outDir,
      "--target",
      "x86_64-unknown-linux-gnu",
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(!r.stderr.includes("offline route"), r.stderr);
    await Deno.remove(f.dir, { recursive: true });
  },
});

Deno.test("runtimeDownloadFailure() recognises only download failures of the runtime", () => {
  const dl = "Download https://dl.deno.land/release/v2.9.5/denort-x86_64-unknown-linux-gnu.zip\n" +
    "error: Writing deno compile executable to temporary file 'x.tmp'\n\nCaused by:\n" +
    "    0: Setting up base binary.\n    1: error sending request for url (https://dl.deno.land/x.zip): boom\n" +
    "    2: client error (Connect)\n    3: dns error\n";
  assert.equal(
    runtimeDownloadFailure(dl),
    "error sending request for url (https://dl.deno.land/x.zip): boom",
  );
  assert.equal(runtimeDownloadFailure(dl.replace(/ {4}1: .*\n/, "")), "client error (Connect)");
  assert.equal(runtimeDownloadFailure('error: Module not found "file:///x/missing.js".'), undefined);
});

Deno.test("runtimeZipPath() is DENO_DIR/dl/release/v<version>/denort-<target>.zip", () => {
  assert.equal(
    runtimeZipPath("/cache/deno", "2.9.5", "x86_64-pc-windows-msvc"),
    join("/cache/deno", "dl", "release", "v2.9.5", "denort-x86_64-pc-windows-msvc.zip"),
  );
});
