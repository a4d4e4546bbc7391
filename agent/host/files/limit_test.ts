import assert from "node:assert/strict";
import { bytesText, notHashed } from "./limit.ts";

Deno.test("bytesText() writes binary units with up to 3 significant digits", () => {
  assert.equal(bytesText(0), "0 B");
  assert.equal(bytesText(1000), "1000 B");
  assert.equal(bytesText(2000), "1.95 KiB");
  assert.equal(bytesText(3 << 20), "3 MiB");
  assert.equal(bytesText(15 * 2 ** 40), "15 TiB");
  assert.equal(bytesText(2 ** 70), "1024 EiB");
});

Deno.test("notHashed() names the size, the limit and the setting", () => {
  assert.equal(
    notHashed(15 * 2 ** 40, 16 * 2 ** 30),
    "not hashed: 15 TiB > limit of 16 GiB (fileSettings.maxHashBytes)",
  );
});
