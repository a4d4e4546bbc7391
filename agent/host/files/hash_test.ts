import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFileSync, spawnSync } from "node:child_process";
import { createHashPool, type HashResult } from "./hash.ts";
import { collectEvery, hashFd, racy, type V8Gc, WORKER_HEAP_BOUND } from "./hash_worker.ts";
import * as libc from "./libc_posix.ts";
import { straceTest, traceDescriptors } from "../../../test/strace.ts";
import { withTempDir } from "../../../test/helpers.ts";
import { V8_FLAGS_ARG } from "../../../build/v8_flags.ts";

const LIMIT = 16 * 2 ** 30;
/** Nothing hashed on the calling thread: every file goes to the workers. */
const NONE = { files: 0, bytes: 0 };

async function withFiles(fn: (paths: string[], expected: string[]) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    const paths: string[] = [], expected: string[] = [];
    for (let i = 0; i < 40; i++) {
      const data = new Uint8Array(i * 40_000 + 1).fill(i);
      await Deno.writeFile(`${dir}/${i}`, data);
      paths.push(`${dir}/${i}`);
      expected.push(createHash("sha256").update(data).digest("hex"));
    }
    await fn(paths, expected);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const open = (p: string) => libc.openAt(libc.AT_FDCWD, libc.cstr(p), libc.O_RDONLY);

Deno.test("createHashPool() hashes in workers, batches and all, and says nothing about a fallback", () =>
  withFiles(async (paths, expected) => {
    const pool = createHashPool({ workers: 2, batchCount: 3, maxInflight: 8, inline: NONE });
    try {
      assert.equal(pool.started, false, "no worker before there is something to hash");
      const out: Promise<string | undefined>[] = [];
      for (const p of paths) {
        await pool.room();
        out.push(pool.submit({ fd: open(p), capture: 0, size: 1, limit: LIMIT }).then((r) => r.checksum));
      }
      await pool.drain();
      assert.deepEqual(await Promise.all(out), expected);
      assert.equal(pool.started, true);
      assert.equal(pool.fallback, undefined);
    } finally {
      await pool.close();
    }
  }));

Deno.test("createHashPool() hashes on the calling thread, and says why, when its workers cannot load", () =>
  withFiles(async (paths, expected) => {
    let started = 0;
    const pool = createHashPool({
      workers: 2,
      inline: NONE,
      workerUrl: new URL("../../collectors/files/no_such_worker.ts", import.meta.url).href,
      onStarted: () => started++,
    });
    try {
      const out = paths.map((p) =>
        pool.submit({ fd: open(p), capture: 0, size: 1, limit: LIMIT }).then((r) => r.checksum)
      );
      await pool.drain();
      assert.deepEqual(await Promise.all(out), expected);
      assert.ok(pool.fallback, "the reason is kept for a warning");
      assert.equal(started, 0, "no worker started");
    } finally {
      await pool.close();
    }
  }));

Deno.test("createHashPool() hashes a few small files on the calling thread, starting no worker", () =>
  withFiles(async (paths, expected) => {
    const pool = createHashPool({ workers: 2, inline: { files: 10, bytes: 1 << 20 } });
    try {
      const out: Promise<string | undefined>[] = [];
      // 1, 40,001, 80,001 … bytes: the first seven fit in 1 MiB, then the workers take over.
      for (const p of paths) {
        out.push(
          pool.submit({ fd: open(p), capture: 0, size: Deno.statSync(p).size, limit: LIMIT }).then((r) =>
            r.checksum
          ),
        );
      }
      assert.equal(pool.started, true, "the rest went to the workers");
      await pool.drain();
      assert.deepEqual(await Promise.all(out), expected);
    } finally {
      await pool.close();
    }
    const small = createHashPool({ workers: 2, inline: { files: 256, bytes: 8 << 20 } });
    const r = await small.submit({ fd: open(paths[1]), capture: 0, size: 40_001, limit: LIMIT });
    assert.equal(r.checksum, expected[1]);
    assert.equal(small.started, false, "a small run starts no worker");
    await small.close();
  }));

Deno.test("createHashPool() starts one worker for small files, another only while every running one has growBytes queued", () =>
  withFiles(async (paths, expected) => {
    const hashAll = async (pool: ReturnType<typeof createHashPool>) => {
      // One job a batch, all sent before any answer can come back (no await between them).
      const out = paths.map((p) =>
        pool.submit({ fd: open(p), capture: 0, size: Deno.statSync(p).size, limit: LIMIT }).then((r) =>
          r.checksum
        )
      );
      await pool.drain();
      assert.deepEqual(await Promise.all(out), expected);
    };
    let started = 0;
    const onStarted = () => started++;
    // 40 files of 1 to 1,560,001 bytes, 31 MB in all: never 64 MiB queued, so one worker hashes them all.
    const small = createHashPool({ workers: 2, batchCount: 1, inline: NONE, growBytes: 64 << 20, onStarted });
    try {
      await hashAll(small);
      assert.equal(small.running, 1);
      assert.equal(started, 1, "onStarted once for the worker that started");
    } finally {
      await small.close();
    }
    // The first worker has 1 byte queued (its first batch) when the second batch is sent: a second starts,
    // and no more than `workers`.
    started = 0;
    const big = createHashPool({ workers: 2, batchCount: 1, inline: NONE, growBytes: 1, onStarted });
    try {
      await hashAll(big);
      assert.equal(big.running, 2);
      // The second may say it is ready after the first hashed everything.
      for (const end = Date.now() + 10_000; started < 2 && Date.now() < end;) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(started, 2, "onStarted once for each");
    } finally {
      await big.close();
    }
  }));

Deno.test("createHashPool().post() calls back with each result: at once for a file hashed on the calling thread, later for those the workers hash", () =>
  withFiles(async (paths, expected) => {
    const pool = createHashPool({ workers: 2, inline: { files: 1, bytes: 1 << 20 } });
    try {
      const got: (string | undefined)[] = [];
      const post = (i: number) =>
        pool.post({ fd: open(paths[i]), capture: 0, size: 1, limit: LIMIT }, (r) => (got[i] = r.checksum));
      post(0);
      assert.equal(got[0], expected[0], "hashed here, called back before post() returned");
      for (let i = 1; i < paths.length; i++) post(i);
      assert.equal(got.length, 1, "the workers' results come back later");
      await pool.drain();
      assert.deepEqual(got, expected);
    } finally {
      await pool.close();
    }
  }));

Deno.test("createHashPool() that is given nothing to hash never starts a worker", async () => {
  const pool = createHashPool({ workers: 2 });
  await pool.room();
  await pool.drain();
  assert.equal(pool.started, false);
  await pool.close();
});

Deno.test("createHashPool() lets the executable's pages go once a worker started: what its start mapped back", () => {
  // A real process hashes one file in one worker, its RssFile (nearly all of it the deno executable's pages)
  // read before and after: by default the pool lets go what the worker's start mapped back; without it that stays.
  const script = (hook: string) => `
    import { createHashPool } from ${JSON.stringify(new URL("./hash.ts", import.meta.url).href)};
    import * as libc from ${JSON.stringify(new URL("./libc_posix.ts", import.meta.url).href)};
    const file = () => Number(Deno.readTextFileSync("/proc/self/status").match(/RssFile:\\s+(\\d+)/)[1]) * 1024;
    const path = Deno.makeTempFileSync();
    Deno.writeFileSync(path, new Uint8Array(1000).fill(7));
    const pool = createHashPool({ workers: 1, inline: { files: 0, bytes: 0 }${hook} });
    const before = file();
    const fd = libc.openAt(libc.AT_FDCWD, libc.cstr(path), libc.O_RDONLY);
    const hashed = pool.submit({ fd, capture: 0, size: 1000, limit: 1e9 });
    await pool.drain();
    const { checksum } = await hashed;
    const after = file();
    await pool.close();
    Deno.removeSync(path);
    console.log(JSON.stringify({ before, after, checksum }));
  `;
  const run = (hook: string) => {
    const r = spawnSync(Deno.execPath(), ["eval", script(hook)], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { before: number; after: number; checksum: string };
  };
  const sum = createHash("sha256").update(new Uint8Array(1000).fill(7)).digest("hex");
  const MB = 1024 * 1024, mb = (n: number) => (n / MB).toFixed(1);
  const kept = run(", onStarted: () => {}");
  assert.equal(kept.checksum, sum);
  assert.ok(
    kept.after > kept.before,
    `a worker's start maps pages back: ${mb(kept.before)} -> ${mb(kept.after)} MB`,
  );
  const released = run("");
  assert.equal(released.checksum, sum);
  assert.ok(
    released.after < released.before && released.after < kept.after - 8 * MB,
    `RssFile ${mb(released.before)} MB before the worker started, ${mb(released.after)} MB after it hashed ` +
      `(${mb(kept.after)} MB when the pages stay)`,
  );
});

Deno.test("createHashPool().room() refuses once the run is aborted, room or not: the walk stops at its next file", async () => {
  const ac = new AbortController();
  const pool = createHashPool({ workers: 1, signal: ac.signal });
  await pool.room();
  ac.abort(new Error("stopped"));
  await assert.rejects(async () => await pool.room(), /stopped/);
  await pool.close();
});

Deno.test("racy() is true only for times within the racy window of now, past or future", () => {
  const now = 1_800_000_000_000;
  const at = (mtimeMs: number, ctimeMs: number): libc.Stat => ({
    mode: libc.S_IFREG | 0o644,
    uid: 0,
    gid: 0,
    nlink: 1,
    ino: "1",
    dev: "8:1",
    size: 1,
    blocks: 8,
    btimeSec: null,
    btimeNsec: 0,
    mtimeSec: Math.floor(mtimeMs / 1000),
    mtimeNsec: (mtimeMs % 1000) * 1e6,
    ctimeSec: Math.floor(ctimeMs / 1000),
    ctimeNsec: (ctimeMs % 1000) * 1e6,
  });
  const hour = 3600_000;
  assert.equal(racy(at(now - hour, now - hour), now), false, "old");
  assert.equal(racy(at(now - 10, now - hour), now), true, "written 10 ms ago");
  assert.equal(racy(at(now - hour, now - 10), now), true, "changed 10 ms ago");
  assert.equal(racy(at(now + 10, now - hour), now), true, "10 ms ahead: the clock reaches it while we hash");
  assert.equal(
    racy(at(now + 365 * 24 * hour, now - hour), now),
    false,
    "a year ahead (touch -d, an archive)",
  );
  assert.equal(racy(at(now - hour, now + hour), now), false, "ctime ahead (the clock jumped back)");
});

Deno.test("createHashPool() hashes files with mtimes in the future once each, without waiting", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const expected: string[] = [];
    const future = new Date(Date.now() + 5 * 365 * 24 * 3600_000);
    for (let i = 0; i < 2000; i++) {
      const data = new TextEncoder().encode(`file ${i}\n`);
      await Deno.writeFile(`${dir}/${i}`, data);
      await Deno.utime(`${dir}/${i}`, future, future);
      expected.push(createHash("sha256").update(data).digest("hex"));
    }
    // Their ctimes (now) leave the racy window: only the future mtimes could make them look racy.
    await new Promise((r) => setTimeout(r, 200));
    const pool = createHashPool({ workers: 2 });
    try {
      const out: Promise<HashResult>[] = [];
      for (let i = 0; i < 2000; i++) {
        await pool.room();
        out.push(pool.submit({ fd: open(`${dir}/${i}`), capture: 0, size: 1, limit: LIMIT }));
      }
      await pool.drain();
      const results = await Promise.all(out);
      assert.deepEqual(results.map((r) => r.checksum), expected);
      assert.deepEqual(results.filter((r) => r.attempts !== 1).length, 0, "each file was read once");
    } finally {
      await pool.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A sparse file: data islands (one across a 1 MiB boundary, one at the end) between holes. */
async function sparseFile(path: string, size: number): Promise<string> {
  const f = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    await f.truncate(size);
    for (const [off, len] of [[0, 100], [3 * (1 << 20) - 7000, 20_000], [40 << 20, 1], [size - 5000, 5000]]) {
      await f.seek(off, Deno.SeekMode.Start);
      const data = new Uint8Array(len).map((_, i) => (i * 7 + off) & 255 || 1);
      for (let w = 0; w < len;) w += await f.write(data.subarray(w));
    }
  } finally {
    f.close();
  }
  return execFileSync("sha256sum", [path], { encoding: "utf8" }).slice(0, 64);
}

Deno.test("hashFd() of a sparse file (read by its data regions) equals sha256sum", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const size of [64 << 20, (64 << 20) + 12345]) {
      const expected = await sparseFile(`${dir}/s`, size);
      assert.ok(libc.fstat(open(`${dir}/s`)).blocks * 512 < size, "the file is sparse");
      const r = hashFd({ fd: open(`${dir}/s`), capture: 0, size, limit: LIMIT });
      assert.equal(r.error, undefined);
      assert.equal(r.checksum, expected);
    }
    // Captured whole, holes as zeros.
    const small = await sparseFile(`${dir}/t`, 300_000);
    const c = hashFd({ fd: open(`${dir}/t`), capture: 1 << 20, size: 300_000, limit: LIMIT });
    assert.equal(c.checksum, small);
    assert.equal(c.text, undefined, "holes are NUL bytes: not text");
    // A hole at the end only, and a file with no data at all.
    execFileSync("truncate", ["-s", "5M", `${dir}/empty`]);
    const r = hashFd({ fd: open(`${dir}/empty`), capture: 0, size: 5 << 20, limit: LIMIT });
    assert.equal(r.checksum, execFileSync("sha256sum", [`${dir}/empty`], { encoding: "utf8" }).slice(0, 64));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hashFd() stops at the limit a file grew past since it was listed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/f`, new Uint8Array(3 << 20));
    const r = hashFd({ fd: open(`${dir}/f`), capture: 0, size: 10, limit: 1 << 20 });
    assert.equal(r.checksum, undefined);
    assert.equal(r.error, "not hashed: 3 MiB > limit of 1 MiB (fileSettings.maxHashBytes)");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createHashPool().close() stops a worker hashing a huge file within 2 s", async () => {
  const dir = await Deno.makeTempDir();
  try {
    execFileSync("truncate", ["-s", "1T", `${dir}/huge`]);
    // One job a batch: submitting hands it to a worker.
    const pool = createHashPool({ workers: 2, batchCount: 1, inline: NONE });
    const result = pool.submit({ fd: open(`${dir}/huge`), capture: 0, size: 2 ** 40, limit: 2 ** 41 });
    // Hashing for a while (a terabyte takes many minutes), then stop.
    await Promise.race([result, new Promise((r) => setTimeout(r, 500))]);
    const t = performance.now();
    await pool.close();
    const r = await result;
    const ms = performance.now() - t;
    assert.ok(ms < 2000, `stopped after ${Math.round(ms)} ms`);
    assert.match(r.error ?? "", /stopped/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (
  const [what, worker] of [
    ["cannot load", "../../collectors/files/no_such_worker.ts"],
    ["take a batch but fail before the pool saw them ready", "./testdata/unready_hash_worker.ts"],
  ]
) {
  straceTest(
    `createHashPool() whose workers ${what}: each file hashed here, its descriptor opened and closed once`,
    () =>
      withTempDir(async (dir) => {
        const expected: Record<string, string> = {};
        for (let i = 0; i < 40; i++) {
          const data = new Uint8Array(i * 4_000 + 1).fill(i);
          await Deno.writeFile(`${dir}/${i}`, data);
          expected[i] = createHash("sha256").update(data).digest("hex");
        }
        const script = new URL("./testdata/pool_run.ts", import.meta.url).pathname;
        const r = await traceDescriptors(script, [dir, new URL(worker, import.meta.url).href], dir);
        const { results, fallback } = JSON.parse(r.stdout);
        assert.deepEqual(results, expected);
        assert.match(fallback, /hash worker failed before the pool saw it ready|no_such_worker/);
        for (const name of Object.keys(expected)) {
          assert.deepEqual(r.files.get(`${dir}/${name}`), { opened: 1, closed: 1 }, name);
        }
        assert.deepEqual(r.failedCloses, [], "closes that failed: a number closed twice");
      }),
  );
}

Deno.test("collectEvery() collects on every n-th batch, and does nothing where V8 gives no gc()", () => {
  let collected = 0;
  const collect = collectEvery(3, () => collected++, () => 0);
  const seen: number[] = [];
  for (let i = 1; i <= 10; i++) {
    collect();
    seen.push(collected);
  }
  assert.deepEqual(seen, [0, 0, 1, 1, 1, 2, 2, 2, 3, 3]);
  const without = collectEvery(1, undefined);
  without(); // no gc(): nothing to call, nothing thrown
});

Deno.test("collectEvery() makes the memory-reducing collection only when the heap is above its bound", () => {
  const made: (string | undefined)[] = [];
  const gc: V8Gc = (o) => made.push(o?.flavor);
  let heap = 0;
  const collect = collectEvery(2, gc, () => heap, 100);
  for (const h of [500, 500, 100, 100, 101, 101, 99, 99]) {
    heap = h;
    collect();
  }
  assert.deepEqual(made, ["last-resort", undefined, "last-resort", undefined]);
});

Deno.test("with ctagent's V8 flags a worker's memory-reducing collection gives the grown young generation back", () => {
  // A real process with the flags the agent runs with: a full collection keeps the young generation V8 grew for
  // what lived through its scavenges; the collection collectEvery() makes above the bound gives it back.
  const script = `
    import { collectEvery } from ${JSON.stringify(new URL("./hash_worker.ts", import.meta.url).href)};
    let keep = [];
    for (let i = 0; i < 4e6; i++) {
      keep.push({ i });
      if (keep.length > 50_000) keep = [];
    }
    keep = [];
    const heap = () => Deno.memoryUsage().heapTotal;
    collectEvery(1, globalThis.gc, heap, Infinity)();
    const full = heap();
    collectEvery(1, globalThis.gc, heap, 0)();
    console.log(JSON.stringify({ full, reduced: heap() }));
  `;
  const r = spawnSync(Deno.execPath(), ["eval", V8_FLAGS_ARG, script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const { full, reduced } = JSON.parse(r.stdout);
  assert.ok(full > WORKER_HEAP_BOUND, `the young generation grew: ${full} bytes after a full collection`);
  assert.ok(
    reduced < WORKER_HEAP_BOUND / 2,
    `${reduced} bytes after the memory-reducing one (${full} before)`,
  );
});
