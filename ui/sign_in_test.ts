import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { sameSecret } from "./auth.ts";
import {
  base64url,
  failureLimiter,
  sameSecretWeb,
  SESSION_KEY_LABEL,
  sessionMacWeb,
  TOKEN_FILE,
  tokenFileOf,
  tokenFileReader,
} from "./sign_in.ts";
import { loadPageToken, rotatePageToken } from "./token.ts";

const TOKEN = "a".repeat(64);
const POSIX = Deno.build.os !== "windows";

Deno.test("failureLimiter(): a global limit across addresses, windows that end, bounded memory", () => {
  let now = 0;
  const l = failureLimiter({ perAddress: 3, global: 5, windowMs: 1000, maxAddresses: 4, now: () => now });
  for (let i = 0; i < 5; i++) l.fail(`a${i}`);
  assert.ok(l.blockedFor("fresh") > 0, "the global limit holds for an address never seen");
  assert.ok(l.addresses <= 4);
  now += 1001;
  assert.equal(l.blockedFor("fresh"), 0, "the window ended");
  for (let i = 0; i < 3; i++) l.fail("x");
  assert.equal(l.blockedFor("x"), 1);
  for (let i = 0; i < 1000; i++) l.fail(`flood${i}`);
  assert.ok(l.addresses <= 4, "remembered addresses stay bounded");
});

Deno.test("base64url() writes bytes as node's Buffer does (no padding, - and _)", () => {
  for (let n = 0; n <= 40; n++) {
    const bytes = new Uint8Array(randomBytes(n));
    assert.equal(base64url(bytes), Buffer.from(bytes).toString("base64url"), `${n} bytes`);
  }
  const all = new Uint8Array(256).map((_, i) => i);
  assert.equal(base64url(all), Buffer.from(all).toString("base64url"));
});

Deno.test("sameSecretWeb() answers as sameSecret(): equal, unequal, other lengths, empty, wide characters", async () => {
  const pairs: [string, string][] = [
    [TOKEN, TOKEN],
    [TOKEN, "b" + TOKEN.slice(1)],
    [TOKEN, TOKEN.slice(0, 63)],
    [TOKEN, TOKEN + "a"],
    ["", ""],
    ["", TOKEN],
    ["é\u{1F600}", "é\u{1F600}"],
    ["é\u{1F600}", "e\u{1F600}"],
  ];
  for (const [a, b] of pairs) assert.equal(await sameSecretWeb(a, b), sameSecret(a, b), `${a} / ${b}`);
});

Deno.test("sessionMacWeb() is the session's MAC that node:crypto makes (its key derived from the token), for any token", async () => {
  const mac = sessionMacWeb();
  for (const token of [TOKEN, "b".repeat(64), "short", "é\u{1F600}"]) {
    const key = createHmac("sha256", token).update(SESSION_KEY_LABEL).digest();
    for (const data of ["", "1765000000000.abc", "x".repeat(200), "é.\u{1F600}.\u0000"]) {
      const want = createHmac("sha256", key).update(data).digest("base64url");
      assert.equal(await mac(data, token), want, `${token} ${JSON.stringify(data)}`);
    }
  }
});

Deno.test("tokenFileReader() reads the token as the page would sign in with it, and nothing else", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ctagent-sign-in-" });
  try {
    const path = tokenFileOf(dir);
    assert.equal(path, `${dir}${POSIX ? "/" : "\\"}${TOKEN_FILE}`);
    const read = tokenFileReader(path);
    assert.equal(read(), undefined, "no file yet");
    const first = loadPageToken(dir).token;
    assert.equal(read(), first);
    const second = rotatePageToken(dir).token;
    assert.equal(read(), second, "rotated: read again");
    await Deno.writeTextFile(path, "not a token\n");
    assert.equal(read(), undefined, "not a token");
    await Deno.writeTextFile(path, `${TOKEN}\n`);
    assert.equal(read(), TOKEN, "rewritten in place: read again");
    if (POSIX) {
      await Deno.chmod(path, 0o644);
      assert.equal(read(), undefined, "others could read it");
      await Deno.chmod(path, 0o600);
      assert.equal(read(), TOKEN);
      await Deno.remove(path);
      await Deno.writeTextFile(`${dir}/elsewhere`, `${TOKEN}\n`, { mode: 0o600 });
      await Deno.symlink(`${dir}/elsewhere`, path);
      assert.equal(read(), undefined, "a link");
    }
    await Deno.remove(path);
    await Deno.mkdir(path);
    assert.equal(read(), undefined, "a directory");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
