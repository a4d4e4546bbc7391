// End to end through the CLI: --once against this machine's dpkg and against a fixture root.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dcrCollectorsOnly, dpkgFixture, onlyDcr, runCli, withTempDir } from "./helpers.ts";

const hasDpkg = existsSync("/var/lib/dpkg/status");

Deno.test({
  name: "--once --json lists exactly the packages dpkg-query -W lists (name, version, architecture)" +
    (hasDpkg ? "" : " (SKIPPED: no dpkg on this machine)"),
  ignore: !hasDpkg,
  fn: () =>
    withTempDir(async (dir) => {
      await Deno.writeTextFile(`${dir}/dcr.json`, onlyDcr(["software"]));
      const { code, out } = await runCli(["--once", "--json", "--dcr", `${dir}/dcr.json`, "--data-dir", dir]);
      assert.equal(code, 0);
      const doc = JSON.parse(out);
      const ours = doc.inventory.software.filter((r: Record<string, string>) => r.Manager === "dpkg")
        .map((r: Record<string, string>) => `${r.SoftwareName}\t${r.CurrentVersion}\t${r.Architecture}`)
        .sort();
      const theirs = execFileSync("dpkg-query", ["-W", "-f", "${Package}\t${Version}\t${Architecture}\n"], {
        encoding: "utf8",
      })
        .trim().split("\n").sort();
      assert.equal(ours.length, theirs.length);
      assert.deepEqual(ours, theirs);
      assert.equal(doc.runs[0].status, "baseline");
      assert.deepEqual(doc.changes, []);
    }),
});

const STANZA = (name: string, version: string) =>
  `Package: ${name}\nStatus: install ok installed\nInstalled-Size: 10\nMaintainer: Test <t@example.org>\n` +
  `Architecture: amd64\nVersion: ${version}\nDescription: test package ${name}\n long description\n`;

Deno.test("--once on a fixture root reports exactly the added, removed and modified package, with exit bits", () =>
  withTempDir(async (dir) => {
    const { root, status, args } = await dpkgFixture(dir);
    const write = (pkgs: [string, string][]) =>
      Deno.writeTextFile(status, pkgs.map(([n, v]) => STANZA(n, v)).join("\n"));
    const once = () => runCli(args);
    const changes = (out: string) =>
      JSON.parse(out).changes.map((
        c: Record<string, string>,
      ) => [c.ChangeCategory, c.SoftwareName, c.Previous ?? "", c.Current ?? ""]);

    await write([["alpha", "1.0"], ["beta", "1.0"], ["gamma", "1.0"]]);
    assert.equal((await once()).code, 0); // baseline

    await write([["alpha", "1.0"], ["beta", "1.0"], ["gamma", "1.0"], ["delta", "0.1"]]);
    let r = await once();
    assert.equal(r.code, 1);
    assert.deepEqual(changes(r.out), [["Added", "delta", "", "0.1"]]);

    await write([["alpha", "1.0"], ["gamma", "1.0"], ["delta", "0.1"]]);
    r = await once();
    assert.equal(r.code, 2);
    assert.deepEqual(changes(r.out), [["Removed", "beta", "1.0", ""]]);

    await write([["alpha", "1.1"], ["gamma", "1.0"], ["delta", "0.1"], ["epsilon", "2"]]);
    r = await once();
    assert.equal(r.code, 1 | 4);
    assert.deepEqual(changes(r.out), [["Modified", "alpha", "1.0", "1.1"], ["Added", "epsilon", "", "2"]]);
    assert.equal(JSON.parse(r.out).changes[0].FieldsChanged, "CurrentVersion");

    r = await once();
    assert.equal(r.code, 0);
    assert.deepEqual(changes(r.out), []);

    // The human summary says the same.
    await write([["alpha", "1.1"], ["gamma", "1.0"], ["delta", "0.1"]]);
    const text = await runCli([
      "--once",
      "--root",
      root,
      "--dcr",
      `${dir}/dcr.json`,
      "--data-dir",
      `${dir}/data`,
    ]);
    assert.equal(text.code, 2);
    assert.match(text.out, /software\s+ok\s+3 items, \+0 added, -1 removed, ~0 modified/);
    assert.match(text.out, /Removed\s+Software\s+epsilon/);
  }));

Deno.test("--once with an unreadable package database fails the run (exit 18) and reports nothing removed", () =>
  withTempDir(async (dir) => {
    const { status, args } = await dpkgFixture(dir);
    await Deno.writeTextFile(status, STANZA("alpha", "1"));
    assert.equal((await runCli(args)).code, 0);
    await Deno.remove(status);
    await Deno.mkdir(status); // present but unreadable as a file
    const r = await runCli(args);
    assert.equal(r.code, 18);
    const doc = JSON.parse(r.out);
    assert.deepEqual(doc.changes, []);
    assert.equal(doc.runs[0].status, "failed");
    assert.match(doc.runs[0].error, /dpkg: cannot read the package database/);
    assert.match(r.err, /software run failed/);
    // The package is still in the inventory, and comes back without a change once readable.
    await Deno.remove(status);
    await Deno.writeTextFile(status, STANZA("alpha", "1"));
    const again = await runCli(args);
    assert.deepEqual([again.code, JSON.parse(again.out).changes], [0, []]);
  }));

Deno.test("the CLI rejects unknown flags with a hint and exit 16, and documents the exit codes", async () => {
  const r = await runCli(["--onec"]);
  assert.equal(r.code, 16);
  assert.match(r.err, /unknown flag --onec \(did you mean --once\?\)/);
  assert.equal((await runCli(["frobnicate"])).code, 16);
  assert.equal((await runCli(["--listen", "nowhere"])).code, 16);
  const fields = await runCli(["--once", "--forward", "tcp://127.0.0.1:1", "--forward-fields", "some"]);
  assert.deepEqual([fields.code, fields.err.split("\n")[0]], [
    16,
    'ctagent: --forward-fields: expected la or full, got "some"',
  ]);
  assert.match(
    (await runCli(["--once", "--forward-fields", "la"])).err,
    /--forward-fields needs --forward URL/,
  );
  const help = await runCli(["--help"]);
  assert.equal(help.code, 0);
  for (const code of ["16", "17", "18", "19", "20"]) assert.match(help.out, new RegExp(`^  ${code}  `, "m"));
  assert.match((await runCli(["--version"])).out, /^ctagent \d+\.\d+\.\d+/);
  assert.match((await runCli(["--", "--version", "--no-ama"])).out, /^ctagent \d+\.\d+\.\d+/); // as `deno task start -- …` passes it
});

Deno.test("status reports the last runs and the outbox from the database", () =>
  withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/root/var/lib/dpkg`, { recursive: true });
    await Deno.writeTextFile(`${dir}/root/var/lib/dpkg/status`, STANZA("alpha", "1"));
    await Deno.writeTextFile(`${dir}/dcr.json`, onlyDcr(["software"]));
    await runCli([
      "--once",
      "--root",
      `${dir}/root`,
      "--dcr",
      `${dir}/dcr.json`,
      "--data-dir",
      dir,
      ...dcrCollectorsOnly(dir),
    ]);
    const r = await runCli(["status", "--json", "--data-dir", dir]);
    const s = JSON.parse(r.out);
    // Collectors on by default (ctagent's own settings) run too; software's is the one this DCR asks for.
    const software = s.runs.find((run: { collector: string }) => run.collector === "software");
    assert.equal(software?.status, "baseline");
    assert.equal(s.outbox.byStream.CONFIG_DATA_BLOB_V2, 1);
    assert.equal(s.config.source, "file");
    const text = await runCli(["status", "--data-dir", dir]);
    assert.match(text.out, /software\s+baseline/);
  }));

Deno.test("--config FILE holds the same settings as the flags, and the command line wins", () =>
  withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/root/var/lib/dpkg`, { recursive: true });
    await Deno.writeTextFile(`${dir}/root/var/lib/dpkg/status`, STANZA("alpha", "1"));
    await Deno.writeTextFile(`${dir}/dcr.json`, onlyDcr(["software"]));
    await Deno.writeTextFile(
      `${dir}/ctagent.json`,
      JSON.stringify({ root: `${dir}/root`, dcr: `${dir}/dcr.json`, "data-dir": `${dir}/from-file` }),
    );
    const r = await runCli([
      "--once",
      "--json",
      "--config",
      `${dir}/ctagent.json`,
      "--data-dir",
      `${dir}/from-flag`,
    ]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(
      JSON.parse(r.out).inventory.software.map((s: Record<string, string>) => s.SoftwareName),
      ["alpha"],
    );
    assert.ok(await Deno.stat(`${dir}/from-flag/ctagent.db`));
    await assert.rejects(() => Deno.stat(`${dir}/from-file`));
    await Deno.writeTextFile(`${dir}/bad.json`, '{"forwrd": "tcp://x:1"}');
    const bad = await runCli(["--once", "--config", `${dir}/bad.json`]);
    assert.equal(bad.code, 16);
    assert.match(bad.err, /bad\.json: "forwrd" is not a setting the file can hold/);
  }));

Deno.test("--once --json whose reader goes away (`| head`) ends its run as without it: exit 0, no error", () =>
  withTempDir(async (dir) => {
    // 2,000 files: a document of ~1 MB, many times what a pipe holds, so most of it is written after the close.
    await Deno.mkdir(`${dir}/tree`);
    for (let i = 0; i < 2_000; i++) await Deno.writeTextFile(`${dir}/tree/f${i}`, `${i}\n`);
    await Deno.writeTextFile(
      `${dir}/dcr.json`,
      onlyDcr(["files"], {
        fileSettings: { fileInfo: [{ destinationPath: `${dir}/tree/*`, recurse: true }] },
      }),
    );
    const args = ["--once", "--json", "--no-ama", "--dcr", `${dir}/dcr.json`, "--data-dir", `${dir}/data`];
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../main.ts", import.meta.url).pathname,
        ...args,
        ...dcrCollectorsOnly(dir),
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.getReader();
    const first = await reader.read();
    assert.ok(!first.done && first.value.length > 0);
    await reader.cancel(); // the read end closes: the rest of the document has nowhere to go
    const [status, err] = await Promise.all([child.status, new Response(child.stderr).text()]);
    assert.equal(err, "");
    assert.equal(status.code, 0);
  }));

Deno.test("--once --json prints every change record, in key order, and leaves nothing of them in the data directory", () =>
  withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/tree`);
    const names = Array.from({ length: 600 }, (_, i) => `f${String(599 - i).padStart(3, "0")}`);
    for (const n of names) await Deno.writeTextFile(`${dir}/tree/${n}`, "1\n");
    await Deno.writeTextFile(
      `${dir}/dcr.json`,
      onlyDcr(["files"], { fileSettings: { fileInfo: [{ destinationPath: `${dir}/tree/*` }] } }),
    );
    // Only the files: this machine's listening ports (and accounts, tasks, modules) change meanwhile in a suite.
    const args = ["--once", "--no-ama", "--dcr", `${dir}/dcr.json`, "--data-dir", `${dir}/data`];
    args.push(...dcrCollectorsOnly(dir));
    assert.equal((await runCli(args)).code, 0); // baseline
    for (const n of names) await Deno.writeTextFile(`${dir}/tree/${n}`, "22\n");
    const { code, out, err } = await runCli([...args, "--json"]);
    assert.equal(code, 4, `modified only; ${err}${out.slice(0, 2000)}`);
    const doc = JSON.parse(out);
    assert.deepEqual(
      doc.changes.map((
        r: { FileSystemPath: string; ChangeCategory: string },
      ) => [r.ChangeCategory, r.FileSystemPath]),
      [...names].sort().map((n) => ["Modified", `${dir}/tree/${n}`]),
    );
    const left = [...Deno.readDirSync(`${dir}/data`)].map((e) => e.name).filter((n) => n.startsWith("once-"));
    assert.deepEqual(left, []);
  }));
