import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { collectFiles } from "./mod.ts";
import { collectStreamed, type Streamed } from "./testdata/streamed.ts";
import { portableStatKey } from "./portable.ts";
import { DENO_OPS, type PortableOps } from "../../host/files/walk_portable.ts";
import { settingsSchema } from "../../config/dcr.ts";
import { type Host, liveHost } from "../../host/mod.ts";
import { memoryLogger } from "../../log.ts";
import { fakeHost } from "../../../test/fake_host.ts";

type Rule = Record<string, unknown>;
const sha = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");

function collect(
  host: Host,
  fileInfo: Rule[],
  previous?: Streamed,
  attributes?: (real: string) => number | null,
) {
  const s = settingsSchema(host.os).parse({ fileSettings: { fileInfo } });
  return collectStreamed(s, host, { portable: true, portableOptions: { attributes } }, previous);
}

async function tree() {
  const dir = await Deno.makeTempDir();
  if (Deno.build.os !== "windows") await Deno.chmod(dir, 0o755); // every user may read it (temp dirs are 0700)
  await Deno.mkdir(`${dir}/sub/deep`, { recursive: true });
  await Deno.writeTextFile(`${dir}/a.conf`, "alpha\n");
  await Deno.writeTextFile(`${dir}/b.txt`, "beta\n");
  await Deno.writeTextFile(`${dir}/sub/c.conf`, "gamma\n");
  await Deno.writeFile(`${dir}/sub/deep/d.conf`, new Uint8Array(3 << 20).map((_, i) => i & 0xff));
  return dir;
}

Deno.test("portable path (Linux tree): glob + recurse, checksums, content, reuse as-is, then exact changes", async () => {
  const dir = await tree();
  try {
    const host = liveHost();
    const rules = [{ name: "conf", path: `${dir}/*.conf`, recurse: true }];
    const one = await collect(host, rules);
    assert.deepEqual(one.items.map((i) => i.FileSystemPath), [
      `${dir}/a.conf`,
      `${dir}/sub/c.conf`,
      `${dir}/sub/deep/d.conf`,
    ]);
    for (const i of one.items) {
      assert.equal(i.FileContentChecksum, sha(await Deno.readFile(i.FileSystemPath)), i.FileSystemPath);
      assert.equal(i.FileType, "File");
      assert.ok(i.DateModified && i.StatKey);
      assert.equal(i.Attributes, undefined, "no Attributes off Windows");
    }
    assert.equal(one.byPath.get(`${dir}/sub/deep/d.conf`)!.Size, 3 << 20);
    assert.deepEqual(one.contents!.map((c) => c.text).sort(), ["alpha\n", "gamma\n"]);

    const two = await collect(host, rules, one);
    assert.deepEqual(
      two.kept.sort(),
      one.items.map((i) => i.FileSystemPath),
      "all the same, nothing rebuilt",
    );
    assert.deepEqual(two.items, one.items);
    assert.equal(two.contents.length, 0);

    await Deno.writeTextFile(`${dir}/a.conf`, "alpha, changed\n");
    await Deno.writeTextFile(`${dir}/sub/e.conf`, "new\n");
    await Deno.remove(`${dir}/sub/c.conf`);
    const three = await collect(host, rules, two);
    assert.deepEqual(three.items.map((i) => i.FileSystemPath), [
      `${dir}/a.conf`,
      `${dir}/sub/deep/d.conf`,
      `${dir}/sub/e.conf`,
    ]);
    assert.equal(three.byPath.get(`${dir}/a.conf`)!.FileContentChecksum, sha("alpha, changed\n"));
    assert.deepEqual(three.kept, [`${dir}/sub/deep/d.conf`]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("portable path: unreadable file kept with an error, unreadable directory an unseen prefix", async () => {
  const dir = await tree();
  try {
    const denied = () =>
      Object.assign(new Deno.errors.PermissionDenied("Permission denied"), { code: "EACCES" });
    const ops: PortableOps = {
      ...DENO_OPS,
      open: (p) => p.endsWith("/a.conf") ? Promise.reject(denied()) : DENO_OPS.open(p),
      readDir: (p) => {
        if (p.endsWith("/sub")) throw denied();
        return DENO_OPS.readDir(p);
      },
    };
    const s = settingsSchema("linux").parse({
      fileSettings: { fileInfo: [{ name: "conf", path: `${dir}/*.conf`, recurse: true }] },
    });
    const r = await collectFiles(s, {
      host: liveHost(),
      signal: new AbortController().signal,
      log: memoryLogger(),
    }, { portable: true, portableOptions: { ops } });
    assert.deepEqual(r.items.map((i) => i.FileSystemPath), [`${dir}/a.conf`]);
    const a = r.items[0];
    assert.match(a.error ?? "", /a\.conf: EACCES/);
    assert.equal(a.FileContentChecksum, null);
    assert.equal(a.Size, 6, "what lstat saw is kept");
    assert.deepEqual(r.unseen, [`${dir}/sub/`]);
    assert.ok(r.warnings!.some((w) => w.includes("could not be read")), r.warnings!.join("\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("portable path as a Windows host: %VAR% expansion, backslash keys, case-insensitive glob, Attributes", async () => {
  const dir = await tree();
  try {
    const real = (p: string) => dir + p.slice("C:\\Tree".length).replaceAll("\\", "/");
    const host: Host = {
      ...liveHost({ os: "windows" }),
      path: real,
      env: (n) => (n.toUpperCase() === "TREEROOT" ? "C:\\Tree" : undefined),
      environment: () => ({ TreeRoot: "C:\\Tree" }),
    };
    const r = await collect(
      host,
      [{ name: "w", path: "%TreeRoot%\\sub\\*.CONF", recurse: true }],
      undefined,
      (p) => p.endsWith("d.conf") ? 0x21 : 0x20,
    );
    assert.deepEqual(r.items.map((i) => [i.FileSystemPath, i.Attributes]), [
      ["C:\\Tree\\sub\\c.conf", "Archive"],
      ["C:\\Tree\\sub\\deep\\d.conf", "ReadOnly, Archive"],
    ]);
    assert.equal(r.items[0].FileContentChecksum, sha("gamma\n"));
    assert.equal(r.items[0].Mode, null);
    const bad = await collect(host, [{ name: "u", path: "%NOPE%\\*.conf" }]);
    assert.ok(bad.warnings!.some((w) => w.includes("%NOPE%")), bad.warnings!.join("\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("portableStatKey changes with size and mtime", () => {
  const base = { size: 1, mtime: new Date(1000), birthtime: new Date(5), ctime: null, dev: 1, ino: 2 };
  const k = portableStatKey(base as unknown as Deno.FileInfo);
  assert.notEqual(k, portableStatKey({ ...base, size: 2 } as unknown as Deno.FileInfo));
  assert.notEqual(k, portableStatKey({ ...base, mtime: new Date(1001) } as unknown as Deno.FileInfo));
});

Deno.test("files on a fake host: the DCR's rules over an in-memory tree, checksums, content, links, then a change", async () => {
  const files = {
    "/etc/app/a.conf": "alpha\n",
    "/etc/app/b.txt": "beta\n",
    "/etc/app/sub/c.conf": new Uint8Array([0, 1, 2]),
    "/etc/app/link.conf": { link: "a.conf" },
  };
  const host = fakeHost({ files });
  const rules = [{ name: "conf", path: "/etc/app/*.conf", recurse: true, groupTag: "App" }];
  const one = await collect(host, rules);
  assert.deepEqual(
    one.items.map((i) => [i.FileSystemPath, i.FileType, i.Size, i.FileContentChecksum, i.GroupTag]),
    [
      ["/etc/app/a.conf", "File", 6, sha("alpha\n"), "App"],
      ["/etc/app/link.conf", "File", 6, sha("alpha\n"), "App"],
      ["/etc/app/sub/c.conf", "File", 3, sha(new Uint8Array([0, 1, 2])), "App"],
    ],
  );
  assert.equal(one.byPath.get("/etc/app/link.conf")!.LinkTarget, "a.conf");
  assert.deepEqual(one.contents.map((c) => c.text), ["alpha\n"], "binary content is not captured");
  assert.deepEqual([one.unseen, one.warnings], [[], []]);

  host.nodes.set("/etc/app/sub/c.conf", { data: "now text\n" });
  host.nodes.delete("/etc/app/a.conf");
  const two = await collect(host, rules, one);
  assert.deepEqual(two.items.map((i) => [i.FileSystemPath, i.FileContentChecksum]), [
    ["/etc/app/link.conf", null],
    ["/etc/app/sub/c.conf", sha("now text\n")],
  ]);
});
