import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createHashPool } from "./hash.ts";
import * as libc from "./libc_posix.ts";

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
    const pool = createHashPool({ workers: 2, batchCount: 3, maxInflight: 8 });
    try {
      assert.equal(pool.started, false, "no worker before there is something to hash");
      const out: Promise<string | undefined>[] = [];
      for (const p of paths) {
        await pool.room();
        out.push(pool.submit({ fd: open(p), capture: 0, size: 1 }).then((r) => r.checksum));
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
    const pool = createHashPool({
      workers: 2,
      workerUrl: new URL("../../collectors/files/no_such_worker.ts", import.meta.url).href,
    });
    try {
      const out = paths.map((p) => pool.submit({ fd: open(p), capture: 0, size: 1 }).then((r) => r.checksum));
      await pool.drain();
      assert.deepEqual(await Promise.all(out), expected);
      assert.ok(pool.fallback, "the reason is kept for a warning");
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
