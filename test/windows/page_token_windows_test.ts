// Under Windows Deno: the page's sign-in gate reads the data directory's token as the page makes it (Windows paths,
// no POSIX mode or owner), and signs sessions as node:crypto does, so the listener refuses there what the page
// refuses and lets its users through.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { named, SKIP } from "./seed.ts";
import {
  sameSecretWeb,
  SESSION_KEY_LABEL,
  sessionMacWeb,
  tokenFileOf,
  tokenFileReader,
} from "../../ui/sign_in.ts";
import { loadPageToken, rotatePageToken } from "../../ui/token.ts";

Deno.test({
  name: named("the sign-in gate reads the page token of a Windows data directory and follows its rotation"),
  ignore: !!SKIP,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ctagent-page-token-" });
    try {
      const made = loadPageToken(dir);
      const path = tokenFileOf(dir);
      assert.equal(path, made.path, "the gate's path is the page's");
      assert.ok(path.includes("\\"), path);
      const read = tokenFileReader(path);
      assert.equal(read(), made.token);
      const rotated = rotatePageToken(dir);
      assert.notEqual(rotated.token, made.token);
      assert.equal(read(), rotated.token, "rotated: read again");
      await Deno.remove(path);
      assert.equal(read(), undefined, "gone: left to the page");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: named("the sign-in gate's WebCrypto signs and compares as node:crypto does under Windows Deno"),
  ignore: !!SKIP,
  async fn() {
    const token = "c".repeat(64);
    const key = createHmac("sha256", token).update(SESSION_KEY_LABEL).digest();
    const data = `${Date.now()}.bm9uY2U`;
    assert.equal(
      await sessionMacWeb()(data, token),
      createHmac("sha256", key).update(data).digest("base64url"),
    );
    assert.equal(await sameSecretWeb(token, token), true);
    assert.equal(await sameSecretWeb(token, token.slice(1)), false);
  },
});
