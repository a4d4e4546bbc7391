import assert from "node:assert/strict";
import { Hono } from "hono";
import { pageAuth, sameSecret } from "./auth.ts";
import { cookieValue } from "./security.ts";
import { memoryLogger } from "../agent/log.ts";

const TOKEN = "a".repeat(64);

function app(opts: Partial<Parameters<typeof pageAuth>[0]> = {}) {
  let token = TOKEN;
  const log = memoryLogger();
  const auth = pageAuth({ token: () => token, secure: false, port: () => 8470, log, ...opts });
  const a = new Hono();
  a.use("*", auth.middleware);
  a.get("/", (c) => c.html("<p>page</p>"));
  a.get("/api/status", (c) => c.json({ ok: true }));
  a.get("/app.js", (c) => c.text("js"));
  const req = (path: string, headers: Record<string, string> = {}, addr = "10.0.0.1") =>
    a.request(path, { headers }, { remoteAddr: { hostname: addr } });
  return { auth, log, req, rotate: (t: string) => token = t };
}

Deno.test("sameSecret() compares by hashes: equal, unequal, other lengths, empty", () => {
  assert.equal(sameSecret(TOKEN, TOKEN), true);
  assert.equal(sameSecret(TOKEN, "b" + TOKEN.slice(1)), false);
  assert.equal(sameSecret(TOKEN, TOKEN.slice(0, 63)), false);
  assert.equal(sameSecret(TOKEN, TOKEN + "a"), false);
  assert.equal(sameSecret("", ""), true);
  assert.equal(sameSecret("", TOKEN), false);
});

Deno.test("pageAuth(): without a session every route is 401; the page route shows how to sign in", async () => {
  const { req } = app();
  const page = await req("/");
  assert.equal(page.status, 401);
  assert.match(await page.text(), /ctagent page-url/);
  const api = await req("/api/status");
  assert.equal(api.status, 401);
  assert.match((await api.json()).error, /ctagent page-url/);
  const js = await req("/app.js");
  assert.equal(js.status, 401);
  assert.match(await js.text(), /sign in first/);
  const unknown = await req("/no/such/route");
  assert.equal(unknown.status, 401);
  await unknown.body?.cancel();
});

Deno.test("pageAuth(): the token in the address becomes an HttpOnly SameSite=Strict cookie, and the redirect drops it", async () => {
  const { req, log } = app();
  const r = await req(`/?token=${TOKEN}&x=1`);
  assert.equal(r.status, 303);
  assert.equal(r.headers.get("location"), "/?x=1", "the token leaves the address; other parameters stay");
  const set = r.headers.get("set-cookie")!;
  assert.match(set, /^ctagent_8470=[^;]+; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict$/);
  assert.ok(!/Secure/.test(set), "no Secure flag over plain HTTP (the browser would drop the cookie)");
  assert.ok(log.lines.some((l) => l.includes("page signed in") && l.includes("address=10.0.0.1")));
  assert.ok(!log.lines.some((l) => l.includes(TOKEN)), "the token is never logged by sign-in");
  const cookie = set.split(";")[0];
  for (const path of ["/", "/api/status", "/app.js"]) {
    const ok = await req(path, { cookie: `other=1; ${cookie}` });
    assert.equal(ok.status, 200, path);
    await ok.body?.cancel();
  }
});

Deno.test("pageAuth() over TLS: the cookie is Secure and __Host- prefixed", async () => {
  const { req } = app({ secure: true });
  const r = await req(`/?token=${TOKEN}`);
  assert.match(
    r.headers.get("set-cookie")!,
    /^__Host-ctagent_8470=[^;]+; Path=\/; .*HttpOnly; SameSite=Strict; Secure$/,
  );
});

Deno.test("pageAuth(): a wrong token, a forged cookie or a wrong bearer token is 401 and logged; an expired session is 401", async () => {
  let now = 1_000_000;
  const { req, log, auth } = app({ now: () => now });
  const wrong = await req(`/?token=${"b".repeat(64)}`);
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers.get("set-cookie"), null);
  await wrong.body?.cancel();
  const session = auth.newSession();
  const [exp, nonce] = session.split(".");
  const forged = await req("/api/status", { cookie: `ctagent_8470=${Number(exp) + 1e9}.${nonce}.xyz` });
  assert.equal(forged.status, 401);
  await forged.body?.cancel();
  const bearer = await req("/api/status", { authorization: "Bearer nope" });
  assert.equal(bearer.status, 401);
  await bearer.body?.cancel();
  assert.equal(log.lines.filter((l) => l.includes("page sign-in failed")).length, 3, log.lines.join("\n"));
  assert.equal((await req("/api/status", { authorization: `Bearer ${TOKEN}` })).status, 200);
  assert.equal((await req("/api/status", { cookie: `ctagent_8470=${session}` })).status, 200);
  now += 12 * 3600_000 + 1;
  const old = await req("/api/status", { cookie: `ctagent_8470=${session}` });
  assert.equal(old.status, 401, "expired");
  await old.body?.cancel();
  assert.equal(log.lines.filter((l) => l.includes("page sign-in failed")).length, 3, "expiry is no attack");
});

Deno.test("pageAuth(): a rotated token ends every session signed with the old one", async () => {
  const { req, auth, rotate } = app();
  const cookie = `ctagent_8470=${auth.newSession()}`;
  assert.equal((await req("/api/status", { cookie })).status, 200);
  const write = auth.writeToken();
  rotate("c".repeat(64));
  const after = await req("/api/status", { cookie });
  assert.equal(after.status, 401);
  await after.body?.cancel();
  assert.notEqual(auth.writeToken(), write, "the page's write token follows the sign-in token");
  assert.equal((await req(`/?token=${"c".repeat(64)}`)).status, 303);
});

Deno.test("pageAuth(): every token and cookie check goes through the constant-time comparison", async () => {
  const calls: string[] = [];
  const compare = (a: string, b: string) => {
    calls.push(a);
    return sameSecret(a, b);
  };
  const { req, auth } = app({ compare });
  const session = auth.newSession();
  await (await req(`/?token=${TOKEN}`)).body?.cancel();
  await (await req(`/?token=wrong`)).body?.cancel();
  await (await req("/api/status", { authorization: `Bearer ${TOKEN}` })).body?.cancel();
  await (await req("/api/status", { cookie: `ctagent_8470=${session}` })).body?.cancel();
  await (await req("/api/status", { cookie: `ctagent_8470=1.2.3` })).body?.cancel();
  assert.deepEqual(calls, [TOKEN, "wrong", TOKEN, session.split(".")[2], "3"]);
});

Deno.test("pageAuth(): failures are rate-limited per address (429, Retry-After) while valid sessions go on", async () => {
  const { req, auth, log } = app();
  const cookie = `ctagent_8470=${auth.newSession()}`;
  for (let i = 0; i < 10; i++) await (await req(`/?token=${i}`)).body?.cancel();
  const blocked = await req(`/?token=${TOKEN}`);
  assert.equal(blocked.status, 429, "the right token is not even looked at while blocked");
  assert.ok(Number(blocked.headers.get("retry-after")) > 0);
  await blocked.body?.cancel();
  assert.equal((await req("/api/status", { cookie })).status, 200, "the operator's session still works");
  const other = await req(`/?token=${TOKEN}`, {}, "10.0.0.2");
  assert.equal(other.status, 303, "another address is not blocked");
  assert.ok(log.lines.some((l) => l.includes("blocked") && l.includes("address=10.0.0.1")));
});

Deno.test("cookieValue() finds one cookie among several", () => {
  assert.equal(cookieValue("a=1; ctagent_1=x.y.z; b=2", "ctagent_1"), "x.y.z");
  assert.equal(cookieValue("ctagent_10=x", "ctagent_1"), undefined);
  assert.equal(cookieValue(undefined, "a"), undefined);
});
