import assert from "node:assert/strict";
import { parseRule } from "../../collectors/files/match.ts";
import type { Links } from "./walk_limits.ts";
import { type PortableFound, walkPortable } from "./walk_portable.ts";

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
