// The proof that the shipped program needs nothing: the bundle (what `deno compile` embeds) runs alone in an
// empty directory with an empty DENO_DIR and no network: --once works, the agent starts, the page is served.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { bundle } from "../build/bundle.ts";
import { canIsolate, runOffline } from "../build/offline.ts";

const ignore = !canIsolate();
let built: Promise<string> | undefined;

/** One bundle for the tests in this file, built from this tree with a recognisable stamp. */
function theBundle(): Promise<string> {
  built ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "ctagent_bundle_" });
    globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
    const { out } = await bundle({
      out: join(dir, "ctagent.js"),
      stamp: { version: "0.0.0-selftest", commit: "feedbeef", date: "2026-01-02T03:04:05Z" },
      log: () => {},
    });
    return out;
  })();
  return built;
}

Deno.test("the bundle is Latin-1 throughout, so V8 holds its source one byte a character (half the memory)", async () => {
  const code = await Deno.readTextFile(await theBundle());
  const wide = [...code.matchAll(/[\u0100-\uffff]/g)].map((m) => code.slice(m.index - 40, m.index + 10));
  assert.deepEqual(wide, []);
});

Deno.test({
  name:
    "the bundle alone, offline, with an empty DENO_DIR: --version shows the stamp, --once runs the collectors",
  ignore,
  async fn() {
    const file = await theBundle();
    const v = await runOffline({ bundle: file, mode: "once", args: ["--version"] });
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /^ctagent 0\.0\.0-selftest \(commit feedbeef, built 2026-01-02T03:04:05Z; deno /);

    const r = await runOffline({
      bundle: file,
      mode: "once",
      args: ["--once", "--json", "--data-dir", "data"],
    });
    assert.equal(r.code, 0, `--once on a fresh state is a baseline (exit 0):\n${r.stderr}`);
    const once = JSON.parse(r.stdout);
    assert.equal(once.version, "0.0.0-selftest");
    assert.ok(once.runs.length > 0, "some collector ran");
    for (const run of once.runs) assert.equal(run.error, null, `${run.collector} failed: ${run.error}`);
    const software = once.runs.find((x: { collector: string }) => x.collector === "software");
    assert.ok(
      software?.counts.items > 0,
      `the software collector found this machine's packages: ${JSON.stringify(software)}`,
    );
    assert.deepEqual(r.created, ["data"], "the only thing written beside the program is its state");
    assert.deepEqual(r.fetched, [], "no package or module was fetched or cached");
    await Deno.remove(dirname(v.workDir), { recursive: true });
    await Deno.remove(dirname(r.workDir), { recursive: true });
  },
});

Deno.test({
  name:
    "the bundle alone, offline: the agent starts, serves the page and every asset it names, stops on SIGTERM",
  ignore,
  async fn() {
    const file = await theBundle();
    const r = await runOffline({
      bundle: file,
      mode: "serve",
      args: ["--data-dir", "data", "--listen", "127.0.0.1:8470"],
      url: "http://127.0.0.1:8470/",
      tokenFile: "data/page-token",
    });
    assert.notEqual(r.firstPageMs, null, `the page was never served:\n${r.stderr}`);
    assert.ok(r.page!.bytes > 0, "the page has a body");
    for (const a of r.assets!) {
      assert.equal(a.status, 200, `asset ${a.path} is served`);
      assert.ok(a.bytes > 0, `asset ${a.path} is not empty`);
    }
    if (/html/.test(r.page!.contentType ?? "")) {
      assert.ok(r.assets!.length > 0, "an HTML page names its script or style assets");
    } else {
      // Until the page lands (issue: page) the server answers "/" with text: assets are checked once it is HTML.
      console.warn(`note: "/" is ${r.page!.contentType}, not HTML yet; no assets to check`);
    }
    assert.equal(r.apiStatus!.status, 200, "the API answers");
    assert.equal(r.code, 0, `the agent stops cleanly on SIGTERM (signal ${r.signal}):\n${r.stderr}`);
    assert.match(r.stderr, /level=info msg="?starting/);
    assert.deepEqual(r.fetched, [], "no package or module was fetched or cached");
    await Deno.remove(dirname(r.workDir), { recursive: true });
  },
});

Deno.test({
  name: "the offline runner really has no network: a fetch to a public address fails inside it",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ctagent_nonet_" });
    const probe = join(dir, "probe.js");
    await Deno.writeTextFile(
      probe,
      `try { await fetch("http://1.1.1.1/", { signal: AbortSignal.timeout(3000) }); console.log("reached"); }
       catch (e) { console.log("unreachable: " + e.name); }`,
    );
    const r = await runOffline({ bundle: probe, mode: "once", args: [] });
    assert.match(r.stdout, /^unreachable/, r.stdout);
    await Deno.remove(dirname(r.workDir), { recursive: true });
    await Deno.remove(dir, { recursive: true });
  },
});

/** A Wine setup made by ../shared/wine/setup.sh DIR, named by CTAGENT_WINE=DIR; the Windows run needs one. */
const wineDir = Deno.env.get("CTAGENT_WINE");
const haveWine = canIsolate() && !!wineDir && existsSync(join(wineDir, "deno-wine.exe"));

Deno.test({
  name: "the bundle alone under Windows Deno (Wine), offline, with an empty DENO_DIR: --once runs",
  ignore: !haveWine,
  async fn() {
    const file = await theBundle();
    const dir = await Deno.makeTempDir({ prefix: "ctagent_win_" });
    await mkdir(join(dir, "deno_dir"));
    await copyFile(file, join(dir, "ctagent.js"));
    const win = (p: string) => `Z:${p.replaceAll("/", "\\")}`;
    const out = await new Deno.Command("unshare", {
      args: [
        "-n",
        "sh",
        "-c",
        '. "$0/env.sh" && export DENO_DIR="$1" && shift && exec wine "$@"',
        wineDir!,
        win(join(dir, "deno_dir")),
        join(wineDir!, "deno-wine.exe"),
        "run",
        "-A",
        win(join(dir, "ctagent.js")),
        "--once",
        "--json",
        "--data-dir",
        win(join(dir, "data")),
      ],
      cwd: dir,
      stdin: "null",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    const once = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(once.os, "windows");
    assert.equal(once.version, "0.0.0-selftest");
    for (const run of once.runs) assert.equal(run.error, null, `${run.collector} failed: ${run.error}`);
    await Deno.remove(dir, { recursive: true });
  },
});
