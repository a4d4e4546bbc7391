// A files collection given a scope (a realtime re-collection) gives exactly the items of a whole one in it.
import assert from "node:assert/strict";
import { join } from "node:path";
import { collectFiles, type FileItem } from "./mod.ts";
import { collectFilesPortable } from "./portable.ts";
import { settingsSchema } from "../../config/dcr.ts";
import { liveHost } from "../../host/mod.ts";
import { memoryLogger } from "../../log.ts";
import { scopeTest } from "../scope.ts";
import type { Collected, Scope } from "../types.ts";

/** A tree with files, directories, links and names the rules match or do not. */
async function tree(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "ctagent-scope-" });
  const files = [
    "a.conf",
    "b.txt",
    "sub/c.conf",
    "sub/d.txt",
    "sub/deep/e.conf",
    "sub/deep/f",
    "other/g.conf",
  ];
  for (const f of files) {
    await Deno.mkdir(join(dir, f, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, f), f);
  }
  await Deno.symlink("sub", join(dir, "link"));
  return dir;
}

const sorted = (items: FileItem[]) =>
  items.map((i) => `${i.FileSystemPath} ${i.FileType} ${i.FileContentChecksum}`).sort();

for (const portable of [false, true]) {
  Deno.test(`${portable ? "portable" : "libc"} files: a scoped collection gives exactly the whole one's items in the scope`, async () => {
    const dir = await tree();
    try {
      const settings = settingsSchema("linux").parse({
        fileSettings: {
          fileInfo: [
            { name: "confs", path: join(dir, ".*\\.conf"), recurse: true, type: "*" },
            { name: "sub", path: join(dir, "sub"), recurse: false },
            { name: "all", path: join(dir, "other"), recurse: true, type: "*", links: "Follow" },
          ],
        },
      });
      const run = (scope?: Scope): Promise<Collected<FileItem>> => {
        const ctx = {
          host: liveHost(),
          signal: new AbortController().signal,
          log: memoryLogger(),
          scope: scope && scopeTest(scope),
        };
        return portable ? collectFilesPortable(settings, ctx) : collectFiles(settings, ctx, { workers: 1 });
      };
      const whole = await run();
      assert.ok(whole.items.length >= 5, `${whole.items.length} items`);
      const scopes: Scope[] = [
        { keys: [join(dir, "sub/c.conf")], prefixes: [] },
        { keys: [join(dir, "sub")], prefixes: [join(dir, "sub/deep/")] },
        { keys: [join(dir, "sub/deep")], prefixes: [] },
        { keys: [join(dir, "nothing")], prefixes: [join(dir, "nothing/")] },
        { keys: [join(dir, "other"), join(dir, "a.conf")], prefixes: [join(dir, "other/")] },
        { keys: [], prefixes: [dir + "/"] },
      ];
      for (const scope of scopes) {
        const s = scopeTest(scope);
        const part = await run(scope);
        assert.deepEqual(
          sorted(part.items),
          sorted(whole.items.filter((i) => s.has(i.FileSystemPath))),
          JSON.stringify(scope),
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("libc files: a scoped collection of files written a moment ago hashes them once they settled", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ctagent-scope-racy-" });
  try {
    const settings = settingsSchema("linux").parse({
      fileSettings: { fileInfo: [{ name: "t", path: dir, recurse: true }] },
    });
    const ctx = (scope?: Scope) => ({
      host: liveHost(),
      signal: new AbortController().signal,
      log: memoryLogger(),
      scope: scope && scopeTest(scope),
    });
    const paths = Array.from({ length: 20 }, (_, i) => join(dir, `f${i}`));
    for (const p of paths) await Deno.writeTextFile(p, `written just now: ${p}\n`);
    const part = await collectFiles(settings, ctx({ keys: paths, prefixes: [] }), { workers: 1 });
    await new Promise((r) => setTimeout(r, 100));
    const whole = await collectFiles(settings, ctx(), { workers: 1 });
    assert.equal(part.items.length, 20);
    assert.deepEqual(sorted(part.items), sorted(whole.items));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
