import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFileSync, spawn } from "node:child_process";
import { beginFiles, collectFiles, type FileItem, filesCollector, iso } from "./mod.ts";
import { dataTypeOf, scheduleOf } from "../spec.ts";
import { collectStreamed, type Streamed } from "./testdata/streamed.ts";
import { settingsSchema } from "../../config/dcr.ts";
import { liveHost } from "../../host/mod.ts";
import { bytesToPath } from "../../host/files/names.ts";
import { type FsOps, LIBC_OPS } from "../../host/files/walk_posix.ts";
import { SysError } from "../../host/files/libc_posix.ts";
import { type BegunReadAhead, newReadAheadStats, type ReadAheadStart } from "../../host/files/read_ahead.ts";
import { LONG_NAME, makeHostileTree, sha256sumAll } from "./testdata/hostile_tree.ts";
import { memoryLogger } from "../../log.ts";
import { MemorySink } from "../sink.ts";
import type { ItemSink } from "../types.ts";
import { straceTest, traceDescriptors } from "../../../test/strace.ts";
import { withTempDir } from "../../../test/helpers.ts";

type Rule = Record<string, unknown>;
const settings = (fileInfo: Rule[], extra: Record<string, unknown> = {}) =>
  settingsSchema("linux").parse({ fileSettings: { fileInfo, ...extra } });

/** Wraps the real calls: records which names were opened as files, fails chosen names with EACCES. */
function spyOps(deny: string[] = []) {
  const opened: string[] = [];
  const name = (b: Uint8Array) => bytesToPath(b.subarray(0, b.length - 1));
  const ops: FsOps = {
    ...LIBC_OPS,
    openAt(dirfd, n, flags) {
      const s = name(n);
      if (deny.some((d) => s === d || s.endsWith(`/${d}`))) throw new SysError("openat", 13);
      if (!(flags & 0o200000)) opened.push(s); // not O_DIRECTORY: a file opened for hashing
      return LIBC_OPS.openAt(dirfd, n, flags);
    },
  };
  return { ops, opened };
}

/** One collection streamed as the pipeline runs it; `previous` is the collection before it. */
const collect = (s: ReturnType<typeof settings>, opts: { ops?: FsOps; previous?: Streamed } = {}) =>
  collectStreamed(s, liveHost(), { ops: opts.ops, workers: 2 }, opts.previous);

Deno.test("collect() checksums equal sha256sum for every regular file of a hostile tree", async () => {
  const t = await makeHostileTree();
  try {
    const r = await collect(settings([{ name: "all", path: `${t.dir}/.*`, recurse: true }]));
    const ours = new Map(
      r.items.filter((i) => i.FileContentChecksum !== null).map((
        i,
      ) => [i.FileSystemPath, i.FileContentChecksum]),
    );
    const theirs = sha256sumAll(t.dir, bytesToPath);
    assert.ok(theirs.size >= 10, `sha256sum saw ${theirs.size} files`);
    assert.deepEqual([...ours].sort(), [...theirs].sort());
    // The odd names are there, in their reversible form.
    for (const p of ["bad\\xff\\xfe.conf", "new\nline.conf", "back\\\\slash.conf", LONG_NAME, "sparse.img"]) {
      assert.ok(ours.has(`${t.dir}/${p}`), `missing ${JSON.stringify(p)}`);
    }
    assert.equal(r.byPath.get(`${t.dir}/sparse.img`)!.Size, 64 * 1024 * 1024);
    // Linked directories are walked once: files keep their real path, loops end.
    assert.ok(
      !r.items.some((i) => i.FileSystemPath.includes("/linkdir/") || i.FileSystemPath.includes("/up/")),
    );
    assert.deepEqual(r.items.filter((i) => i.error), []);
  } finally {
    await t.cleanup();
  }
});

Deno.test("collect() records FIFOs, sockets and devices without opening them", async () => {
  const t = await makeHostileTree();
  try {
    const spy = spyOps();
    const r = await collect(settings([{ name: "all", path: `${t.dir}/.*`, recurse: true }]), {
      ops: spy.ops,
    });
    const fifo = r.byPath.get(`${t.dir}/fifo`)!;
    assert.equal(fifo.FileType, "Fifo");
    assert.equal(fifo.FileContentChecksum, null);
    assert.equal(r.byPath.get(`${t.dir}/sub/fifo2`)!.FileType, "Fifo");
    assert.equal(r.byPath.get(`${t.dir}/sock`)!.FileType, "Socket");
    if (t.device) assert.equal(r.byPath.get(`${t.dir}/null`)!.FileType, "CharacterDevice");
    assert.ok(spy.opened.length >= 10);
    for (const n of ["fifo", "fifo2", "sock", "null"]) assert.ok(!spy.opened.includes(n), `${n} was opened`);
  } finally {
    await t.cleanup();
  }
});

Deno.test("links: Follow hashes the target, Manage reports the link itself, Ignore skips links", async () => {
  const t = await makeHostileTree();
  try {
    const rule = (links: string) => settings([{ name: "r", path: `${t.dir}/.*`, links }]);
    const follow = (await collect(rule("Follow"))).byPath;
    const a = follow.get(`${t.dir}/a.conf`)!;
    const link = follow.get(`${t.dir}/link.conf`)!;
    assert.equal(link.FileType, "File");
    assert.equal(link.LinkTarget, "a.conf");
    assert.equal(link.FileContentChecksum, a.FileContentChecksum);
    // Dangling and looping links cannot be followed: reported as the links they are.
    assert.equal(follow.get(`${t.dir}/dangling`)!.FileType, "SymbolicLink");
    assert.equal(follow.get(`${t.dir}/loop1`)!.LinkTarget, "loop2");

    const manage = (await collect(rule("Manage"))).byPath;
    const m = manage.get(`${t.dir}/link.conf`)!;
    assert.equal(m.FileType, "SymbolicLink");
    assert.equal(m.LinkTarget, "a.conf");
    assert.equal(m.FileContentChecksum, null);
    assert.equal(manage.get(`${t.dir}/linkdir`)!.FileType, "SymbolicLink");

    const ignore = (await collect(rule("Ignore"))).byPath;
    for (const n of ["link.conf", "dangling", "loop1", "linkdir"]) assert.ok(!ignore.has(`${t.dir}/${n}`), n);
    assert.ok(ignore.has(`${t.dir}/a.conf`));
  } finally {
    await t.cleanup();
  }
});

Deno.test("entries whose directories overlap report each path once, for the first entry that finds it", async () => {
  const t = await makeHostileTree();
  try {
    const r = await collect(settings([
      { name: "all", path: `${t.dir}/.*`, recurse: true },
      { name: "sub", path: `${t.dir}/sub/*.conf`, recurse: true },
      { name: "same", path: `${t.dir}/a.conf` },
    ]));
    const paths = r.added.map((i) => i.FileSystemPath);
    assert.equal(new Set(paths).size, paths.length, "a path reported twice");
    assert.equal(r.byPath.get(`${t.dir}/sub/y.conf`)!.RuleName, "all");
    assert.equal(r.byPath.get(`${t.dir}/a.conf`)!.RuleName, "all");
    const apart = await collect(settings([
      { name: "sub", path: `${t.dir}/sub/*.conf`, recurse: true },
      { name: "top", path: `${t.dir}/*.conf` },
    ]));
    assert.equal(apart.byPath.get(`${t.dir}/sub/y.conf`)!.RuleName, "sub");
    assert.equal(apart.byPath.get(`${t.dir}/a.conf`)!.RuleName, "top");
  } finally {
    await t.cleanup();
  }
});

Deno.test("type and literal paths: Directory reports directories, a literal directory means its contents", async () => {
  const t = await makeHostileTree();
  try {
    const dirs = await collect(
      settings([{ name: "d", path: `${t.dir}/.*`, recurse: true, type: "Directory" }]),
    );
    // Links to directories are followed (Follow): reported as the directories they point to, walked once.
    assert.deepEqual(
      dirs.items.map((i) => [i.FileSystemPath.slice(t.dir.length), i.FileType, i.LinkTarget]),
      [
        ["/linkdir", "Directory", "sub"],
        ["/sub", "Directory", null],
        ["/sub/deep", "Directory", null],
        ["/sub/self", "Directory", "."],
        ["/sub/up", "Directory", ".."],
      ],
    );
    const lit = await collect(settings([{ name: "l", path: `${t.dir}/sub`, recurse: false }]));
    assert.deepEqual(lit.items.filter((i) => i.FileType === "File").map((i) => i.FileSystemPath), [
      `${t.dir}/sub/y.conf`,
    ]);
    const one = await collect(settings([{ name: "f", path: `${t.dir}/a.conf` }]));
    assert.deepEqual(one.items.map((i) => i.FileSystemPath), [`${t.dir}/a.conf`]);
    const glob = await collect(settings([{ name: "g", path: `${t.dir}/*.conf`, recurse: true }]));
    assert.ok(glob.byPath.has(`${t.dir}/sub/deep/x.conf`) && !glob.byPath.has(`${t.dir}/bin.dat`));
    const off = await collect(settings([{ name: "o", path: `${t.dir}/.*`, enabled: false }]));
    assert.deepEqual(off.items, []);
  } finally {
    await t.cleanup();
  }
});

Deno.test("unreadable files keep an item with an error; unreadable directories become unseen prefixes", async () => {
  const t = await makeHostileTree();
  try {
    const spy = spyOps(["a.conf", "deep"]);
    const r = await collect(settings([{ name: "r", path: `${t.dir}/.*`, recurse: true }]), { ops: spy.ops });
    const a = r.byPath.get(`${t.dir}/a.conf`)!;
    assert.match(a.error!, /EACCES/);
    assert.equal(a.FileContentChecksum, null);
    assert.equal(a.Size, 4); // what could be seen is still there
    assert.ok(r.unseen!.includes(`${t.dir}/sub/deep/`));
    assert.ok(!r.byPath.has(`${t.dir}/sub/deep/x.conf`));
    assert.ok(r.warnings!.some((w) => /could not be read/.test(w) && w.includes("sub/deep")));
    // The warning says why each entry could not be read, not only which.
    assert.ok(
      r.warnings!.some((w) =>
        /entries could not be read/.test(w) && w.includes(`${t.dir}/a.conf (`) && /EACCES/.test(w)
      ),
      r.warnings!.join("\n"),
    );
  } finally {
    await t.cleanup();
  }
});

Deno.test("limits are reported: maxFiles and maxDepth cut with a warning and unseen prefixes", async () => {
  const t = await makeHostileTree();
  try {
    const few = await collect(settings([{ name: "r", path: `${t.dir}/.*`, recurse: true }], { maxFiles: 3 }));
    assert.equal(few.items.length, 3);
    assert.ok(few.warnings!.some((w) => /maxFiles \(3\) reached/.test(w)), few.warnings!.join("\n"));
    assert.ok(few.unseen!.length > 0);
    const shallow = await collect(
      settings([{ name: "r", path: `${t.dir}/.*`, recurse: true }], { maxDepth: 1 }),
    );
    assert.ok(shallow.byPath.has(`${t.dir}/sub/y.conf`));
    assert.ok(!shallow.byPath.has(`${t.dir}/sub/deep/x.conf`));
    assert.ok(shallow.warnings!.some((w) => /maxDepth \(1\)/.test(w) && w.includes("sub/deep")));
    assert.ok(shallow.unseen!.includes(`${t.dir}/sub/deep/`));
  } finally {
    await t.cleanup();
  }
});

Deno.test("unchanged (size, mtime, ctime, inode) means no re-hash; a change re-hashes only that file", async () => {
  const t = await makeHostileTree();
  try {
    const s = settings([{ name: "r", path: `${t.dir}/.*`, recurse: true }]);
    const first = await collect(s);
    const spy = spyOps();
    const second = await collect(s, { ops: spy.ops, previous: first });
    assert.deepEqual(spy.opened, []);
    // Unreadable files carry no fingerprint, so they are looked at again; everything else is "same".
    assert.ok(second.added.every((i) => i.error), "only unreadable items are found again");
    assert.deepEqual(second.items, first.items);
    assert.equal(second.kept.length, first.fingerprints.size);
    await Deno.writeTextFile(`${t.dir}/sub/y.conf`, "z\n");
    const spy3 = spyOps();
    const third = await collect(s, { ops: spy3.ops, previous: second });
    assert.deepEqual(spy3.opened, ["y.conf"]);
    assert.deepEqual(third.added.filter((i) => !i.error).map((i) => i.FileSystemPath), [
      `${t.dir}/sub/y.conf`,
    ]);
    assert.notEqual(
      third.byPath.get(`${t.dir}/sub/y.conf`)!.FileContentChecksum,
      first.byPath.get(`${t.dir}/sub/y.conf`)!.FileContentChecksum,
    );
  } finally {
    await t.cleanup();
  }
});

Deno.test("a rescan that reads its listings ahead finds what one without finds, and hashes what changed", async () => {
  const t = await makeHostileTree();
  try {
    const s = settings([{ name: "r", path: `${t.dir}/.*`, recurse: true }]);
    const first = await collect(s);
    // A file rewritten, one added deep down, one removed, a directory replaced by another of that name.
    await Deno.writeTextFile(`${t.dir}/sub/y.conf`, "z\n");
    await Deno.remove(`${t.dir}/empty.conf`);
    await Deno.rename(`${t.dir}/sub/deep`, `${t.dir}/deep.old`);
    await Deno.mkdir(`${t.dir}/sub/deep`);
    await Deno.writeTextFile(`${t.dir}/sub/deep/x.conf`, "another x\n");
    await Deno.writeTextFile(`${t.dir}/sub/deep/new.conf`, "new\n");
    // Every listing from the thread (waited for), so that what changed is hashed through directories opened late.
    const stats = newReadAheadStats();
    const ahead = await collectStreamed(s, liveHost(), {
      workers: 2,
      readAhead: { stats, firstWaitMs: 60_000, waitAlways: true },
    }, first);
    const plain = await collectStreamed(s, liveHost(), { workers: 2, readAhead: false }, first);
    assert.deepEqual(ahead.items, plain.items);
    assert.deepEqual(
      ahead.added.map((i) => i.FileSystemPath).sort(),
      plain.added.map((i) => i.FileSystemPath).sort(),
    );
    assert.deepEqual(ahead.kept.sort(), plain.kept.sort());
    assert.ok(stats.taken >= 3 && stats.here === 0, JSON.stringify(stats));
    // What changed was hashed through directories the walk opened only for it: the checksums are sha256sum's.
    const theirs = sha256sumAll(t.dir, bytesToPath);
    for (const p of ["sub/y.conf", "sub/deep/new.conf", "sub/deep/x.conf"].map((p) => `${t.dir}/${p}`)) {
      assert.ok(ahead.added.some((i) => i.FileSystemPath === p), `${p} found again`);
      assert.equal(ahead.byPath.get(p)?.FileContentChecksum, theirs.get(p), p);
    }
    assert.equal(ahead.byPath.has(`${t.dir}/empty.conf`), false);
  } finally {
    await Deno.remove(`${t.dir}/deep.old`, { recursive: true });
    await t.cleanup();
  }
});

Deno.test("a rescan says where its walk read ahead from; the next begins that thread before its turn and takes it", async () => {
  const t = await makeHostileTree();
  try {
    const s = settings([{ name: "r", path: `${t.dir}/.*`, recurse: true }]);
    const host = liveHost();
    const first = await collectStreamed(s, host, { workers: 2, readAhead: false });
    assert.equal(first.ahead, undefined, "the next run reads nothing ahead");
    const rescan = await collectStreamed(s, host, { workers: 2, readAhead: true }, first);
    const start: ReadAheadStart = { path: t.dir, real: t.dir, follow: true, depth: 0, maxDepth: 256 };
    assert.deepEqual(JSON.parse(rescan.ahead!).start, start);

    const begun = beginFiles(rescan.ahead!, host) as BegunReadAhead;
    assert.ok(begun, "begun");
    await Deno.writeTextFile(`${t.dir}/sub/y.conf`, "changed\n");
    const next = await collectStreamed(s, host, { workers: 2, readAhead: true }, rescan, { begun });
    assert.equal(begun.take(start), undefined, "the walk took the thread");
    const plain = await collectStreamed(s, host, { workers: 2, readAhead: false }, rescan);
    assert.deepEqual(next.items, plain.items);
    assert.deepEqual(next.added.map((i) => i.FileSystemPath), [`${t.dir}/sub/y.conf`]);

    // A run that does not read ahead (a first scan) stops what was begun; nothing is begun from what is no start.
    const unused = beginFiles(rescan.ahead!, host) as BegunReadAhead;
    await collectStreamed(s, host, { workers: 2, readAhead: false }, rescan, { begun: unused });
    assert.equal(unused.take(start), undefined, "stopped");
    const junks = ["", "{", "null", '{"path":"/"}', JSON.stringify({ ...start, depth: "0" })];
    for (const junk of [...junks, ...junks.map((j) => `{"start":${j || "0"}}`)]) {
      assert.equal(beginFiles(junk, host), undefined, junk);
    }
    // What a run kept before subtrees were: the start alone.
    const taken = (beginFiles(JSON.stringify(start), host) as BegunReadAhead | undefined)?.take(start);
    assert.ok(taken, "begun from the start alone");
    taken.stop();
  } finally {
    await t.cleanup();
  }
});

Deno.test("content capture: text files up to maxContentsReturnable, never binary, never twice", async () => {
  const t = await makeHostileTree();
  try {
    await Deno.chmod(t.dir, 0o755); // a tree every user may read (a temporary directory is 0700)
    await Deno.writeTextFile(`${t.dir}/big.conf`, "x".repeat(200));
    const s = settings([{ name: "r", path: `${t.dir}/.*`, maxContentsReturnable: 100 }]);
    const r = await collect(s);
    const captured = new Map(r.contents!.map((c) => [c.checksum, c]));
    const sumOf = (p: string) => r.byPath.get(`${t.dir}/${p}`)!.FileContentChecksum!;
    assert.equal(captured.get(sumOf("a.conf"))?.text, "a=1\n");
    assert.equal(captured.get(sumOf("new\nline.conf"))?.text, "newline\n");
    assert.ok(!captured.has(sumOf("bin.dat")), "binary");
    assert.ok(!captured.has(sumOf("big.conf")), "above maxContentsReturnable");
    await Deno.writeTextFile(`${t.dir}/a.conf`, "a=2\n");
    const again = await collect(s, { previous: r });
    assert.deepEqual(again.contents!.map((c) => c.text), ["a=2\n"]);
    const capped = await collect(settings([{ name: "r", path: `${t.dir}/.*`, maxContentsReturnable: 100 }], {
      maxContentBytes: 5,
    }));
    assert.ok(capped.contents!.reduce((n, c) => n + c.size, 0) <= 5);
    assert.ok(capped.warnings!.some((w) => /maxContentBytes \(5\) reached/.test(w)));
  } finally {
    await t.cleanup();
  }
});

Deno.test("content not captured says why: over maxContentsReturnable (both sizes), binary; captured text says nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ctagent-uncaptured-" });
  try {
    await Deno.chmod(dir, 0o755);
    await Deno.writeTextFile(`${dir}/small.conf`, "a=1\n");
    await Deno.writeTextFile(`${dir}/big.conf`, "x".repeat(8_700_000));
    await Deno.writeFile(`${dir}/bin.dat`, new Uint8Array([0x7f, 0x45, 0, 1]));
    await Deno.writeFile(`${dir}/latin1.txt`, new Uint8Array([0x63, 0x61, 0x66, 0xe9]));
    for (const portable of [false, true]) {
      const how = portable ? "portable" : "libc";
      const rule = { name: "r", path: `${dir}/.*`, maxContentsReturnable: 5_000_000 };
      const run = (previous?: Streamed) =>
        collectStreamed(settings([rule]), liveHost(), { workers: 1, portable }, previous);
      const r = await run();
      const note = (p: string) => r.byPath.get(`${dir}/${p}`)!.ContentNotCaptured;
      assert.equal(note("small.conf"), undefined, how);
      assert.equal(note("big.conf"), "8.3 MiB > limit of 4.77 MiB (maxContentsReturnable)", how);
      assert.match(note("bin.dat")!, /^binary \(a NUL byte, or not UTF-8\): only text is captured$/, how);
      assert.match(note("latin1.txt")!, /^binary/, how);
      assert.deepEqual(r.contents!.map((c) => c.text), ["a=1\n"], how);
      assert.ok(r.byPath.get(`${dir}/big.conf`)!.FileContentChecksum, `${how}: still hashed`);
      // The next run reuses the stored items (nothing read again): the reasons stay.
      const again = await run(r);
      assert.equal(again.byPath.get(`${dir}/big.conf`)!.ContentNotCaptured, note("big.conf"), how);
      assert.equal(again.byPath.get(`${dir}/bin.dat`)!.ContentNotCaptured, note("bin.dat"), how);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a file that grows while it is hashed gets a checksum of one consistent version or an error", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/growing.log`;
  await Deno.writeFile(path, new Uint8Array(8 << 20).fill(97));
  const writer = spawn("bash", ["-c", `while :; do printf 'more data\\n' >> '${path}'; done`], {
    stdio: "ignore",
  });
  try {
    await new Promise((r) => setTimeout(r, 50));
    const s = settings([{ name: "r", path }]);
    for (let i = 0; i < 3; i++) {
      const item = (await collect(s)).items[0];
      if (item.error) {
        assert.match(item.error, /kept changing/);
        continue;
      }
      // Appends only: the first Size bytes never change again, so a consistent checksum is theirs.
      const data = await Deno.readFile(path);
      const expect = createHash("sha256").update(data.subarray(0, item.Size!)).digest("hex");
      assert.equal(item.FileContentChecksum, expect);
    }
  } finally {
    writer.kill("SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("paths longer than PATH_MAX are walked and hashed (directory fds, not path strings)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const segs = Array.from({ length: 20 }, (_, i) => `${String(i).padStart(3, "0")}${"d".repeat(250)}`);
    // One level at a time relative to the previous one (a 5,000-byte path cannot be passed whole).
    const made = await new Deno.Command("bash", {
      args: [
        "-c",
        `cd '${dir}' && for d in ${segs.join(" ")}; do mkdir "$d" && cd "$d"; done; printf deep > f.txt`,
      ],
    }).output();
    assert.ok(made.success);
    const r = await collect(
      settings([{ name: "r", path: `${dir}/.*\\.txt`, recurse: true }], { maxDepth: 64 }),
    );
    const f = r.items.find((i) => i.FileSystemPath.endsWith("/f.txt"))!;
    assert.ok(f.FileSystemPath.length > 4096, `path length ${f.FileSystemPath.length}`);
    assert.equal(f.FileContentChecksum, createHash("sha256").update("deep").digest("hex"));
    assert.deepEqual(r.warnings, []);
  } finally {
    await new Deno.Command("rm", { args: ["-rf", dir] }).output();
  }
});

Deno.test("filesCollector() follows the DCR: enableFiles, fileCollectionFrequency, dataType Files", () => {
  const c = filesCollector();
  const s = settingsSchema("linux").parse({
    enableFiles: false,
    fileSettings: { fileCollectionFrequency: 60 },
  });
  assert.deepEqual(scheduleOf(c, s), { enabled: false, frequency: 60 });
  assert.equal(dataTypeOf(c, "linux"), "Files");
  assert.equal(c.key({ FileSystemPath: "/etc/x" } as FileItem), "/etc/x");
  assert.ok(c.volatile!.includes("StatKey") && c.volatile!.includes("Inode"));
});

Deno.test("iso() writes file times exactly as Date.toISOString does, cached or not", () => {
  const cases: [number, number][] = [
    [0, 0],
    [1_700_000_000, 5_000_000],
    [1_700_000_000, 999_999_999],
    [
      -1,
      123_456_789,
    ],
    [253_402_300_799, 1_000_000],
    [253_402_300_800, 7_000_000],
    [-62_167_219_201, 0],
  ];
  for (let i = 0; i < 2000; i++) {
    cases.push([Math.floor(Math.random() * 4e9) - 1e9, Math.floor(Math.random() * 1e9)]);
  }
  for (const [sec, nsec] of [...cases, ...cases]) {
    assert.equal(
      iso(sec, nsec),
      new Date(sec * 1000 + Math.floor(nsec / 1e6)).toISOString(),
      `${sec}.${nsec}`,
    );
  }
});

Deno.test("content is as private as its file: 0600, a closed directory and secret names are not captured, and the item says why", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ctagent-private-" });
  try {
    await Deno.chmod(dir, 0o755);
    await Deno.mkdir(`${dir}/closed`, { mode: 0o700 });
    await Deno.chmod(`${dir}/closed`, 0o700);
    const write = async (p: string, text: string, mode: number) => {
      await Deno.writeTextFile(`${dir}/${p}`, text);
      await Deno.chmod(`${dir}/${p}`, mode);
    };
    await write("open.conf", "open=1\n", 0o644);
    await write("bind.conf", "bindpw=hunter2\n", 0o600);
    await write("closed/inside.conf", "inside=1\n", 0o644);
    await write("site.pem", "-----BEGIN PRIVATE KEY-----\n", 0o644);
    await Deno.symlink(`${dir}/closed/inside.conf`, `${dir}/link.conf`);
    for (const portable of [false, true]) {
      const run = (rules: Rule[], extra: Record<string, unknown> = {}, previous?: Streamed) =>
        collectStreamed(settings(rules, extra), liveHost(), { workers: 1, portable }, previous);
      const rule = { name: "all", path: `${dir}/.*`, recurse: true };
      const r = await run([rule]);
      const texts = r.contents!.map((c) => c.text);
      assert.deepEqual(texts, ["open=1\n"], `${portable ? "portable" : "libc"}: only the world-readable one`);
      const note = (p: string) => r.byPath.get(`${dir}/${p}`)!.ContentNotCaptured;
      assert.equal(note("open.conf"), undefined);
      assert.match(note("bind.conf")!, /not world-readable \(0600\); set captureRestricted/);
      assert.match(note("closed/inside.conf")!, /directory above the file is closed/);
      assert.match(
        note("link.conf")!,
        /directory above the file is closed/,
        "a link is judged by its target",
      );
      assert.match(note("site.pem")!, /holds secrets \(\*\.pem\)/);
      assert.ok(r.byPath.get(`${dir}/bind.conf`)!.FileContentChecksum, "the checksum is still taken");

      // captureRestricted opens the private ones on the next run (the fingerprint moves), not the secret name.
      const open = await run([{ ...rule, captureRestricted: true }], {}, r);
      assert.deepEqual(
        open.contents!.map((c) => c.text).sort(),
        ["bindpw=hunter2\n", "inside=1\n", "open=1\n"],
        `${portable ? "portable" : "libc"}: captured once allowed (the rule's files are read again)`,
      );
      assert.equal(open.byPath.get(`${dir}/bind.conf`)!.ContentNotCaptured, undefined);
      assert.match(open.byPath.get(`${dir}/site.pem`)!.ContentNotCaptured!, /holds secrets/);
      // ctagent's own setting, and a rule naming the secret-bearing file literally.
      const listed = await run([rule], { captureRestrictedPaths: [`${dir}/bind.conf`] });
      assert.deepEqual(listed.contents!.map((c) => c.text).sort(), ["bindpw=hunter2\n", "open=1\n"]);
      const named = await run([{ name: "pem", path: `${dir}/site.pem` }]);
      assert.deepEqual(named.contents!.map((c) => c.text), ["-----BEGIN PRIVATE KEY-----\n"]);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a 15 TiB sparse file (truncate -s 15T) is not hashed: its item keeps size and times, with the error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    execFileSync("truncate", ["-s", "15T", `${dir}/huge.img`]);
    await Deno.writeTextFile(`${dir}/small.conf`, "x\n");
    const r = await collect(settings([{ name: "t", path: dir, recurse: true }]));
    const huge = r.byPath.get(`${dir}/huge.img`)!;
    assert.equal(huge.error, "not hashed: 15 TiB > limit of 16 GiB (fileSettings.maxHashBytes)");
    assert.equal(huge.Size, 15 * 2 ** 40);
    assert.equal(huge.FileType, "File");
    assert.equal(huge.DateModified, (await Deno.stat(`${dir}/huge.img`)).mtime!.toISOString());
    assert.equal(huge.FileContentChecksum, null);
    assert.ok(r.byPath.get(`${dir}/small.conf`)!.FileContentChecksum, "the other files are hashed");
    assert.ok(
      r.warnings.some((w) => w.startsWith("fileSettings.maxHashBytes (16 GiB) exceeded: 1 files not hashed")),
      r.warnings.join("\n"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fileSettings.maxHashBytes: a file over it is reported not hashed, one at it is hashed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/over`, new Uint8Array(2000).fill(7));
    await Deno.writeFile(`${dir}/at`, new Uint8Array(1000).fill(7));
    const r = await collect(settings([{ name: "t", path: dir, recurse: true }], { maxHashBytes: 1000 }));
    assert.equal(
      r.byPath.get(`${dir}/over`)!.error,
      "not hashed: 1.95 KiB > limit of 1000 B (fileSettings.maxHashBytes)",
    );
    assert.equal(r.byPath.get(`${dir}/over`)!.Size, 2000);
    assert.equal(
      r.byPath.get(`${dir}/at`)!.FileContentChecksum,
      createHash("sha256").update(new Uint8Array(1000).fill(7)).digest("hex"),
    );
    // The portable path (Windows) applies the same limit.
    const p = await collectStreamed(
      settings([{ name: "t", path: dir, recurse: true }], { maxHashBytes: 1000 }),
      liveHost(),
      { portable: true },
    );
    assert.equal(p.byPath.get(`${dir}/over`)!.error, r.byPath.get(`${dir}/over`)!.error);
    assert.equal(
      p.byPath.get(`${dir}/at`)!.FileContentChecksum,
      r.byPath.get(`${dir}/at`)!.FileContentChecksum,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("2,000 files with modification times in the future: each hashed, checksums equal sha256sum", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (let i = 0; i < 2000; i++) await Deno.writeTextFile(`${dir}/f${i}`, `file ${i}\n`);
    const future = new Date(Date.now() + 10 * 365 * 24 * 3600_000);
    for (let i = 0; i < 2000; i++) await Deno.utime(`${dir}/f${i}`, future, future);
    const r = await collect(settings([{ name: "t", path: dir, recurse: true }]));
    // A file not hashed says why (its error), not only that its checksum is null.
    assert.deepEqual(r.items.filter((i) => i.error).map((i) => `${i.FileSystemPath}: ${i.error}`), []);
    const ours = new Map(r.items.map((i) => [i.FileSystemPath, i.FileContentChecksum]));
    assert.equal(ours.size, 2000);
    assert.deepEqual([...ours].sort(), [...sha256sumAll(dir, bytesToPath)].sort());
    assert.equal(r.items[0].DateModified!.slice(0, 4), String(future.getUTCFullYear()));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an aborted collection stops within 2 s while a huge file is being hashed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    execFileSync("truncate", ["-s", "1T", `${dir}/huge.img`]);
    const ac = new AbortController();
    const done = collectFiles(
      settings([{ name: "t", path: dir, recurse: true }], { maxHashBytes: 2 ** 41 }),
      {
        host: liveHost(),
        signal: ac.signal,
        log: memoryLogger(),
      },
      { workers: 2 },
    );
    const settled = done.then(() => "resolved", (e) => e);
    // Let it hash for a while (a terabyte of zeros takes many minutes).
    assert.equal(
      await Promise.race([settled, new Promise((r) => setTimeout(() => r("busy"), 1000))]),
      "busy",
    );
    const t = performance.now();
    ac.abort();
    const e = await settled;
    const ms = performance.now() - t;
    assert.ok(ms < 2000, `stopped ${Math.round(ms)} ms after the abort`);
    assert.ok(e instanceof Error && ac.signal.aborted, String(e));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a file replaced by a FIFO between its stat and its open: never blocks; kept with an error, then a Fifo", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ctagent-fifo-" });
  try {
    await Deno.writeTextFile(`${dir}/tracked.conf`, "v1\n");
    await Deno.writeTextFile(`${dir}/other.conf`, "x\n");
    const s = settings([{ name: "r", path: `${dir}/.*` }]);
    const first = await collect(s);
    assert.equal(first.byPath.get(`${dir}/tracked.conf`)!.FileType, "File");
    await Deno.writeTextFile(`${dir}/tracked.conf`, "v2\n"); // changed: the next run opens it to hash it
    // The walk has stat'ed a regular file; just before it is opened, it becomes a FIFO nobody writes to.
    // Opened without O_NONBLOCK, that open would wait for a writer for ever.
    const ops: FsOps = {
      ...LIBC_OPS,
      openAt(dirfd, n, flags) {
        if (bytesToPath(n.subarray(0, n.length - 1)) === "tracked.conf" && !(flags & 0o200000)) {
          Deno.removeSync(`${dir}/tracked.conf`);
          execFileSync("mkfifo", [`${dir}/tracked.conf`]);
        }
        return LIBC_OPS.openAt(dirfd, n, flags);
      },
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const second = await Promise.race([
      collect(s, { ops, previous: first }),
      new Promise<never>((_, reject) =>
        timer = setTimeout(() => reject(new Error("blocked on the FIFO")), 10_000)
      ),
    ]).finally(() => clearTimeout(timer));
    // This run: the version it walked past cannot be read as one; kept with an error (the pipeline keeps the
    // item's last good values and reports no change), the other files as usual.
    const during = second.byPath.get(`${dir}/tracked.conf`)!;
    assert.match(during.error ?? "", /not a regular file once opened/);
    assert.equal(second.byPath.get(`${dir}/other.conf`)!.error, undefined);
    // The next run walks past a FIFO: recorded as one, never opened.
    const third = await collect(s, { previous: second });
    const after = third.byPath.get(`${dir}/tracked.conf`)!;
    assert.deepEqual([after.FileType, after.FileContentChecksum, after.error], ["Fifo", null, undefined]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("owner names unknown (/etc/passwd cannot be read): unchanged files are the same, unhashed; a changed one is kept with an error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ctagent-names-" });
  try {
    await Deno.writeTextFile(`${dir}/a.conf`, "a\n");
    await Deno.writeTextFile(`${dir}/b.conf`, "b\n");
    const s = settings([{ name: "r", path: `${dir}/.*` }]);
    const first = await collect(s);
    await Deno.writeTextFile(`${dir}/b.conf`, "bb\n");
    const live = liveHost();
    // Reading it reads a directory instead: the kernel's EISDIR, a file that is there but cannot be read.
    const host = { ...live, readText: (p: string) => live.readText(p === "/etc/passwd" ? "/etc" : p) };
    const spy = spyOps();
    const second = await collectStreamed(s, host, { ops: spy.ops, workers: 2 }, first);
    assert.deepEqual(spy.opened, []);
    assert.deepEqual(second.kept, [`${dir}/a.conf`]);
    assert.match(
      second.byPath.get(`${dir}/b.conf`)!.error ?? "",
      /^owner and group names unknown: cannot read \/etc\/passwd: EISDIR/,
    );
    assert.match(
      second.warnings.join("\n"),
      /1 changed or new entries kept as last seen until they can be read/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an abort during a rescan with nothing to hash stops the walk at the next file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ctagent-rescan-abort-" });
  try {
    for (let i = 0; i < 2000; i++) await Deno.writeTextFile(`${dir}/f${i}.conf`, `${i}\n`);
    const s = settings([{ name: "r", path: `${dir}/.*` }]);
    const first = await collect(s);
    const ac = new AbortController();
    let stats = 0;
    const ops: FsOps = {
      ...LIBC_OPS,
      statAt(dirfd, name, follow) {
        if (++stats === 100) ac.abort(new Error("stopped"));
        return LIBC_OPS.statAt(dirfd, name, follow);
      },
    };
    const sink = new MemorySink<FileItem>((i) => i.FileSystemPath);
    await assert.rejects(
      collectFiles(s, {
        host: liveHost(),
        signal: ac.signal,
        log: memoryLogger(),
        previous: first.fingerprints,
        sink: sink as unknown as ItemSink,
      }, { ops, workers: 2 }),
      /stopped/,
    );
    // Every file is the same as before: nothing waits on the hash pool, which would have seen the abort.
    assert.ok(stats - 100 <= 1, `${stats - 100} more entries looked at after the abort`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

straceTest(
  "a realtime run whose sink fails while settled files are hashed: it fails with that error, each file's descriptor opened and closed once",
  () =>
    withTempDir(async (dir) => {
      const names = ["a", "b", "c", "d"];
      for (const n of names) await Deno.writeTextFile(`${dir}/${n}`, n);
      const script = new URL("./testdata/settling_run.ts", import.meta.url).pathname;
      const r = await traceDescriptors(script, [dir], dir);
      const { error, stored } = JSON.parse(r.stdout);
      // A failed collection: the pipeline records it as failed and reports nothing, Removed least of all.
      assert.match(error, new RegExp(`database or disk is full \\(storing ${dir}/b\\)`));
      assert.deepEqual(stored, [`${dir}/a`]);
      for (const n of names) assert.deepEqual(r.files.get(`${dir}/${n}`), { opened: 1, closed: 1 }, n);
      assert.deepEqual(r.failedCloses, [], "closes that failed: a number closed twice");
    }),
);
