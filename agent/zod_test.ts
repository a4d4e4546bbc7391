import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import * as z from "./zod.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** The program's TypeScript files (not tests, test data or build scripts), relative to the repository. */
function programFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === "testdata" ? [] : programFiles(path);
    return e.name.endsWith(".ts") && !e.name.endsWith("_test.ts") ? [relative(ROOT, path)] : [];
  });
}

Deno.test("the program takes zod only through agent/zod.ts: zod's own `z` would put its whole namespace in the bundle", () => {
  const files = ["main.ts", ...["agent", "ui", "db"].flatMap((d) => programFiles(join(ROOT, d)))];
  assert.ok(files.includes("agent/config/dcr.ts"), "the walk found the program's files");
  const direct = files.filter((f) =>
    f !== "agent/zod.ts" &&
    /from\s+["'](?:npm:)?zod(?:@[^"'/]*)?(?:\/[^"']*)?["']/.test(readFileSync(join(ROOT, f), "utf8"))
  );
  assert.deepEqual(direct, []);
});

Deno.test("agent/zod.ts's names are zod's own", async () => {
  const zod = await import("zod");
  for (const [name, value] of Object.entries(z)) {
    assert.equal(value, (zod as Record<string, unknown>)[name], name);
  }
  const s = z.strictObject({ a: z.string(), n: z.array(z.number()).optional() });
  assert.deepEqual(s.parse({ a: "x" }), { a: "x" });
  assert.equal(s.safeParse({ a: 1 }).success, false);
});
