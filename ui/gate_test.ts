import assert from "node:assert/strict";
import { openDb } from "../db/open.ts";
import { COLLECTORS } from "../agent/collectors/mod.ts";
import { page } from "./app.ts";
import { uiCollectors } from "./collectors.ts";
import { signInGate, signsIn } from "./gate.ts";
import type { Listen } from "./security.ts";

const assets = { html: "<!doctype html><title>t</title>", js: "js", css: "css", hash: "h" };
const LISTEN: Listen = { hostname: "127.0.0.1", port: 8470 };
const TOKEN = "a".repeat(64);
const remoteAddr = { transport: "tcp", hostname: "127.0.0.1", port: 50000 } as const;

/** An answer as a client sees it: status, every header, body. */
async function seen(r: Response) {
  return { status: r.status, headers: [...r.headers].sort(), body: await r.text() };
}

/** The page's app in this thread (signing in with TOKEN), and its gate; `secure`: served over TLS. */
async function withBoth(
  secure: boolean,
  fn: (
    app: (r: Request) => Promise<Response>,
    gate: (r: Request) => Response | undefined,
  ) => void | Promise<void>,
) {
  const opened = await openDb(":memory:");
  const p = page({
    db: opened,
    collectors: uiCollectors(COLLECTORS),
    assets,
    tls: secure,
    token: () => TOKEN,
    writeTokenWithoutAuth: "w".repeat(64),
  }, () => LISTEN);
  try {
    await fn(async (r) => await p.app.fetch(r, { remoteAddr }), signInGate({ listen: LISTEN, secure }));
  } finally {
    p.feed.close();
    await opened.close();
  }
}

const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"];
const PATHS = [
  "/",
  "/index.html",
  "/index.html?x=1",
  "/?tokens=1",
  "/app.js",
  "/favicon.svg",
  "/api/status",
  "/api/scan",
  "/api/events",
  "/api",
  "/%61pi/status",
  "/a%zz/b",
  "//api/x",
  "/nope",
];
const HOSTS: (string | undefined)[] = [
  undefined,
  "127.0.0.1:8470",
  "LOCALHOST:8470.",
  "evil.example",
  "[::1]:8471",
];
/** Headers that are no credential to the sign-in (another port's cookie, a Basic authorization, "Bearer" alone). */
const NOT_CREDENTIALS: Record<string, string>[] = [
  {},
  { cookie: "other=1; ctagent_8471=abc" },
  { authorization: "Basic dXNlcjpwYXNz" },
  { authorization: "Bearer " },
];

for (const secure of [false, true]) {
  Deno.test(`the gate answers a request without credential as the page does, header for header (${secure ? "TLS" : "HTTP"})`, () =>
    withBoth(secure, async (app, gate) => {
      let compared = 0;
      const kinds = new Set<string>();
      for (const method of METHODS) {
        for (const path of PATHS) {
          for (const host of HOSTS) {
            for (const extra of NOT_CREDENTIALS) {
              const make = () =>
                new Request(`http${secure ? "s" : ""}://127.0.0.1:8470${path}`, {
                  method,
                  headers: { ...(host ? { host } : {}), ...extra },
                });
              const fromGate = gate(make());
              const what = `${method} ${path} Host ${host} ${JSON.stringify(extra)}`;
              assert.ok(fromGate, `the gate left ${what} to the page's worker`);
              const answer = await seen(fromGate);
              assert.deepEqual(answer, await seen(await app(make())), what);
              kinds.add(`${answer.status} ${fromGate.headers.get("content-type")}`);
              compared++;
            }
          }
        }
      }
      assert.equal(compared, METHODS.length * PATHS.length * HOSTS.length * NOT_CREDENTIALS.length);
      // Every kind of answer was compared: the sign-in page, the refusal as JSON and as text, Host and method.
      assert.deepEqual([...kinds].sort(), [
        "401 application/json",
        "401 text/html; charset=UTF-8",
        "401 text/plain; charset=UTF-8",
        "405 text/plain; charset=UTF-8",
        "421 text/plain; charset=UTF-8",
      ]);
    }));
}

Deno.test("a request with any credential, right or wrong, is left to the page's worker", () =>
  withBoth(false, (_app, gate) => {
    for (
      const [path, headers] of [
        ["/?token=", {}],
        ["/api/status?token=wrong", {}],
        [`/?token=${TOKEN}`, {}],
        ["/", { authorization: "Bearer wrong" }],
        ["/api/status", { authorization: `bearer ${TOKEN}` }],
        ["/", { cookie: "ctagent_8470=forged" }],
        ["/app.js", { cookie: "a=1; ctagent_8470=x.y.z" }],
      ] as [string, Record<string, string>][]
    ) {
      assert.equal(
        gate(new Request(`http://127.0.0.1:8470${path}`, { headers })),
        undefined,
        `${path} ${headers}`,
      );
    }
  }));

Deno.test("over TLS the session cookie is the __Host- one: the plain name is no credential there", () =>
  withBoth(true, (_app, gate) => {
    const ask = (cookie: string) => gate(new Request("https://127.0.0.1:8470/", { headers: { cookie } }));
    assert.equal(ask("__Host-ctagent_8470=x"), undefined);
    assert.equal(ask("ctagent_8470=x")?.status, 401);
  }));

Deno.test("the page signs in when it has a token directory or a token for this start, and only then", () => {
  assert.equal(signsIn({ dataDir: "/var/lib/ctagent" }), true);
  assert.equal(signsIn({ token: "t" }), true);
  assert.equal(signsIn({ token: "" }), true);
  assert.equal(signsIn({}), false);
});
