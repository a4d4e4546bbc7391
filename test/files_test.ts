// Files end to end: `--once --json` against a hostile tree, and changes through the real pipeline.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { dcrCollectorsOnly, MAIN, onlyDcr, runCli, withTempDir } from "./helpers.ts";
import { EXIT } from "../agent/exit_codes.ts";
import { makeHostileTree, sha256sumAll } from "../agent/collectors/files/testdata/hostile_tree.ts";
import { bytesToPath } from "../agent/host/files/names.ts";
import { filesCollector } from "../agent/collectors/files/mod.ts";
import { LIBC_OPS } from "../agent/host/files/walk_posix.ts";
import { SysError } from "../agent/host/files/libc_posix.ts";
import { settingsSchema } from "../agent/config/dcr.ts";
import { runCollector } from "../agent/pipeline/run.ts";
import { openDb } from "../db/open.ts";
import { writeMirrors } from "../agent/pipeline/mirrors.ts";
import { liveHost } from "../agent/host/mod.ts";
import { memoryLogger } from "../agent/log.ts";

type Rec = Record<string, string>;
const HAVE_SETFACL = spawnSync("setfacl", ["--version"]).status === 0;

Deno.test("--once --json: FileContentChecksum equals sha256sum for every file of a hostile tree", async () => {
  const t = await makeHostileTree();
  try {
    await withTempDir(async (dir) => {
      const dcr = onlyDcr(["files"], {
        fileSettings: { fileInfo: [{ name: "t", destinationPath: `${t.dir}/.*`, recurse: true }] },
      });
      await Deno.writeTextFile(`${dir}/dcr.json`, dcr);
      const { code, out, err } = await runCli([
        "--once",
        "--json",
        "--dcr",
        `${dir}/dcr.json`,
        "--data-dir",
        dir,
      ]);
      assert.equal(code, 0, err);
      const files: Rec[] = JSON.parse(out).inventory.files;
      assert.ok(files.every((r) => r.ConfigDataType === undefined || r.ConfigDataType === "Files"));
      const ours = new Map(
        files.filter((r) => r.FileContentChecksum).map((r) => [r.FileSystemPath, r.FileContentChecksum]),
      );
      const theirs = sha256sumAll(t.dir, bytesToPath);
      assert.ok(theirs.size >= 10);
      assert.deepEqual([...ours].sort(), [...theirs].sort());
      assert.ok(files.some((r) => r.FileType === "Fifo"));
    });
  } finally {
    await t.cleanup();
  }
});

/** A tree, the files collector (optionally denying names) and the real pipeline on an in-memory db. */
async function pipeline(deny: string[] = []) {
  const dir = await Deno.makeTempDir({ prefix: "ctagent-files-e2e-" });
  await Deno.mkdir(`${dir}/sub`);
  for (const [p, c] of [["a.conf", "alpha\n"], ["b.conf", "bravo\n"], ["sub/c.conf", "charlie\n"]]) {
    await Deno.writeTextFile(`${dir}/${p}`, c);
  }
  await Deno.symlink("a.conf", `${dir}/mlink`);
  const settings = settingsSchema("linux").parse({
    fileSettings: {
      fileInfo: [
        { name: "links", path: `${dir}/mlink`, links: "Manage" },
        { name: "tree", path: `${dir}/.*`, recurse: true },
      ],
    },
  });
  const ops = {
    ...LIBC_OPS,
    openAt(dirfd: number, name: Uint8Array<ArrayBuffer>, flags: number) {
      const s = bytesToPath(name.subarray(0, name.length - 1));
      if (deny.includes(s)) throw new SysError("openat", 13); // names are relative to their directory fd
      return LIBC_OPS.openAt(dirfd, name, flags);
    },
  };
  // Account files listed here cannot be read: reading one reads a directory instead (EISDIR, from the kernel).
  const unreadable: string[] = [];
  const live = liveHost();
  const host = {
    ...live,
    readText: (p: string) => live.readText(unreadable.includes(p) ? "/etc" : p),
  };
  const { db, raw, close } = await openDb(":memory:");
  let now = 1_000_000;
  const run = async () => {
    const s = await runCollector({
      db,
      raw,
      collector: filesCollector({ ops }),
      settings,
      host,
      log: memoryLogger(),
      signal: new AbortController().signal,
      now: () => (now += 1000),
    });
    assert.ok(s.status === "ok" || s.status === "baseline", s.error);
    last = s.changes;
    return s.changes.map((c) => ({
      cat: c.ChangeCategory,
      path: c.FileSystemPath.slice(dir.length),
      fields: c.FieldsChanged,
    }));
  };
  let last: Rec[] = [];
  return {
    dir,
    run,
    /** The records of the last run, whole. */
    records: () => last,
    deny,
    unreadable,
    done: async () => {
      await close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

const tick = () => new Promise((r) => setTimeout(r, 15));

Deno.test(
  `pipeline: one byte, a mode bit, an ACL entry, an owner, a link target → exactly one Modified each, right fields${
    HAVE_SETFACL ? "" : " (ACL entries skipped: setfacl, Debian acl, is not installed)"
  }`,
  async () => {
    const p = await pipeline();
    try {
      assert.deepEqual(await p.run(), []); // baseline
      assert.deepEqual(await p.run(), []); // nothing changed

      await tick();
      const f = await Deno.open(`${p.dir}/b.conf`, { write: true });
      await f.write(new TextEncoder().encode("B")); // "bravo" → "Bravo": same size
      f.close();
      assert.deepEqual(await p.run(), [{
        cat: "Modified",
        path: "/b.conf",
        fields: "DateModified, FileContentChecksum",
      }]);

      // A chmod shows in Acls (getfacl's text of the mode) and Mode (issue 15).
      await Deno.chmod(`${p.dir}/b.conf`, 0o600);
      assert.deepEqual(await p.run(), [{ cat: "Modified", path: "/b.conf", fields: "Acls, Mode" }]);
      assert.deepEqual([p.records()[0].PreviousAcls, p.records()[0].Acls], [
        "user::rw-,group::r--,other::r--",
        "user::rw-,group::---,other::---",
      ]);
      if (HAVE_SETFACL) {
        // An ACL entry: Acls, and the mode's group bits that now show the mask.
        execFileSync("setfacl", ["-m", "u:65534:r", `${p.dir}/b.conf`]);
        assert.deepEqual(await p.run(), [{ cat: "Modified", path: "/b.conf", fields: "Acls, Mode" }]);
        // Another entry within the same mask: Acls alone.
        execFileSync("setfacl", ["-m", "g:0:r", `${p.dir}/b.conf`]);
        assert.deepEqual(await p.run(), [{ cat: "Modified", path: "/b.conf", fields: "Acls" }]);
        assert.match(
          p.records()[0].Acls,
          /^user::rw-,user:\S+:r--,group::---,group:root:r--,mask::r--,other::---$/,
        );
        assert.doesNotMatch(p.records()[0].PreviousAcls, /group:root/);
      } else console.warn("setfacl not tested: Debian's acl is not installed");

      if (Deno.uid() === 0) { // only root can give a file away
        execFileSync("chown", ["65534", `${p.dir}/sub/c.conf`]);
        assert.deepEqual(await p.run(), [{ cat: "Modified", path: "/sub/c.conf", fields: "Owner, OwnerId" }]);
      } else console.warn("owner change not tested: not root");

      const before = await Deno.lstat(`${p.dir}/mlink`);
      await tick();
      execFileSync("ln", ["-sfn", "b.conf", `${p.dir}/mlink`]);
      const after = await Deno.lstat(`${p.dir}/mlink`);
      // What really changed on the link, from the OS's own view: it is a new link with a new target.
      const expect = ["LinkTarget"];
      if (before.birthtime?.getTime() !== after.birthtime?.getTime()) expect.push("DateCreated");
      if (before.mtime?.getTime() !== after.mtime?.getTime()) expect.push("DateModified");
      if (before.size !== after.size) expect.push("Size");
      assert.deepEqual(await p.run(), [{
        cat: "Modified",
        path: "/mlink",
        fields: expect.sort().join(", "),
      }]);
      assert.deepEqual(await p.run(), []);
    } finally {
      await p.done();
    }
  },
);

Deno.test("pipeline: a new file is Added, a deleted one Removed, an unreadable one neither", async () => {
  const p = await pipeline();
  try {
    await p.run();
    await Deno.writeTextFile(`${p.dir}/sub/new.conf`, "new\n");
    assert.deepEqual(await p.run(), [{ cat: "Added", path: "/sub/new.conf", fields: "" }]);
    await Deno.remove(`${p.dir}/b.conf`);
    assert.deepEqual(await p.run(), [{ cat: "Removed", path: "/b.conf", fields: "" }]);

    // Now a.conf cannot be opened and sub/ cannot be listed: no change is reported for either,
    // even though a.conf's content and sub/'s files changed meanwhile.
    await tick();
    await Deno.writeTextFile(`${p.dir}/a.conf`, "ALPHA\n");
    await Deno.remove(`${p.dir}/sub/c.conf`);
    p.deny.push("a.conf", "sub");
    assert.deepEqual(await p.run(), []);
    // Readable again: the real changes show up.
    p.deny.length = 0;
    const changes = await p.run();
    assert.deepEqual(changes.map((c) => `${c.cat} ${c.path}`).sort(), [
      "Modified /a.conf",
      "Removed /sub/c.conf",
    ]);
  } finally {
    await p.done();
  }
});

Deno.test("pipeline: /etc/passwd or /etc/group that cannot be read changes no Owner or Group; changes wait for them", async () => {
  const p = await pipeline();
  try {
    await p.run();
    p.unreadable.push("/etc/passwd");
    assert.deepEqual(await p.run(), [], "no names this time: nothing changed");
    p.unreadable.splice(0, 1, "/etc/group");
    assert.deepEqual(await p.run(), [], "no group names this time: nothing changed");
    p.unreadable.push("/etc/passwd");
    // Changed and new files meanwhile: what they are cannot be said whole (their owner's name), so they are
    // kept as they were until it can, like a file that cannot be read.
    await tick();
    await Deno.writeTextFile(`${p.dir}/a.conf`, "ALPHA\n");
    await Deno.writeTextFile(`${p.dir}/sub/new.conf`, "new\n");
    assert.deepEqual(await p.run(), []);
    p.unreadable.length = 0;
    const changes = await p.run();
    assert.deepEqual(changes.map((c) => `${c.cat} ${c.path}: ${c.fields}`).sort(), [
      "Added /sub/new.conf: ",
      "Modified /a.conf: DateModified, FileContentChecksum",
    ]);
    assert.deepEqual(await p.run(), []);
  } finally {
    await p.done();
  }
});

Deno.test("pipeline: a files run aborted while hashing a huge file ends within 2 s as aborted, storing nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ctagent-files-abort-" });
  const { db, raw, close } = await openDb(":memory:");
  try {
    execFileSync("truncate", ["-s", "1T", `${dir}/huge.img`]);
    await Deno.writeTextFile(`${dir}/a.conf`, "alpha\n");
    const settings = settingsSchema("linux").parse({
      fileSettings: { fileInfo: [{ name: "t", path: dir, recurse: true }], maxHashBytes: 2 ** 41 },
    });
    const ac = new AbortController();
    const run = runCollector({
      db,
      raw,
      collector: filesCollector() as never,
      settings,
      host: liveHost(),
      log: memoryLogger(),
      signal: ac.signal,
    });
    await new Promise((r) => setTimeout(r, 1000));
    const t = performance.now();
    ac.abort();
    const s = await run;
    const ms = performance.now() - t;
    assert.ok(ms < 2000, `ended ${Math.round(ms)} ms after the abort`);
    assert.equal(s.status, "aborted");
    const n = raw.prepare("SELECT count(*) AS n FROM items").get() as { n: number };
    assert.equal(n.n, 0);
  } finally {
    await close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pipeline: a baseline writes File.json as it stores its items, byte for byte what the table gives after", async () => {
  const t = await makeHostileTree();
  const out = await Deno.makeTempDir({ prefix: "ctagent-files-mirror-" });
  const { db, raw, close } = await openDb(":memory:");
  try {
    // Keys whose JavaScript order is not SQLite's (astral characters against U+E000–U+FFFF), a control
    // character, and a file whose read fails (its line carries the error).
    for (
      const name of ["\u{1F600}.conf", "\uFF21.conf", "\uE000.conf", "tab\there.conf", "unreadable.conf"]
    ) {
      await Deno.writeTextFile(`${t.dir}/${name}`, name);
    }
    const deny = ["unreadable.conf"];
    const ops = {
      ...LIBC_OPS,
      openAt(dirfd: number, name: Uint8Array<ArrayBuffer>, flags: number) {
        if (deny.includes(bytesToPath(name.subarray(0, name.length - 1)))) throw new SysError("openat", 13);
        return LIBC_OPS.openAt(dirfd, name, flags);
      },
    };
    const s = await runCollector({
      db,
      raw,
      collector: filesCollector({ ops }),
      settings: settingsSchema("linux").parse({
        fileSettings: { fileInfo: [{ name: "t", path: `${t.dir}/.*`, recurse: true }] },
      }),
      host: liveHost(),
      log: memoryLogger(),
      signal: new AbortController().signal,
      mirrorDir: `${out}/run`,
    });
    assert.equal(s.status, "baseline", s.error);
    assert.equal(s.mirrored, true, "the baseline put its mirror in place");
    await writeMirrors({ db, dir: `${out}/table`, os: "linux", only: ["files"] });
    const ran = Deno.readFileSync(`${out}/run/File.json`);
    assert.deepEqual(ran, Deno.readFileSync(`${out}/table/File.json`));
    const lines = new TextDecoder().decode(ran);
    assert.ok(JSON.parse(lines).length > 20);
    assert.match(lines, /unreadable\.conf.*"error":/);
    assert.deepEqual(
      Deno.readDirSync(`${out}/run`).map((e) => e.name).toArray(),
      ["File.json"],
      "no temp file",
    );
  } finally {
    await close();
    await t.cleanup();
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("--once: a rescan of thousands of files begins its walk's thread before its turn, as the last one left it", async () => {
  await withTempDir(async (dir) => {
    const tree = `${dir}/tree`;
    for (let d = 0; d < 50; d++) {
      await Deno.mkdir(`${tree}/d${d}`, { recursive: true });
      for (let f = 0; f < 100; f++) await Deno.writeTextFile(`${tree}/d${d}/f${f}`, `${d}.${f}\n`);
    }
    await Deno.writeTextFile(
      `${dir}/dcr.json`,
      onlyDcr(["files"], {
        fileSettings: { fileInfo: [{ name: "t", destinationPath: `${tree}/.*`, recurse: true }] },
      }),
    );
    const once = () => runCli(["--once", "-v", "--dcr", `${dir}/dcr.json`, "--data-dir", `${dir}/state`]);
    const begun = /msg="begun ahead of its turn" collector=files/;
    // The baseline reads nothing ahead, and leaves where the next run's thread begins (5,000 items stored).
    const baseline = await once();
    assert.equal(baseline.code, 0, baseline.err);
    assert.doesNotMatch(baseline.err, begun);
    assert.match(baseline.err, /msg="files collected" .*begunAhead=false/);
    await Deno.writeTextFile(`${tree}/d7/f7`, "changed\n");
    const rescan = await once();
    assert.equal(rescan.code, EXIT.MODIFIED, rescan.err);
    assert.match(rescan.err, begun);
    assert.match(rescan.err, /msg="files collected" .*begunAhead=true/);
    assert.match(rescan.out, /files +ok +5000 items, \+0 added, -0 removed, ~1 modified/);
    assert.match(rescan.out, /Modified Files +.*\/d7\/f7/);
    // Below 5,000 items the next run reads nothing ahead: nothing is begun for it.
    await Deno.remove(`${tree}/d0/f0`);
    const fewer = await once();
    assert.equal(fewer.code, EXIT.REMOVED, fewer.err);
    assert.match(fewer.err, /msg="files collected" .*begunAhead=true/);
    const last = await once();
    assert.equal(last.code, 0, last.err);
    assert.doesNotMatch(last.err, begun);
  });
});

Deno.test("--once rescans go past the subtrees they kept unchanged, and still find a change, a removal and an addition in them", () =>
  withTempDir(async (dir) => {
    // 5,200 files (a rescan of as many reads its listings ahead, where subtrees are kept), 13 directories of 400.
    const tree = `${dir}/tree`;
    for (let d = 0; d < 13; d++) {
      await Deno.mkdir(`${tree}/d${d}/inner`, { recursive: true });
      for (let f = 0; f < 200; f++) {
        await Deno.writeTextFile(`${tree}/d${d}/f${f}`, `${d}.${f}\n`);
        await Deno.writeTextFile(`${tree}/d${d}/inner/f${f}`, `inner ${d}.${f}\n`);
      }
    }
    // A link followed (the rule's default): what it reports is its target's, which no stat in the tree shows.
    await Deno.writeTextFile(`${dir}/outside`, "outside\n");
    await Deno.symlink("../../outside", `${tree}/d7/link`);
    const dcr = onlyDcr(["files"], {
      fileSettings: {
        fileInfo: [{ name: "t", destinationPath: tree, recurse: true, maxContentsReturnable: 0 }],
      },
    });
    await Deno.writeTextFile(`${dir}/dcr.json`, dcr);
    const args = ["--once", "--json", "-v", "--dcr", `${dir}/dcr.json`, "--data-dir", `${dir}/data`];
    // A process of its own, as a user runs it (under `deno test` the thread reading ahead is type-checked as it
    // starts, and the walk, tired of waiting for it, reads the tree itself).
    const once = async () => {
      const r = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, "--no-ama", ...args, ...dcrCollectorsOnly(dir)],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const err = new TextDecoder().decode(r.stderr);
      const skipped = Number(err.match(/msg="files collected".* subtreesSkipped=(\d+)/)?.[1]);
      const changes = (JSON.parse(new TextDecoder().decode(r.stdout)).changes as Rec[])
        .map((c) => `${c.ChangeCategory} ${c.FileSystemPath}`);
      return { code: r.code, err, skipped, changes: changes.sort() };
    };
    // The first scan keeps the subtrees it walked whole (its walk makes their digests: it reads nothing ahead).
    assert.equal((await once()).code, 0, "baseline");
    let r = await once(); // reads ahead, goes past them
    assert.deepEqual([r.code, r.changes], [0, []], r.err);
    assert.ok(r.skipped >= 1, `subtrees gone past by the first rescan: ${r.skipped}`);

    await Deno.writeTextFile(`${tree}/d3/inner/f7`, "changed\n");
    await Deno.remove(`${tree}/d5/f1`);
    await Deno.writeTextFile(`${tree}/d9/inner/new`, "new\n");
    await Deno.writeTextFile(`${dir}/outside`, "moved\n");
    r = await once();
    assert.deepEqual(r.changes, [
      `Added ${tree}/d9/inner/new`,
      `Modified ${tree}/d3/inner/f7`,
      `Modified ${tree}/d7/link`,
      `Removed ${tree}/d5/f1`,
    ], r.err);
    // Those without a change are gone past (which of them, read_ahead_test.ts tells: here a busy machine may make
    // the walk tire of waiting for the thread, and read some itself).
    assert.ok(r.skipped >= 1, `the unchanged ones still gone past: ${r.skipped}`);
    r = await once();
    assert.deepEqual([r.code, r.changes], [0, []], r.err);
    assert.ok(r.skipped >= 1, `gone past again: ${r.skipped}`);
  }));
