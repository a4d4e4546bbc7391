import assert from "node:assert/strict";
import { openDb } from "../db/open.ts";
import { startUi } from "./server.ts";
import type { Logger } from "../agent/log.ts";
import { workerPage, type WorkerPageOptions } from "./worker_page.ts";

const assets = { html: "<!doctype html><title>t</title>", js: "", css: "", hash: "h" };
const IDLE_MS = 300;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A page on a database file (so in its worker) whose worker stops after IDLE_MS without a request. */
async function withPage(
  fn: (ui: Awaited<ReturnType<typeof startUi>>) => Promise<void>,
  o: { noAuth?: boolean } = {},
) {
  const dir = await Deno.makeTempDir({ prefix: "ctagent-worker-page-" });
  const opened = await openDb(`${dir}/state.db`);
  const ui = await startUi({
    db: opened,
    listen: "127.0.0.1:0",
    assets,
    dataDir: dir,
    pageIdleMs: IDLE_MS,
    noAuth: o.noAuth,
  });
  try {
    assert.equal(ui.thread, "worker");
    await fn(ui);
  } finally {
    await ui.stop();
    await opened.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Waits until the worker is stopped (or says how long it kept running). */
async function stopped(ui: { workerRunning(): boolean }) {
  for (let i = 0; i < 100 && ui.workerRunning(); i++) await sleep(50);
  assert.equal(ui.workerRunning(), false, "the page's worker still runs 5 s after its last request");
}

Deno.test("the page's worker starts on the first request, stops when idle, and a session from before still works after", () =>
  withPage(async (ui) => {
    assert.equal(ui.workerRunning(), false, "no worker before anyone asks");
    // Signed in by the worker itself: its keys sign the cookie.
    const signed = await fetch(ui.signInUrl, { redirect: "manual" });
    await signed.body?.cancel();
    assert.equal(signed.status, 303);
    assert.equal(ui.workerRunning(), true);
    const cookie = signed.headers.get("set-cookie")!.split(";")[0];
    await stopped(ui);
    const r = await fetch(`${ui.url}api/status`, { headers: { cookie } });
    assert.equal(r.status, 200, await r.text());
    assert.equal(ui.workerRunning(), true, "started again by the request");
  }));

Deno.test("a request the sign-in refuses (no credential, a wrong one) is refused by the listener as the page would: no page worker starts", () =>
  withPage(async (ui) => {
    const page = await fetch(ui.url);
    assert.equal(page.status, 401);
    assert.match(await page.text(), /ctagent page-url/);
    assert.equal(page.headers.get("x-frame-options"), "DENY");
    const api = await fetch(`${ui.url}api/status`, { headers: { cookie: "other=1" } });
    assert.equal(api.status, 401);
    assert.match((await api.json()).error, /sign in first/);
    const put = await fetch(`${ui.url}api/scan`, { method: "PUT" });
    await put.body?.cancel();
    assert.equal(put.status, 405);
    assert.equal(ui.workerRunning(), false, "a request without credential started the page's worker");
    // A wrong token is judged by the listener too (and the failure counted there).
    const wrong = await fetch(`${ui.url}?token=wrong`, { redirect: "manual" });
    assert.equal(wrong.status, 401);
    assert.match(await wrong.text(), /ctagent page-url/);
    assert.equal(ui.workerRunning(), false, "a wrong token started the page's worker");
    const right = await fetch(ui.signInUrl, { redirect: "manual" });
    await right.body?.cancel();
    assert.equal(right.status, 303, "the right token signs in");
    assert.equal(ui.workerRunning(), true);
  }));

Deno.test("with --no-auth every request goes to the page's worker", () =>
  withPage(async (ui) => {
    const r = await fetch(ui.url);
    await r.body?.cancel();
    assert.equal(r.status, 200);
    assert.equal(ui.workerRunning(), true);
  }, { noAuth: true }));

Deno.test("the page's worker keeps running while an event stream is open, and stops once the browser leaves it", () =>
  withPage(async (ui) => {
    const cookie = `${ui.auth!.cookieName()}=${ui.auth!.newSession()}`;
    const ac = new AbortController();
    const r = await fetch(`${ui.url}api/events`, { headers: { cookie }, signal: ac.signal });
    assert.equal(r.status, 200);
    const reader = r.body!.getReader();
    const hello = new TextDecoder().decode((await reader.read()).value);
    assert.match(hello, /event: hello/);
    await sleep(IDLE_MS * 4);
    assert.equal(ui.workerRunning(), true, "stopped under an open event stream");
    ac.abort();
    await reader.cancel().catch(() => {});
    await stopped(ui);
  }));

Deno.test("failed sign-ins are counted by the listener, whether the page's worker runs or not", () =>
  withPage(async (ui) => {
    const wrong = async () => {
      const r = await fetch(`${ui.url}?token=${"0".repeat(64)}`, { redirect: "manual" });
      await r.body?.cancel();
      return r.status;
    };
    for (let i = 0; i < 5; i++) assert.equal(await wrong(), 401, `attempt ${i + 1}`);
    // A signed-in request runs the page's worker meanwhile.
    const cookie = `${ui.auth!.cookieName()}=${ui.auth!.newSession()}`;
    const signedIn = await fetch(`${ui.url}api/status`, { headers: { cookie } });
    await signedIn.body?.cancel();
    assert.equal(signedIn.status, 200);
    for (let i = 5; i < 10; i++) assert.equal(await wrong(), 401, `attempt ${i + 1}`);
    assert.equal(await wrong(), 429, "blocked after 10 failures");
    await stopped(ui);
    assert.equal(await wrong(), 429, "still blocked once the page's worker stopped");
    // The right token is refused too while the address is blocked: the count, not the token, decides.
    const right = await fetch(ui.signInUrl, { redirect: "manual" });
    await right.body?.cancel();
    assert.equal(right.status, 429);
    assert.equal(ui.workerRunning(), false, "started for a blocked address");
    // A valid session still works (loopback is shared: someone else's failures must not lock the operator out).
    const still = await fetch(`${ui.url}api/status`, { headers: { cookie } });
    await still.body?.cancel();
    assert.equal(still.status, 200);
  }));

Deno.test("a request body crosses to the page's worker (a POST answered by the worker's API)", () =>
  withPage(async (ui) => {
    const cookie = `${ui.auth!.cookieName()}=${ui.auth!.newSession()}`;
    const r = await fetch(`${ui.url}api/acks`, {
      method: "POST",
      headers: {
        cookie,
        "content-type": "application/json",
        "x-ctagent-token": ui.token,
        origin: ui.url.slice(0, -1),
      },
      body: JSON.stringify({ changeIds: [12345], note: "n" }),
    });
    const text = await r.text();
    // The API read the body: it names the field missing from it.
    assert.equal(r.status, 400, text);
    assert.match(text, /reviewer/, text);
  }));

Deno.test("a page's worker that dies is ended, the request it held gets a 500, and the next request starts a new one", async () => {
  const errors: string[] = [];
  const log = {
    debug() {},
    info() {},
    warn() {},
    error: (msg: string) => void errors.push(msg),
    child: () => log,
  } as unknown as Logger;
  const seen: boolean[] = [];
  let ready = 0, stopped = 0;
  const page = workerPage({
    workerUrl: new URL("./testdata/dying_page_worker.ts", import.meta.url).href,
    init: {} as WorkerPageOptions["init"],
    files: () => undefined,
    acknowledge: () => Promise.reject(new Error("no acks here")),
    log,
    idleMs: 60_000,
    onRunning: (r) => void seen.push(r),
    onReady: () => void ready++,
    onStopped: () => void stopped++,
  });
  const addr: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 1 };
  const ask = (path: string) => page.fetch(new Request(`http://127.0.0.1${path}`), addr);
  try {
    const first = await ask("/a");
    assert.equal(first.status, 200);
    const before = first.headers.get("x-worker");
    assert.ok(before);

    const dying = await ask("/__die");
    await dying.body?.cancel();
    assert.equal(dying.status, 500, "the request the worker held when it died");
    assert.ok(errors.includes("the page's worker failed"), errors.join("; "));
    assert.equal(page.running(), false, "a dead worker still counted as running");

    const next = await ask("/b");
    assert.equal(next.status, 200);
    const after = next.headers.get("x-worker");
    assert.ok(after && after !== before, "answered by the dead worker");
    assert.deepEqual(seen, [true, false, true]);
    assert.equal(ready, 2, "told once for each worker that became ready");
    assert.equal(stopped, 1, "told once the dead worker was ended, before the next started");
  } finally {
    await page.stop();
  }
  assert.equal(stopped, 2, "told once the last worker was ended at stop()");
});

Deno.test("a page's worker left idle is ended, and the agent is told once it was", async () => {
  let stoppedAt = 0;
  const seen: boolean[] = [];
  let told: () => void;
  const stopped = new Promise<void>((r) => told = r);
  const page = workerPage({
    workerUrl: new URL("./testdata/dying_page_worker.ts", import.meta.url).href,
    init: {} as WorkerPageOptions["init"],
    files: () => undefined,
    acknowledge: () => Promise.reject(new Error("no acks here")),
    idleMs: 200,
    onRunning: (r) => void seen.push(r),
    onStopped: () => {
      stoppedAt = performance.now();
      told();
    },
  });
  const addr: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 1 };
  try {
    const answer = await page.fetch(new Request("http://127.0.0.1/a"), addr);
    await answer.body?.cancel();
    const answered = performance.now();
    assert.equal(answer.status, 200);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      stopped,
      new Promise((_, reject) => timer = setTimeout(() => reject(new Error("not stopped in 10 s")), 10_000)),
    ]).finally(() => clearTimeout(timer));
    assert.ok(stoppedAt - answered >= 150, `stopped ${stoppedAt - answered} ms after its answer`);
    assert.deepEqual(seen, [true, false]);
    assert.equal(page.running(), false);
  } finally {
    await page.stop();
  }
});
