import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { programSources, ROOT } from "../test/helpers.ts";
import * as z from "./zod.ts";

Deno.test("the program takes zod only through agent/zod.ts: zod's own `z` would put its whole namespace in the bundle", () => {
  const files = programSources().map((f) => relative(ROOT, f));
  assert.ok(files.includes("agent/config/dcr.ts"), "the walk found the program's files");
  const direct = files.filter((f) =>
    f !== "agent/zod.ts" &&
    /from\s+["'](?:npm:)?zod(?:@[^"'/]*)?(?:\/[^"']*)?["']/.test(readFileSync(`${ROOT}${f}`, "utf8"))
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
