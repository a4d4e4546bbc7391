import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { NO_CODE_CACHE_ARG, V8_FLAGS_ARG } from "./v8_flags.ts";
import { compileArgs } from "./compile.ts";

Deno.test("ctagent's V8 flags reach `deno task start` and every compiled executable", () => {
  const config = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url)));
  const start: string = config.tasks.start;
  assert.match(start, / main\.ts$/);
  assert.ok(
    start.includes(`${V8_FLAGS_ARG} main.ts`),
    `start task ${JSON.stringify(start)} lacks ${V8_FLAGS_ARG}`,
  );
  const args = compileArgs("dist/ctagent.js", "x86_64-unknown-linux-gnu", "dist/ctagent");
  assert.ok(args.indexOf(V8_FLAGS_ARG) > 0 && args.indexOf(V8_FLAGS_ARG) < args.indexOf("dist/ctagent.js"));
  const noCache = args.indexOf(NO_CODE_CACHE_ARG);
  assert.ok(noCache > 0 && noCache < args.indexOf("dist/ctagent.js"), `compile args ${args.join(" ")}`);
});

Deno.test("this Deno's V8 knows every flag in V8_FLAGS", () => {
  const run = (arg: string) => spawnSync(Deno.execPath(), ["eval", arg, "0"], { encoding: "utf8" });
  const ok = run(V8_FLAGS_ARG);
  assert.equal(ok.status, 0, ok.stderr);
  // The check can fail: Deno refuses a flag V8 does not know.
  const bad = run("--v8-flags=--no-such-flag-here");
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /did not recognize flag/);
});
