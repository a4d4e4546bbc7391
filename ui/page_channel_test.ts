import assert from "node:assert/strict";
import { openDb } from "../db/open.ts";
import { memoryLogger } from "../agent/log.ts";
import { startUi } from "./server.ts";
import { pageStarter, type PageWorkerHandle, remotePages, type SpawnRequest } from "./page_channel.ts";
import type { FromWorker, ToWorker } from "./page_worker.ts";
import type { FakeIn, FakeOut } from "./testdata/dying_page_worker.ts";

const DYING_PAGE = new URL("./testdata/dying_page_worker.ts", import.meta.url).href;
const assets = { html: "<!doctype html><title>t</title>", js: "", css: "", hash: "h" };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The fake page worker's own message types are page_worker.ts's: it reads every message it may be sent, and what it
// sends is one (checked here, where page_worker.ts's graph is checked anyway; the fake's own is kept small).
const _fakeReads: (m: ToWorker) => FakeIn = (m) => m;
const _fakeSends: (m: FakeOut) => FromWorker = (m) => m;

/**
 * Waits until `ok()`, at most 30 s (a worker's module is type-checked on its first start: the fake page worker's
 * small graph in seconds on a fresh cache); says what `what` still was.
 */
async function until(ok: () => boolean, what: () => string) {
  const end = Date.now() + 30_000;
  while (!ok() && Date.now() < end) await sleep(50);
  assert.ok(ok(), what());
}

/** The messages a handle's worker sends, in order. */
function heard(handle: PageWorkerHandle) {
  const got: FromWorker[] = [];
  const failed: string[] = [];
  handle.onmessage = (e) => void got.push(e.data);
  handle.onerror = (e) => {
    e.preventDefault();
    failed.push(e.message);
  };
  return { got, failed };
}

const request = (id: number, path: string) => ({
  type: "request" as const,
  id,
  request: {
    method: "GET",
    url: `http://127.0.0.1${path}`,
    headers: [],
    body: null,
    remoteAddr: { transport: "tcp" as const, hostname: "127.0.0.1", port: 1 },
  },
});

/** A page's worker of `pages` handed an init and a request at once: its handle once both are answered. */
async function answered(pages: ReturnType<typeof remotePages>) {
  const handle = pages.spawn(DYING_PAGE);
  const { got, failed } = heard(handle);
  handle.postMessage({ type: "init", init: {} as never });
  handle.postMessage(request(1, "/a"));
  try {
    await until(() => got.length === 2, () => JSON.stringify(got));
    assert.deepEqual(got.map((m) => m.type), ["ready", "response"]);
    assert.deepEqual(failed, []);
  } catch (e) {
    handle.terminate();
    throw e;
  }
  return { handle, got, failed };
}

Deno.test("a page's worker asked of another thread talks on its port, messages posted before it started kept in order", async () => {
  const asked: string[] = [];
  const starter = pageStarter();
  // The other thread gets to it a moment later (what is posted meanwhile waits).
  const pages = remotePages((m: SpawnRequest) => {
    asked.push(m.type);
    setTimeout(() => starter.handle(starter, m, pages.news), 20);
  }, 60_000);
  const { handle } = await answered(pages);
  try {
    assert.equal(starter.count(), 1, "started by the other thread");
  } finally {
    handle.terminate();
  }
  assert.deepEqual(asked, ["page-start", "page-end"]);
  await until(() => starter.count() === 0, () => "not ended when the handle is");
});

Deno.test("a thread that does not start the page's worker in time: the listener starts it itself, the other starts none", async () => {
  const asked: SpawnRequest[] = [];
  const pages = remotePages((m) => void asked.push(m), 50);
  const { handle, got, failed } = await answered(pages);
  try {
    assert.deepEqual(
      asked.map((m) => m.type),
      ["page-start", "page-end"],
      "the other thread is told to end it",
    );
    // The busy thread gets to the request late: it sees it is old and starts nothing.
    const late = pageStarter(50);
    for (const m of asked) late.handle(late, m, () => assert.fail("a late request was answered"));
    assert.equal(late.count(), 0);
    // Its news comes late too: ignored.
    pages.news({ type: "page-started", id: asked[0].id });
    pages.news({ type: "page-failed", id: asked[0].id, message: "late" });
    handle.postMessage(request(2, "/b"));
    await until(() => got.length === 3, () => JSON.stringify(got));
    assert.deepEqual(failed, []);
  } finally {
    handle.terminate();
  }
});

Deno.test("a page's worker the other thread cannot start fails its handle with the reason", async () => {
  const starter = pageStarter();
  const pages = remotePages((m) => starter.handle(starter, m, pages.news), 60_000);
  // A module that throws as it is loaded (as a page worker whose start fails).
  const handle = pages.spawn(`data:text/javascript,${encodeURIComponent('throw new Error("cannot start")')}`);
  const { failed } = heard(handle);
  try {
    await until(() => failed.length === 1, () => `failures: ${failed.join("; ")}`);
    assert.match(failed[0], /cannot start/);
  } finally {
    handle.terminate();
  }
  assert.equal(starter.count(), 0);
});

Deno.test("the daemon's page: the agent's thread runs the page's worker, ends it when idle and when its listener dies", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ctagent-page-channel-" });
  const opened = await openDb(`${dir}/state.db`);
  const log = memoryLogger();
  const ui = await startUi({
    db: opened,
    listen: "127.0.0.1:0",
    assets,
    dataDir: dir,
    log,
    pageIdleMs: 300,
    // The agent's thread is not held here: however slowly a loaded machine gets to the request, it starts it.
    listener: {
      restart: { firstMs: 50, maxMs: 50 },
      workerUrl: "./testdata/dying_listener_worker.ts",
      spawnWaitMs: 60_000,
    },
  });
  const signIn = async () => {
    // The page's worker's first start type-checks its modules under `deno test`: 10 s on a busy machine.
    const r = await fetch(ui.signInUrl, { redirect: "manual", signal: AbortSignal.timeout(30_000) });
    await r.body?.cancel();
    return r.status;
  };
  try {
    assert.equal(ui.pageWorkers(), 0, "none before anyone asks");
    // Wrong credentials are the listener's to refuse (as the page would): no page worker for a guess.
    const wrong: [string, Record<string, string>][] = [
      ["?token=0", {}],
      ["", { authorization: "Bearer wrong" }],
      ["", { cookie: `ctagent_${new URL(ui.url).port}=x.y.z` }],
    ];
    for (const [query, headers] of wrong) {
      const r = await fetch(`${ui.url}api/status${query}`, { headers });
      assert.equal(r.status, 401, `${query} ${JSON.stringify(headers)}`);
      assert.match((await r.json()).error, /sign in first/);
    }
    assert.equal(ui.pageWorkers(), 0, "a wrong credential started the page's worker");
    // The listener's log lines come as messages, which may be read after the answers.
    await until(
      () => log.lines.filter((l) => l.includes("page sign-in failed")).length === 3,
      () => log.lines.join("\n"),
    );
    assert.equal(await signIn(), 303);
    assert.equal(ui.pageWorkers(), 1, "the agent's thread runs the page's worker");
    await until(() => ui.pageWorkers() === 0, () => "the idle page's worker was not ended");

    assert.equal(await signIn(), 303);
    assert.equal(ui.pageWorkers(), 1);
    const r = await fetch(`${ui.url}__die`);
    assert.equal(await r.text(), "dying");
    await until(
      () => log.lines.some((l) => l.includes("the page's listener is back")),
      () => log.lines.join("\n"),
    );
    assert.equal(ui.pageWorkers(), 0, "the dead listener's page worker still runs");
    assert.equal(await signIn(), 303, "the new listener's page answers");
    assert.equal(ui.pageWorkers(), 1);
  } finally {
    await ui.stop();
    await opened.close();
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(ui.pageWorkers(), 0, "a page's worker outlived the page's stop");
});

Deno.test("a listener's request that comes after its page workers were ended starts none", () => {
  const starter = pageStarter();
  const dead = {}, alive = {};
  const start = (owner: object, id: number) => {
    const { port1, port2 } = new MessageChannel();
    port1.close();
    starter.handle(
      owner,
      { type: "page-start", id, url: DYING_PAGE, port: port2, askedAt: Date.now() },
      () => {},
    );
  };
  starter.endAll(dead);
  start(dead, 1);
  assert.equal(starter.count(), 0, "started for a listener already ended");
  start(alive, 1);
  assert.equal(starter.count(), 1, "another listener's request is still served");
  starter.endAll();
  assert.equal(starter.count(), 0);
  start(alive, 2);
  assert.equal(starter.count(), 0, "started after all were ended");
});
