import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { openDb } from "../db/open.ts";
import { memoryLogger } from "../agent/log.ts";
import { COLLECTORS } from "../agent/collectors/mod.ts";
import { page } from "./app.ts";
import { uiCollectors } from "./collectors.ts";
import { signInGate, signsIn } from "./gate.ts";
import type { Listen } from "./security.ts";
import { failureLimiter, sameSecretWeb, SESSION_KEY_LABEL, sessionMacWeb, signIn } from "./sign_in.ts";

const assets = { html: "<!doctype html><title>t</title>", js: "js", css: "css", hash: "h" };
const LISTEN: Listen = { hostname: "127.0.0.1", port: 8470 };
const TOKEN = "a".repeat(64);
const remoteAddr = (hostname: string) => ({ transport: "tcp", hostname, port: 50000 } as const);
type Gate = (r: Request, address?: string) => Promise<Response | undefined>;
type App = (r: Request, address?: string) => Promise<Response>;

/** An answer as a client sees it: status, every header, body. */
async function seen(r: Response) {
  return { status: r.status, headers: [...r.headers].sort(), body: await r.text() };
}

/**
 * The page's app in this thread (signing in with TOKEN), and its gate as the listener makes it (its own failure
 * limiter, WebCrypto; `token` undefined: the token's file could not be read as the page would); `secure`: served
 * over TLS. Each logs to its own logger.
 */
async function withBoth(
  secure: boolean,
  fn: (app: App, gate: Gate, logs: { app: string[]; gate: string[] }) => void | Promise<void>,
  gateToken: () => string | undefined = () => TOKEN,
) {
  const opened = await openDb(":memory:");
  const appLog = memoryLogger(), gateLog = memoryLogger();
  // The limiters' clock stands still: both count the same failures in the same window, and say the same Retry-After.
  const clock = () => 1_000_000;
  const p = page({
    db: opened,
    collectors: uiCollectors(COLLECTORS),
    assets,
    tls: secure,
    token: () => TOKEN,
    writeTokenWithoutAuth: "w".repeat(64),
    log: appLog,
    limiter: failureLimiter({ now: clock }),
  }, () => LISTEN);
  const gate = signInGate({
    listen: LISTEN,
    secure,
    signIn: {
      check: signIn({
        limiter: failureLimiter({ now: clock }),
        compare: sameSecretWeb,
        mac: sessionMacWeb(),
        log: gateLog,
      }),
      token: gateToken,
    },
  });
  try {
    await fn(
      async (r, address = "127.0.0.1") => await p.app.fetch(r, { remoteAddr: remoteAddr(address) }),
      (r, address = "127.0.0.1") => gate(r, address),
      { app: appLog.lines, gate: gateLog.lines },
    );
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
              const fromGate = await gate(make());
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

/** A session cookie's value signed with `token`'s session key (node:crypto: the page's own way), ending at `expires`. */
function session(expires: number, token = TOKEN) {
  const data = `${expires}.bm9uY2Vub25jZQ`;
  const key = createHmac("sha256", token).update(SESSION_KEY_LABEL).digest();
  return `${data}.${createHmac("sha256", key).update(data).digest("base64url")}`;
}

/** A log's sign-in lines without their times. */
const signInLines = (lines: string[]) =>
  lines.filter((l) => l.includes("sign-in")).map((l) => l.replace(/^time=\S+ /, ""));

for (const secure of [false, true]) {
  Deno.test(`the gate answers a wrong credential as the page does, header for header, counts and logs it as the page does, and lets the right ones through (${secure ? "TLS" : "HTTP"})`, () =>
    withBoth(secure, async (app, gate, logs) => {
      const name = secure ? "__Host-ctagent_8470" : "ctagent_8470";
      const soon = Date.now() + 3600_000;
      const CREDENTIALS: [string, string, Record<string, string>, boolean][] = [
        ["wrong token", "?token=wrong", {}, false],
        ["empty token", "?x=1&token=", {}, false],
        ["right token", `?token=${TOKEN}`, {}, true],
        ["wrong bearer", "", { authorization: "Bearer nope" }, false],
        ["right bearer", "", { authorization: `bearer ${TOKEN}` }, true],
        ["forged session", "", { cookie: `${name}=${soon + 1e9}.bm9uY2U.xyz` }, false],
        ["session without a dot", "", { cookie: `${name}=abc` }, false],
        ["session of another token", "", { cookie: `${name}=${session(soon, "b".repeat(64))}` }, false],
        ["expired session", "", { cookie: `${name}=${session(Date.now() - 1000)}` }, false],
        ["valid session", "", { cookie: `other=1; ${name}=${session(soon)}` }, true],
      ];
      const kinds = new Set<string>();
      let passed = 0;
      // Rounds enough for each address to pass its limit (10 failures), so that 429s are compared too.
      for (let round = 0; round < 2; round++) {
        for (const address of ["127.0.0.1", "10.0.0.9"]) {
          for (const method of ["GET", "HEAD", "POST"]) {
            for (const path of ["/", "/api/status", "/app.js"]) {
              for (const host of [undefined, "evil.example"]) {
                for (const [label, query, headers, right] of CREDENTIALS) {
                  const make = () =>
                    new Request(`http${secure ? "s" : ""}://127.0.0.1:8470${path}${query}`, {
                      method,
                      headers: { ...(host ? { host } : {}), ...headers },
                    });
                  const what =
                    `${label}: ${method} ${path}${query} Host ${host} from ${address}, round ${round}`;
                  const fromGate = await gate(make(), address);
                  const fromApp = await app(make(), address);
                  if (fromGate === undefined) {
                    assert.ok(right, `the gate let through ${what}`);
                    assert.ok(![401, 405, 421, 429].includes(fromApp.status), `${what}: the page refused it`);
                    await fromApp.body?.cancel();
                    passed++;
                    continue;
                  }
                  const answer = await seen(fromGate);
                  assert.deepEqual(answer, await seen(fromApp), what);
                  kinds.add(`${answer.status}${right ? " right" : ""}`);
                }
              }
            }
          }
        }
      }
      assert.ok(passed > 0);
      // Refused for Host and method, wrong ones refused (and blocked), right ones blocked with their address too.
      assert.deepEqual([...kinds].sort(), [
        "401",
        "405",
        "405 right",
        "421",
        "421 right",
        "429",
        "429 right",
      ]);
      assert.deepEqual(signInLines(logs.gate), signInLines(logs.app));
      assert.ok(signInLines(logs.gate).some((l) => l.includes("blocked")), "no address was blocked");
    }));
}

Deno.test("a request with any credential is left to the page's worker when the gate cannot read the token as the page would", () =>
  withBoth(false, async (_app, gate, logs) => {
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
        await gate(new Request(`http://127.0.0.1:8470${path}`, { headers })),
        undefined,
        `${path} ${headers}`,
      );
    }
    assert.deepEqual(logs.gate, [], "nothing counted");
    assert.equal(
      (await gate(new Request("http://127.0.0.1:8470/")))?.status,
      401,
      "no credential: still answered",
    );
  }, () => undefined));

Deno.test("over TLS the session cookie is the __Host- one: the plain name is no credential there", () =>
  withBoth(true, async (_app, gate, logs) => {
    const ask = (cookie: string) => gate(new Request("https://127.0.0.1:8470/", { headers: { cookie } }));
    assert.equal(await ask(`__Host-ctagent_8470=${session(Date.now() + 60_000)}`), undefined);
    assert.equal((await ask(`ctagent_8470=${session(Date.now() + 60_000)}`))?.status, 401);
    assert.deepEqual(logs.gate, [], "no credential: no failure");
    assert.equal((await ask("__Host-ctagent_8470=x"))?.status, 401);
    assert.equal(signInLines(logs.gate).length, 1, "a forged session is a failure");
  }));

Deno.test("the page signs in when it has a token directory or a token for this start, and only then", () => {
  assert.equal(signsIn({ dataDir: "/var/lib/ctagent" }), true);
  assert.equal(signsIn({ token: "t" }), true);
  assert.equal(signsIn({ token: "" }), true);
  assert.equal(signsIn({}), false);
});
