import assert from "node:assert/strict";
import { OUT_CHUNK } from "./io.ts";

Deno.test("realIo.outPieces() writes every piece's bytes in order: small ones, multi-byte ones, ones larger than a write", async () => {
  // Small pieces (multi-byte characters among them), one larger than a write, pieces ending exactly at the edge.
  const script = `
    import { realIo, OUT_CHUNK } from ${JSON.stringify(new URL("./io.ts", import.meta.url).href)};
    async function* pieces() {
      for (let i = 0; i < 5000; i++) yield i % 7 ? "r" + i + "," : "é€😀" + i;
      yield "x".repeat(3 * OUT_CHUNK);
      for (let i = 0; i < 3; i++) yield "y".repeat(OUT_CHUNK / 3 - 1);
      yield "end";
    }
    await realIo.outPieces(pieces());
  `;
  const out = await new Deno.Command(Deno.execPath(), { args: ["eval", script], stderr: "inherit" }).output();
  assert.equal(out.code, 0);
  let expected = "";
  for (let i = 0; i < 5000; i++) expected += i % 7 ? "r" + i + "," : "é€😀" + i;
  expected += "x".repeat(3 * OUT_CHUNK) + "y".repeat(OUT_CHUNK / 3 - 1).repeat(3) + "end\n";
  assert.equal(new TextDecoder().decode(out.stdout), expected);
});
