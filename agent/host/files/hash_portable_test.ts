import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { hashPortable } from "./hash_portable.ts";

Deno.test("hashPortable: SHA-256 across buffer boundaries, text captured only when small, text and new", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const big = new Uint8Array(3 * 1000 + 7).map((_, i) => (i * 31) & 0xff);
    await Deno.writeFile(`${dir}/big`, big);
    const want = createHash("sha256").update(big).digest("hex");
    const r = await hashPortable(`${dir}/big`, 10, new Uint8Array(1000));
    assert.equal(r.checksum, want);
    assert.equal(r.text, undefined);
    assert.equal(r.info.size, big.length);

    await Deno.writeTextFile(`${dir}/t.txt`, "hello\n");
    const t = await hashPortable(`${dir}/t.txt`, 100, new Uint8Array(4));
    assert.equal(t.checksum, createHash("sha256").update("hello\n").digest("hex"));
    assert.equal(t.text, "hello\n");
    assert.equal((await hashPortable(`${dir}/t.txt`, 3)).text, undefined, "over capture size");
    await assert.rejects(() => hashPortable(`${dir}/missing`, 0), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
