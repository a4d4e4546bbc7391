import assert from "node:assert/strict";
import { openDb } from "../db/open.ts";
import { memoryLogger } from "../agent/log.ts";
import { startUi } from "./server.ts";

const assets = { html: "<!doctype html><title>t</title>", js: "", css: "", hash: "h" };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DYING = "./testdata/dying_listener_worker.ts";

/** A page whose listener worker dies on a request to /__die and starts again after `firstMs` (doubling). */
async function withDyingListener(
  restart: { firstMs: number; maxMs: number; resetAfterMs?: number },
  fn: (ui: Awaited<ReturnType<typeof startUi>>, log: ReturnType<typeof memoryLogger>) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "ctagent-listener-" });
  const opened = await openDb(`${dir}/state.db`);
  const log = memoryLogger();
  const ui = await startUi({
    db: opened,
    listen: "127.0.0.1:0",
    assets,
    dataDir: dir,
    log,
    listener: { restart, workerUrl: DYING },
  });
  try {
    await fn(ui, log);
  } finally {
    await ui.stop();
    await opened.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** The status of a sign-in through the page (303: the page's worker answered), or the network error. */
async function signIn(url: string): Promise<number | string> {
  try {
    const r = await fetch(url, { redirect: "manual" });
    await r.body?.cancel();
    return r.status;
  } catch (e) {
    return (e as Error).name;
  }
}

const logged = (log: { lines: string[] }, msg: string) => log.lines.filter((l) => l.includes(msg));

async function kill(ui: { url: string }) {
  const r = await fetch(`${ui.url}__die`);
  assert.equal(await r.text(), "dying");
}

/** Waits until the listener said it is back for the `n`th time (it serves /__die itself, no page's worker). */
async function restarted(log: { lines: string[] }, n: number) {
  const until = performance.now() + 15_000;
  while (logged(log, "the page's listener is back").length < n && performance.now() < until) await sleep(10);
  assert.equal(logged(log, "the page's listener is back").length, n);
}

/** Waits until a sign-in answers 303 again (at most `ms`). */
async function back(ui: { signInUrl: string }, ms: number) {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    if (await signIn(ui.signInUrl) === 303) return;
    await sleep(25);
  }
  assert.fail(`the page did not come back within ${ms} ms`);
}

Deno.test("a listener that dies is started again on the same address, and the page answers there again", () =>
  withDyingListener({ firstMs: 100, maxMs: 1000 }, async (ui, log) => {
    assert.equal(await signIn(ui.signInUrl), 303);
    await kill(ui);
    await back(ui, 15_000);
    assert.equal(logged(log, "the page's listener failed").length, 1);
    assert.equal(logged(log, "the page's listener starts again").length, 1);
    assert.match(logged(log, "the page's listener starts again")[0], /in_ms=100\b/);
    assert.equal(logged(log, "the page's listener is back").length, 1);
  }));

Deno.test("a listener that keeps dying is started again after waits that double, up to the cap", () =>
  withDyingListener({ firstMs: 50, maxMs: 200, resetAfterMs: 60_000 }, async (ui, log) => {
    for (let i = 1; i <= 4; i++) {
      await kill(ui);
      await restarted(log, i);
    }
    const waits = logged(log, "the page's listener starts again").map((l) =>
      Number(/in_ms=(\d+)/.exec(l)![1])
    );
    assert.deepEqual(waits, [50, 100, 200, 200]);
  }));

Deno.test("a listener that served long enough starts its count of failures again", () =>
  withDyingListener({ firstMs: 50, maxMs: 1000, resetAfterMs: 3000 }, async (ui, log) => {
    await kill(ui);
    await restarted(log, 1);
    await kill(ui);
    await restarted(log, 2);
    await sleep(3100);
    await kill(ui);
    await restarted(log, 3);
    const waits = logged(log, "the page's listener starts again").map((l) =>
      Number(/in_ms=(\d+)/.exec(l)![1])
    );
    assert.deepEqual(waits, [50, 100, 50]);
  }));

Deno.test("a stop while the listener waits to start again leaves no timer and no worker behind", () =>
  withDyingListener({ firstMs: 60_000, maxMs: 60_000 }, async (ui, log) => {
    await kill(ui);
    const until = performance.now() + 5000;
    while (!logged(log, "the page's listener starts again").length && performance.now() < until) {
      await sleep(20);
    }
    assert.equal(logged(log, "the page's listener starts again").length, 1);
    assert.notEqual(await signIn(ui.signInUrl), 303, "nothing serves while it waits");
    // ui.stop() in withDyingListener: the test's sanitizers fail on a timer or worker left running.
  }));

Deno.test("a listener that never says it serves fails the page's start once its wait is over, naming where", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ctagent-listener-" });
  const opened = await openDb(`${dir}/state.db`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    // The daemon goes on without the page then (agent/cli/daemon.ts), and starts its collections.
    const started = startUi({
      db: opened,
      listen: "127.0.0.1:0",
      assets,
      dataDir: dir,
      log: memoryLogger(),
      listener: { workerUrl: "./testdata/mute_listener_worker.ts", startWaitMs: 300 },
    });
    // Without the wait, startUi() would never settle: this fails the test instead.
    const stuck = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("startUi() still waits after 30 s")), 30_000);
    });
    await assert.rejects(
      Promise.race([started, stuck]),
      /the page's listener on 127\.0\.0\.1:0 did not start within 300 ms/,
    );
    // The test's sanitizers fail on the wait's timer or the worker left running.
  } finally {
    clearTimeout(timer);
    await opened.close();
    await Deno.remove(dir, { recursive: true });
  }
});
