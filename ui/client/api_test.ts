import assert from "node:assert/strict";
import { ApiError, get } from "./api.ts";

/**
 * A real HTTP server whose answer to /api/slow sends part of its JSON and then waits; the page's relative
 * addresses are sent to it (as a browser sends them to the page's server).
 */
async function withServer(fn: () => Promise<void>): Promise<void> {
  let release!: () => void;
  const hold = new Promise<void>((r) => release = r);
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/api/ok") return Response.json({ history: [] });
    if (path === "/api/broken") return new Response("<html>proxy error</html>", { status: 502 });
    const enc = new TextEncoder();
    return new Response(
      new ReadableStream({
        async start(c) {
          c.enqueue(enc.encode('{"item": null, "hist'));
          await hold;
          c.close();
        },
      }),
      { headers: { "content-type": "application/json" } },
    );
  });
  const realFetch = globalThis.fetch;
  globalThis.fetch = (url, init) =>
    realFetch(new URL(String(url), `http://127.0.0.1:${server.addr.port}`), init);
  try {
    await fn();
  } finally {
    globalThis.fetch = realFetch;
    release();
    await server.shutdown();
  }
}

Deno.test("get() rejects an answer whose body was cut off by an abort (never hands it out as data)", async () => {
  await withServer(async () => {
    assert.deepEqual(await get("ok"), { history: [] });
    const ac = new AbortController();
    const load = get("slow", ac.signal);
    // Headers are in and part of the body: a newer load replaces this one.
    await new Promise((r) => setTimeout(r, 200));
    ac.abort();
    await assert.rejects(load, (e: Error) => e.name === "AbortError");
    await assert.rejects(get("broken"), (e: unknown) => e instanceof ApiError && e.status === 502);
  });
});
