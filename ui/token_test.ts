import assert from "node:assert/strict";
import { chmodSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadPageToken, pageTokenSource, rotatePageToken, TOKEN_FILE } from "./token.ts";

const posix = Deno.build.os !== "windows";

async function dir() {
  return await Deno.makeTempDir({ prefix: "ctagent-token-" });
}

Deno.test({
  name: "loadPageToken() makes a 0600 token at the first start and reads the same one after",
  ignore: !posix,
  async fn() {
    const d = join(await dir(), "data");
    const a = loadPageToken(d);
    assert.match(a.token, /^[0-9a-f]{64}$/);
    assert.equal(statSync(a.path).mode & 0o777, 0o600);
    assert.equal(statSync(d).mode & 0o777, 0o700, "a data directory it makes is private too");
    assert.equal(loadPageToken(d).token, a.token);
    assert.deepEqual([...Deno.readDirSync(d)].map((e) => e.name), [TOKEN_FILE], "no temporary file left");
    await Deno.remove(d, { recursive: true });
  },
});

Deno.test({
  name: "loadPageToken() replaces a token file others could read, and says so",
  ignore: !posix,
  async fn() {
    const d = await dir();
    const first = loadPageToken(d);
    chmodSync(first.path, 0o644);
    const warned: string[] = [];
    const next = loadPageToken(d, (msg, f) => warned.push(`${msg} ${f.problem}`));
    assert.notEqual(next.token, first.token, "the token others could read no longer signs in");
    assert.equal(statSync(next.path).mode & 0o777, 0o600);
    assert.match(warned.join("\n"), /not private.*mode 0644/);
    writeFileSync(next.path, "not a token\n", { mode: 0o600 });
    const third = loadPageToken(d, (msg) => warned.push(msg));
    assert.match(third.token, /^[0-9a-f]{64}$/);
    assert.match(warned.at(-1)!, /did not hold a token/);
    await Deno.remove(d, { recursive: true });
  },
});

Deno.test({
  name: "loadPageToken() refuses a token path that is a symbolic link (never follows it)",
  ignore: !posix,
  async fn() {
    const d = await dir();
    const target = join(d, "elsewhere");
    writeFileSync(target, "b".repeat(64), { mode: 0o600 });
    symlinkSync(target, join(d, TOKEN_FILE));
    assert.throws(() => loadPageToken(d), /not a regular file/);
    assert.equal(readFileSync(target, "utf8"), "b".repeat(64), "the link's target is untouched");
    await Deno.remove(d, { recursive: true });
  },
});

Deno.test({
  name: "pageTokenSource() follows a rotation; rotatePageToken() writes a new private token",
  ignore: !posix,
  async fn() {
    const d = await dir();
    const src = pageTokenSource(d, undefined, 0);
    const before = src.current();
    const rotated = rotatePageToken(d);
    assert.notEqual(rotated.token, before);
    assert.equal(statSync(rotated.path).mode & 0o777, 0o600);
    assert.equal(src.current(), rotated.token);
    await Deno.remove(join(d, TOKEN_FILE));
    assert.equal(src.current(), rotated.token, "a removed file keeps the token last read");
    await Deno.remove(d, { recursive: true });
  },
});
