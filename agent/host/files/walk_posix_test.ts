import assert from "node:assert/strict";
import { parseRule } from "../../collectors/files/match.ts";
import { type FsOps, LIBC_OPS, walk } from "./walk_posix.ts";
import { SysError } from "./libc_posix.ts";
import { bytesToPath } from "./names.ts";
import type { Links } from "./walk_limits.ts";
import { keyOrder } from "../../key_order.ts";
import { keyOrderTree } from "./testdata/key_order_tree.ts";

/** The real calls, with statAt failing for chosen names (follow: the target's stat, else the entry's own). */
function failingStat(fail: { name: string; follow: boolean; errno: number }[]): FsOps {
  return {
    ...LIBC_OPS,
    statAt(dirfd, name, follow) {
      const s = bytesToPath(name.subarray(0, name.length - 1));
      const f = fail.find((x) => s === x.name && x.follow === follow);
      if (f) throw new SysError("statx", f.errno);
      return LIBC_OPS.statAt(dirfd, name, follow);
    },
  };
}

async function tree() {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/a.conf`, "a\n");
  await Deno.mkdir(`${dir}/sub`);
  await Deno.writeTextFile(`${dir}/sub/b.conf`, "b\n");
  await Deno.mkdir(`${dir}/../${dir.split("/").pop()}-outside`);
  await Deno.writeTextFile(`${dir}-outside/c.conf`, "c\n");
  await Deno.symlink(`${dir}-outside`, `${dir}/lnk`);
  return dir;
}

async function walked(dir: string, ops: FsOps, links: Links = "Follow") {
  const paths: string[] = [];
  const report = await walk({
    rule: parseRule(`${dir}/.*\\.conf`, "linux"),
    realBase: dir,
    recurse: true,
    links,
    type: "File",
    maxDepth: 10,
    budget: { left: 100 },
    ops,
  }, (f) => void paths.push(f.path.slice(dir.length + 1)));
  return { report, paths: paths.sort() };
}

Deno.test("walk() marks a directory it cannot stat unseen, though its own name does not match", async () => {
  const dir = await tree();
  try {
    const all = await walked(dir, LIBC_OPS);
    assert.deepEqual(all.paths, ["a.conf", "lnk/c.conf", "sub/b.conf"]);
    assert.deepEqual(all.report.unseen, []);
    const r = await walked(dir, failingStat([{ name: "sub", follow: false, errno: 5 }]));
    assert.deepEqual(r.paths, ["a.conf", "lnk/c.conf"]);
    assert.deepEqual(r.report.unseen, [`${dir}/sub/`], "sub/b.conf is kept, never Removed");
    assert.deepEqual(r.report.unreadable, [{ path: `${dir}/sub`, error: "EIO" }]);
  } finally {
    await Deno.remove(`${dir}-outside`, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("walk() marks a followed link whose target it cannot stat unseen; a dangling one is only itself", async () => {
  const dir = await tree();
  try {
    const r = await walked(dir, failingStat([{ name: "lnk", follow: true, errno: 13 }]));
    assert.deepEqual(r.paths, ["a.conf", "sub/b.conf"]);
    assert.deepEqual(r.report.unseen, [`${dir}/lnk/`]);
    assert.deepEqual(r.report.unreadable, [{ path: `${dir}/lnk`, error: "EACCES" }]);
    const gone = await walked(dir, failingStat([{ name: "lnk", follow: true, errno: 2 }]));
    assert.deepEqual(gone.report.unseen, [], "a dangling link holds nothing");
  } finally {
    await Deno.remove(`${dir}-outside`, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("walk() reports keys in key order: a directory's contents where their keys sort", async () => {
  const dir = await keyOrderTree();
  try {
    const paths: string[] = [];
    await walk({
      rule: parseRule(`${dir}/.*`, "linux"),
      realBase: dir,
      recurse: true,
      links: "Follow",
      type: "*",
      maxDepth: 10,
      budget: { left: 100 },
    }, (f) => void paths.push(f.path.slice(dir.length)));
    assert.equal(paths.length, 15);
    assert.deepEqual(paths, [...paths].sort(keyOrder));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
