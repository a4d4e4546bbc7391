import assert from "node:assert/strict";
import { openDb } from "../db/open.ts";
import { insertRun } from "../db/runs.ts";
import { changeFeed } from "./events.ts";
import { createApi } from "./api.ts";
import { uiCollectors } from "./collectors.ts";
import { COLLECTORS } from "../agent/collectors/mod.ts";

const run = (collector: string) => ({
  collector,
  started_at: 1,
  finished_at: 2,
  status: "ok",
  counts: JSON.stringify({ added: 1 }),
  error: null,
  warnings: "[]",
});

/** A live digest that waits for `open()`: the feed's first look cannot end before. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => open = r);
  return { open, liveDigest: async () => (await opened, "live") };
}

Deno.test("a feed is primed once it knows the newest run: one stored before is not an event, one after is", async () => {
  const { db, close } = await openDb(":memory:");
  const g = gate();
  const feed = changeFeed(db, { liveDigest: g.liveDigest, intervalMs: 10 });
  try {
    await insertRun(db, run("software"));
    const events: string[] = [];
    const off = feed.subscribe((e) => e.event === "run" && events.push(e.data.collector));
    let primed = false;
    const p = feed.primed().then(() => primed = true);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(primed, false, "primed before its first look ended");
    g.open();
    await p;
    await insertRun(db, run("files"));
    const deadline = Date.now() + 5000;
    while (!events.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(events, ["files"]);
    assert.equal(
      await Promise.race([feed.primed().then(() => "at once"), Promise.resolve("later")]),
      "later",
    );
    off();
  } finally {
    feed.close();
    await close();
  }
});

Deno.test("the event stream says hello only once the feed is primed: a page reading its status then misses no run", async () => {
  const { db, close } = await openDb(":memory:");
  const g = gate();
  const feed = changeFeed(db, { liveDigest: g.liveDigest, intervalMs: 10 });
  const api = createApi({ db, collectors: uiCollectors(COLLECTORS), feed });
  const ac = new AbortController();
  try {
    const res = await api.request("/events", { signal: ac.signal });
    const reader = res.body!.getReader();
    const first = reader.read();
    const early = await Promise.race([
      first.then(() => "hello"),
      new Promise((r) => setTimeout(r, 100, "none")),
    ]);
    assert.equal(early, "none", "hello before the feed knew where now is");
    g.open();
    const { value } = await first;
    assert.match(new TextDecoder().decode(value), /event: hello/);
    await reader.cancel();
  } finally {
    ac.abort();
    feed.close();
    await close();
  }
});
