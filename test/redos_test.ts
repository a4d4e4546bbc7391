// DCR path patterns cannot freeze the agent (SPEC §7.25): ReDoS patterns against names built to trigger them,
// and patterns outside the linear-time subset rejected with their JSON path.
import assert from "node:assert/strict";
import { redosPatterns, triggerNames } from "../agent/collectors/files/testdata/redos.ts";
import { onlyDcr, runCli, withTempDir } from "./helpers.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

Deno.test("--once over a directory of trigger names finishes with every ReDoS pattern of the test set", () =>
  withTempDir(async (dir) => {
    const watched = `${dir}/in`;
    await Deno.mkdir(watched);
    // The name (34 a's and a !) and longer ones, up to what a Linux name may hold.
    const names = [...new Set(["a".repeat(34) + "!", ...triggerNames(34), ...triggerNames(200)])];
    for (const n of names) await Deno.writeTextFile(`${watched}/${n}`, "x");
    const patterns = redosPatterns();
    await Deno.writeTextFile(
      `${dir}/dcr.json`,
      onlyDcr(["files"], {
        fileSettings: {
          fileInfo: patterns.map((p, i) => ({ name: `p${i}`, destinationPath: `${watched}/${p}` })),
        },
      }),
    );
    const started = performance.now();
    // A separate process: with a backtracking matcher this run never ends, and the test must be able to say so.
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        MAIN,
        "--once",
        "--json",
        "--no-ama",
        "--dcr",
        `${dir}/dcr.json`,
        "--data-dir",
        `${dir}/d`,
      ],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    const ms = Math.round(performance.now() - started);
    const err = new TextDecoder().decode(out.stderr);
    assert.notEqual(out.signal, "SIGTERM", `--once was still matching after 60 s:\n${err}`);
    assert.ok(out.code === 0 || out.code === 1, `exit ${out.code}:\n${err}`);
    const report = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(report.runs[0].status, "baseline", err);
    const files = report.inventory.files.map((c: { FileSystemPath: string }) => c.FileSystemPath) as string[];
    // (a+)+$ matches the names of a's only; nothing matched the ones ending in "!" but the patterns meant to.
    assert.ok(files.includes(`${watched}/${"a".repeat(200)}`), "a name of 200 a's matched");
    assert.deepEqual(
      files.filter((f) => f.endsWith("!")).length,
      2,
      "the two names ending in ! matched [^!]+-style patterns",
    );
    console.log(`${patterns.length} patterns × ${names.length} trigger names: --once took ${ms} ms`);
  }));

Deno.test("dcr check rejects a backreference and a lookbehind with their JSON paths (exit 17)", () =>
  withTempDir(async (dir) => {
    const file = `${dir}/dcr.json`;
    await Deno.writeTextFile(
      file,
      onlyDcr(["files"], {
        fileSettings: {
          fileInfo: [
            { name: "ok", destinationPath: "/etc/.*.conf" },
            { name: "glob", destinationPath: "/etc/*.conf" },
            { name: "backref", destinationPath: "/srv/in/(a)\\1" },
            { name: "lookbehind", path: "/srv/in/(?<!x)y" },
          ],
        },
      }),
    );
    const r = await runCli(["dcr", "check", file, "--os", "linux"]);
    assert.equal(r.code, 17, r.err);
    assert.match(r.err, /fileSettings\.fileInfo\[2\]\.destinationPath: backreference \\1 is not supported/);
    assert.match(r.err, /fileSettings\.fileInfo\[3\]\.path: lookbehind \(\?<!…\) is not supported/);
    assert.match(r.err, /2 problem\(s\)/);
  }));
