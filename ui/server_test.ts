import assert from "node:assert/strict";
import { openDb } from "../db/open.ts";
import { memoryLogger } from "../agent/log.ts";
import { startUi } from "./server.ts";

const assets = { html: "<!doctype html><title>t</title>", js: "", css: "", hash: "h" };

Deno.test("startUi() on loopback says where the page is and warns of nothing", async () => {
  const opened = await openDb(":memory:");
  const log = memoryLogger();
  const ui = await startUi({ db: opened, log, listen: "127.0.0.1:0", assets });
  try {
    assert.match(ui.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.ok(log.lines.some((l) => l.includes("local page ready")));
    assert.ok(!log.lines.some((l) => l.includes("level=warn")), log.lines.join("\n"));
    const r = await fetch(ui.url);
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
  const ui = await startUi({ db: opened, log, listen: { hostname: "0.0.0.0", port: 0 }, assets });
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
