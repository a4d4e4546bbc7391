// build/bundle.ts: the stamp, the check that nothing is left to fetch, workers carried inside the one file.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import {
  BuildError,
  buildStamp,
  bundle,
  externalImports,
  latin1Comments,
  moduleRelativeLoads,
  ROOT,
  stampHeader,
  workerHeader,
} from "./bundle.ts";
import { canIsolate, runOffline } from "./offline.ts";

Deno.test("externalImports() lists every import the runtime would have to fetch, not node: built-ins", () => {
  const code = [
    'import { a } from "node:fs";',
    'import b from "npm:left-pad@1";',
    'import * as c from "./c.js";',
    'export { d } from "https://deno.land/x/d.ts";',
    'const e = await import("jsr:@std/e");',
    'import "node:process";',
  ].join("\n");
  assert.deepEqual(externalImports(code), [
    "./c.js",
    "https://deno.land/x/d.ts",
    "jsr:@std/e",
    "npm:left-pad@1",
  ]);
  assert.deepEqual(externalImports('import { x } from "node:os";\nconst s = "import y from \'npm:z\'";'), []);
});

Deno.test("buildStamp() takes the environment first: CTAGENT_VERSION, CTAGENT_COMMIT, SOURCE_DATE_EPOCH", async () => {
  const env = {
    CTAGENT_VERSION: "3.0.0",
    CTAGENT_COMMIT: "abc123",
    SOURCE_DATE_EPOCH: "1700000000",
  } as Record<string, string>;
  assert.deepEqual(await buildStamp((n) => env[n]), {
    version: "3.0.0",
    commit: "abc123",
    date: "2023-11-14T22:13:20Z",
  });
  await assert.rejects(
    buildStamp((n) => n === "SOURCE_DATE_EPOCH" ? "yesterday" : undefined),
    /SOURCE_DATE_EPOCH .*"yesterday"/,
  );
  const fromGit = await buildStamp(() => undefined, new Date("2026-05-06T07:08:09.123Z"));
  assert.equal(fromGit.date, "2026-05-06T07:08:09Z");
  assert.match(fromGit.commit, /^([0-9a-f]{12}(-dirty)?|unknown)$/);
  assert.match(
    stampHeader(fromGit),
    /^#!\/usr\/bin\/env -S deno run -A\nglobalThis\.__CTAGENT_BUILD__ = Object\.freeze\(/,
  );
});

Deno.test("moduleRelativeLoads() finds the source file from esbuild's module comments", () => {
  const code =
    '// test/testdata/bundle_worker/main.ts\nvar w = new Worker(new URL("./double_worker.ts", import.meta.url));\n';
  const [load] = moduleRelativeLoads(code);
  assert.equal(load.rel, "./double_worker.ts");
  assert.equal(load.source, join(ROOT, "test/testdata/bundle_worker/double_worker.ts"));
  assert.equal(moduleRelativeLoads('// x.ts\nnew URL("./gone.ts", import.meta.url)')[0].source, undefined);
});

Deno.test("bundle() refuses a program that reads a file beside its module (it would be missing)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ctagent_bundle_" });
  await assert.rejects(
    bundle({
      entry: join(ROOT, "test/testdata/bundle_relative/main.ts"),
      out: join(dir, "x.js"),
      ui: false,
      log: () => {},
    }),
    (e: Error) => e instanceof BuildError && /loads "\.\/data\.txt" relative to its module/.test(e.message),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name:
    "bundle() carries a *_worker.ts inside the one file, both minified: the worker runs offline from an empty directory",
  ignore: !canIsolate(),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ctagent_bundle_" });
    const { out } = await bundle({
      entry: join(ROOT, "test/testdata/bundle_worker/main.ts"),
      out: join(dir, "w.js"),
      ui: false,
      log: () => {},
    });
    const code = await Deno.readTextFile(out);
    assert.ok(!code.includes("self.postMessage"), "the worker's code travels gzipped, not as text");
    assert.ok(
      !code.includes("// test/testdata/bundle_worker/"),
      "minified: esbuild's module comments are gone",
    );
    const r = await runOffline({ bundle: out, mode: "once", args: [] });
    assert.equal(r.code, 0, r.stderr);
    const { fromWorker, inMain } = JSON.parse(r.stdout);
    assert.match(fromWorker, /^42:[0-9a-f]{8}$/);
    assert.equal(fromWorker, inMain, "the worker ran the same code as the main thread");
    await Deno.remove(dirname(r.workDir), { recursive: true });
    // The source map beside the bundle (not named in it) says where a stack trace points: named, the TypeScript
    // file and line.
    assert.doesNotMatch(code, /sourceMappingURL/);
    const source = await Deno.readTextFile(join(ROOT, "test/testdata/bundle_worker/main.ts"));
    const line = source.split("\n").findIndex((l) => l.includes('new Error("where")')) + 1;
    const mapped = join(dir, "mapped.js");
    await Deno.writeTextFile(mapped, `${code}//# sourceMappingURL=w.js.map\n`);
    const here = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", mapped], stdin: "null" })
      .output();
    assert.equal(here.code, 0, new TextDecoder().decode(here.stderr));
    assert.match(
      JSON.parse(new TextDecoder().decode(here.stdout)).where,
      new RegExp(`/test/testdata/bundle_worker/main\\.ts:${line}:\\d+\\)?$`),
    );
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("latin1Comments() escapes what is outside Latin-1 on comment lines and leaves code as it is", () => {
  const code =
    '  // a \u2026 b \u2192 \ud83d\ude00\n  /** key \u2192 value */\nconst s = "caf\u00e9";\nx = 1; // \u2192\n';
  const out = latin1Comments(code);
  assert.equal(
    out,
    '  // a \\u2026 b \\u2192 \\ud83d\\ude00\n  /** key \\u2192 value */\nconst s = "caf\u00e9";\nx = 1; // \u2192\n',
  );
});

Deno.test("workerHeader() keeps each worker gzipped and hands out a blob: URL of its exact code, made once", async () => {
  const sources = [
    `// first \u00e9\u2192\n${"export const line = 'the same line, many times';\n".repeat(2000)}`,
    "postMessage(2);\n",
  ];
  const header = workerHeader(sources);
  assert.equal(workerHeader([]), "");
  assert.ok(!header.includes("the same line"), "no worker's code as text");
  assert.ok(header.length < sources[0].length / 10, `a repetitive worker shrinks: ${header.length} bytes`);
  const dir = await Deno.makeTempDir({ prefix: "ctagent_header_" });
  try {
    const mod = join(dir, "m.js");
    await Deno.writeTextFile(
      mod,
      header +
        "const texts = [];\n" +
        "for (const i of [0, 1]) texts.push(await (await fetch(__ctagentWorkerUrl(i))).text());\n" +
        "console.log(JSON.stringify({ texts, same: __ctagentWorkerUrl(0).href === __ctagentWorkerUrl(0).href }));\n",
    );
    const out = await new Deno.Command(Deno.execPath(), { args: ["run", "--no-config", mod], stdin: "null" })
      .output();
    const dec = new TextDecoder();
    assert.equal(out.code, 0, dec.decode(out.stderr));
    const { texts, same } = JSON.parse(dec.decode(out.stdout));
    assert.deepEqual(texts, sources);
    assert.equal(same, true, "one blob per worker");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
