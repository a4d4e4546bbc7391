import assert from "node:assert/strict";
import { parseRule } from "../../collectors/files/match.ts";
import type { Links } from "./walk_limits.ts";
import { keyOrder } from "../../key_order.ts";
import { keyOrderTree } from "./testdata/key_order_tree.ts";
import { DENO_OPS, type PortableFound, type PortableOps, walkPortable } from "./walk_portable.ts";

async function linkTree() {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/real`);
  await Deno.writeTextFile(`${dir}/real/f.conf`, "f\n");
  await Deno.symlink(`${dir}/real`, `${dir}/real/loop`); // a directory link back to itself
  await Deno.symlink(`${dir}/real/f.conf`, `${dir}/l.conf`);
  await Deno.symlink(`${dir}/nowhere`, `${dir}/dangling.conf`);
  return dir;
}

async function walked(dir: string, links: Links, maxFiles = 100) {
  const found: PortableFound[] = [];
  const report = await walkPortable({
    rule: parseRule(`${dir}/*.conf`, "linux"),
    realBase: dir,
    sep: "/",
    recurse: true,
    links,
    type: "File",
    maxDepth: 10,
    budget: { left: maxFiles },
  }, (f) => {
    found.push(f);
  });
  return { report, paths: found.map((f) => f.path.slice(dir.length + 1)), found };
}

Deno.test("walkPortable: links Follow (loop walked once), Manage (the link itself), Ignore (skipped)", async () => {
  const dir = await linkTree();
  try {
    const follow = await walked(dir, "Follow");
    assert.deepEqual(follow.paths, ["dangling.conf", "l.conf", "real/f.conf"]);
    assert.equal(follow.report.loops, 1);
    const l = follow.found.find((f) => f.path.endsWith("/l.conf"))!;
    assert.ok(l.info!.isFile && l.linkTarget === `${dir}/real/f.conf`, "a followed link reports its target");
    assert.ok(follow.found[0].info!.isSymlink, "a dangling link is reported as the link");

    const manage = await walked(dir, "Manage");
    assert.deepEqual(manage.paths, ["dangling.conf", "l.conf", "real/f.conf"]);
    assert.ok(manage.found.find((f) => f.path.endsWith("/l.conf"))!.info!.isSymlink);

    assert.deepEqual((await walked(dir, "Ignore")).paths, ["real/f.conf"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("walkPortable: maxFiles cuts and says which prefix was not seen", async () => {
  const dir = await linkTree();
  try {
    const r = await walked(dir, "Ignore", 0);
    assert.deepEqual(r.paths, []);
    assert.deepEqual(r.report.unseen, [`${dir}/real/`]);
    assert.equal(r.report.dirsCut, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Deno's calls, with lstat (or stat) failing for chosen paths the way Windows or an I/O error fails them. */
function failingOps(fail: { path: string; call: "lstat" | "stat"; error: Error }[]): PortableOps {
  const f = (call: "lstat" | "stat", p: string) => fail.find((x) => x.call === call && p === x.path)?.error;
  return {
    ...DENO_OPS,
    lstat: (p) => f("lstat", p) ? Promise.reject(f("lstat", p)) : DENO_OPS.lstat(p),
    stat: (p) => f("stat", p) ? Promise.reject(f("stat", p)) : DENO_OPS.stat(p),
  };
}

Deno.test("walkPortable: a directory it cannot stat, or a followed link whose target it cannot, is unseen", async () => {
  const dir = await Deno.makeTempDir();
  const outside = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/sub`);
    await Deno.writeTextFile(`${dir}/sub/b.conf`, "b\n");
    await Deno.writeTextFile(`${outside}/c.conf`, "c\n");
    await Deno.symlink(outside, `${dir}/lnk`);
    const walk = async (ops: PortableOps) => {
      const paths: string[] = [];
      const report = await walkPortable({
        rule: parseRule(`${dir}/*.conf`, "linux"),
        realBase: dir,
        sep: "/",
        recurse: true,
        links: "Follow",
        type: "File",
        maxDepth: 10,
        budget: { left: 100 },
        ops,
      }, (f) => void paths.push(f.path.slice(dir.length + 1)));
      return { report, paths: paths.sort() };
    };
    assert.deepEqual((await walk(DENO_OPS)).paths, ["lnk/c.conf", "sub/b.conf"]);
    const io = Object.assign(new Error("Input/output error (os error 5)"), { code: "EIO" });
    const r = await walk(failingOps([{ path: `${dir}/sub`, call: "lstat", error: io }]));
    assert.deepEqual(r.paths, ["lnk/c.conf"]);
    assert.deepEqual(r.report.unseen, [`${dir}/sub/`]);
    const denied = new Deno.errors.PermissionDenied("Permission denied (os error 13)");
    const l = await walk(failingOps([{ path: `${dir}/lnk`, call: "stat", error: denied }]));
    assert.deepEqual(l.paths, ["sub/b.conf"]);
    assert.deepEqual(l.report.unseen, [`${dir}/lnk/`]);
    const gone = await walk(
      failingOps([{ path: `${dir}/lnk`, call: "stat", error: new Deno.errors.NotFound("gone") }]),
    );
    assert.deepEqual(gone.report.unseen, [], "a dangling link holds nothing");
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("walkPortable: reports keys in key order, a directory's contents where their keys sort", async () => {
  const dir = await keyOrderTree();
  try {
    const paths: string[] = [];
    await walkPortable({
      rule: parseRule(`${dir}/*`, "linux"),
      realBase: dir,
      sep: "/",
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
