import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { openDb } from "../db/open.ts";
import { memoryLogger } from "../agent/log.ts";
import { startUi } from "./server.ts";
import { fakeHost } from "../test/fake_host.ts";

const assets = { html: "<!doctype html><title>t</title>", js: "", css: "", hash: "h" };

Deno.test("startUi() on loopback says where the page is and warns of nothing", async () => {
  const opened = await openDb(":memory:");
  const log = memoryLogger();
  const ui = await startUi({ db: opened, log, listen: "127.0.0.1:0", assets });
  try {
    assert.match(ui.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.ok(log.lines.some((l) => l.includes("local page ready")));
    assert.ok(!log.lines.some((l) => l.includes("level=warn")), log.lines.join("\n"));
    const r = await fetch(ui.url, {
      headers: { cookie: `${ui.auth!.cookieName()}=${ui.auth!.newSession()}` },
    });
    assert.equal(r.status, 200);
    await r.body?.cancel();
  } finally {
    await ui.stop();
    await opened.close();
  }
});

Deno.test("startUi() on a non-loopback address serves only because asked, with a warning", async () => {
  const opened = await openDb(":memory:");
  const log = memoryLogger();
  const ui = await startUi({
    db: opened,
    log,
    listen: { hostname: "0.0.0.0", port: 0 },
    assets,
    insecureListen: true,
  });
  try {
    assert.ok(
      log.lines.some((l) => l.includes("level=warn") && l.includes("non-loopback")),
      log.lines.join("\n"),
    );
  } finally {
    await ui.stop();
    await opened.close();
  }
});

Deno.test("startUi() with an agent: live collectors, DCR and delivery facts reach /api/status and its health", async () => {
  const opened = await openDb(":memory:");
  let scanned: string | undefined = "none";
  const agent = {
    scheduler: {
      apply() {},
      start() {},
      stop: () => Promise.resolve(),
      scanNow: (name?: string) => {
        scanned = name;
        return Promise.resolve([]);
      },
      status: () => [{
        name: "software" as const,
        state: "enabled" as const,
        frequency: 300,
        running: false,
        nextRunAt: 5,
      }],
    },
    config: () => ({
      source: "file" as const,
      origin: "/etc/ctagent/dcr.json",
      id: "dcr-1:CT",
      settings: {} as never,
      outputStreams: {},
      namedPipes: {},
      warnings: ["w1"],
      configId: 1,
      receivedAt: 7,
    }),
  };
  const ui = await startUi({
    db: opened,
    listen: "127.0.0.1:0",
    assets,
    agent,
    host: fakeHost({ hostname: "box", files: { "/etc/os-release": 'PRETTY_NAME="Test OS 1"\n' } }),
    delivery: () => ({ endpoint: "@ama.sock", reachable: false, lastError: "ECONNREFUSED" }),
  });
  try {
    const host = `127.0.0.1:${ui.listen.port}`;
    const cookie = `${ui.auth!.cookieName()}=${ui.auth!.newSession()}`;
    const s = await (await ui.request("/api/status", { headers: { host, cookie } })).json();
    assert.equal(s.hostname, "box");
    assert.equal(s.os, "Test OS 1");
    assert.deepEqual(s.config, {
      source: "file",
      origin: "/etc/ctagent/dcr.json",
      dcrId: "dcr-1:CT",
      receivedAt: 7,
      warnings: ["w1"],
      rejected: 0,
    });
    assert.deepEqual(
      s.collectors.map((
        c: { name: string; enabled: boolean; nextRunAt: number },
      ) => [c.name, c.enabled, c.nextRunAt]),
      [["software", true, 5]],
    );
    assert.equal(s.outbox.endpoint, "@ama.sock");
    assert.equal(s.health.level, "warn");
    const r = await ui.request("/api/scan", {
      method: "POST",
      body: JSON.stringify({ collector: "software" }),
      headers: {
        host,
        cookie,
        origin: `http://${host}`,
        "x-ctagent-token": ui.token,
        "content-type": "application/json",
      },
    });
    assert.equal(r.status, 200);
    await r.body?.cancel();
    assert.equal(scanned, "software");
  } finally {
    await ui.stop();
    await opened.close();
  }
});

Deno.test({
  name:
    "startUi() on a database file serves from its own worker: the page answers while the agent's thread is busy",
  ignore: !existsSync("/usr/bin/curl"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ctagent-page-worker-" });
    const opened = await openDb(`${dir}/state.db`);
    const ui = await startUi({ db: opened, listen: "127.0.0.1:0", assets, dataDir: dir, pageIdleMs: 200 });
    try {
      assert.equal(ui.thread, "worker");
      const cookie = `${ui.auth!.cookieName()}=${ui.auth!.newSession()}`;
      // The page's worker once started and stopped (idle): its modules are loaded and checked, which on a fresh
      // cache under load took 17 s of what follows.
      const first = await fetch(`${ui.url}api/status`, { headers: { cookie } });
      assert.equal(first.status, 200, await first.text());
      for (let i = 0; i < 600 && ui.workerRunning(); i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(ui.workerRunning(), false, "the page's worker did not stop when idle");
      // curl, then the time it got its answer (epoch ms), from a process of its own.
      const curl = new Deno.Command("sh", {
        args: [
          "-c",
          'curl -s -o /dev/null -w "%{http_code}" -H "Cookie: $1" "$2"; echo " $(date +%s%3N)"',
          "sh",
          cookie,
          `${ui.url}api/status`,
        ],
        stdout: "piped",
      }).output();
      // This thread does nothing else for 8 s (as a big baseline's statement would): the answer comes anyway. The
      // page's worker is started by the listener then, after its wait for this thread (ui/page_channel.ts), and a
      // worker started by a worker waits ~1 s in Deno: 4 s was too short under a loaded CI.
      const until = Date.now() + 8000;
      while (Date.now() < until) { /* busy */ }
      const [code, at] = new TextDecoder().decode((await curl).stdout).trim().split(" ");
      assert.equal(code, "200");
      // `at` is read after curl ended, so it is never earlier than the answer: before `until`, the answer came while
      // this thread was busy (under load, curl's own start took 3 s).
      assert.ok(Number(at) < until, `answered ${Number(at) - until} ms after this thread was free again`);
    } finally {
      await ui.stop();
      await opened.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
