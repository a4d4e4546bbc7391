import assert from "node:assert/strict";
import net from "node:net";
import type { Duplex } from "node:stream";
import { listenUnix } from "./unix_socket.ts";
import { memoryLogger } from "../log.ts";
import {
  backoffDelay,
  connect,
  createLink,
  parseEndpoint,
  rateLimitedWarning,
  sleep,
  TransportError,
} from "./transport.ts";

const uniqueName = (what: string) => `ctagent-test-${what}-${crypto.randomUUID()}`;

/**
 * A server that echoes (or, with `silent`, accepts and never reads): unix sockets on Deno's own, as the agent's
 * (unix_socket.ts says why not node:net), TCP through node:net.
 */
async function server(
  listen: string | { port: number; host: string },
  opts: { silent?: boolean } = {},
): Promise<{ port?: number; sockets: Duplex[]; close(): Promise<void> }> {
  const sockets: Duplex[] = [];
  const onConnection = (s: Duplex) => {
    sockets.push(s);
    s.on("error", () => {});
    if (opts.silent) s.pause();
    else s.on("data", (d) => s.write(d));
  };
  const destroyAll = () => {
    for (const s of sockets) s.destroy();
  };
  if (typeof listen === "string") {
    const srv = listenUnix(listen, onConnection);
    return { sockets, close: () => (destroyAll(), srv.close()) };
  }
  const srv = net.createServer(onConnection);
  await new Promise<void>((resolve) => srv.listen(listen, resolve));
  return {
    port: (srv.address() as net.AddressInfo).port,
    sockets,
    close: () => {
      destroyAll();
      return new Promise((r) => srv.close(() => r()));
    },
  };
}

Deno.test("parseEndpoint() turns @name into an abstract address starting with NUL", () => {
  const ep = parseEndpoint("@CAgentStream_CloudAgentInfo_config_default_fluent.socket");
  assert.equal(ep.kind, "abstract");
  assert.equal(ep.address, "\0CAgentStream_CloudAgentInfo_config_default_fluent.socket");
  assert.equal(ep.label, "@CAgentStream_CloudAgentInfo_config_default_fluent.socket");
  assert.equal(parseEndpoint("unix://@x").address, "\0x");
});

Deno.test("parseEndpoint() reads unix paths, pipes and tcp addresses", () => {
  assert.deepEqual(parseEndpoint("/run/a.sock"), {
    kind: "unix",
    address: "/run/a.sock",
    label: "/run/a.sock",
  });
  assert.equal(parseEndpoint("unix:///run/a.sock").address, "/run/a.sock");
  const pipe = parseEndpoint("\\\\.\\pipe\\CAgentStream_CloudAgentInfo_AzureMonitorAgent");
  assert.equal(pipe.kind, "pipe");
  assert.equal(pipe.address, "\\\\.\\pipe\\CAgentStream_CloudAgentInfo_AzureMonitorAgent");
  assert.equal(parseEndpoint("//./pipe/x").address, "\\\\.\\pipe\\x");
  const tcp = parseEndpoint("tcp://127.0.0.1:24224");
  assert.deepEqual(tcp.kind === "tcp" && [tcp.host, tcp.port], ["127.0.0.1", 24224]);
  const v6 = parseEndpoint("tcp://[::1]:9");
  assert.deepEqual(v6.kind === "tcp" && [v6.host, v6.port], ["::1", 9]);
});

Deno.test("parseEndpoint() names the value it cannot read", () => {
  assert.throws(
    () => parseEndpoint("tcp://host"),
    /Cannot parse endpoint "tcp:\/\/host": expected tcp:\/\/HOST:PORT/,
  );
  assert.throws(() => parseEndpoint("unix://relative"), /needs an absolute path/);
  assert.throws(() => parseEndpoint("http://x"), /Cannot parse endpoint "http:\/\/x"/);
  assert.throws(() => parseEndpoint("@"), /abstract socket name is empty/);
  assert.throws(() => parseEndpoint(""), TypeError);
});

Deno.test("connect() writes and reads over an abstract socket", async () => {
  const name = uniqueName("abs");
  const s = await server(`\0${name}`);
  const c = await connect(parseEndpoint(`@${name}`));
  await c.write(new TextEncoder().encode("hello"));
  let got = "";
  while (got.length < 5) got += new TextDecoder().decode((await c.read(2000))!);
  assert.equal(got, "hello");
  c.close();
  await s.close();
});

Deno.test("connect() writes and reads over a filesystem socket and over TCP", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/s.sock`;
  const unix = await server(path);
  const tcp = await server({ port: 0, host: "127.0.0.1" });
  const port = tcp.port;
  for (const text of [`unix://${path}`, `tcp://127.0.0.1:${port}`]) {
    const c = await connect(parseEndpoint(text));
    await c.write(new Uint8Array([1, 2, 3]));
    const got = await c.read(2000);
    assert.deepEqual(Array.from(got!), [1, 2, 3], text);
    c.close();
  }
  await unix.close();
  await tcp.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("connect() fails fast with a TransportError naming the endpoint when nobody listens", async () => {
  const name = uniqueName("missing");
  const e = await connect(parseEndpoint(`@${name}`)).then(() => undefined, (e) => e);
  assert.ok(e instanceof TransportError);
  assert.equal(e.code, "ECONNREFUSED");
  assert.match(e.message, new RegExp(`Cannot connect to @${name}: connect ECONNREFUSED @${name}$`));
});

Deno.test("connect() gives up when its signal aborts", async () => {
  const ac = new AbortController();
  ac.abort();
  const e = await connect(parseEndpoint("@x"), { signal: ac.signal }).then(() => undefined, (e) => e);
  assert.ok(e instanceof TransportError);
  assert.equal(e.code, "ABORTED");
});

Deno.test("Connection.write() rejects after its deadline when the peer never reads", async () => {
  const name = uniqueName("silent");
  const s = await server(`\0${name}`, { silent: true });
  const c = await connect(parseEndpoint(`@${name}`));
  const big = new Uint8Array(64 * 1024 * 1024);
  const t0 = performance.now();
  const e = await c.write(big, 300).then(() => undefined, (e) => e);
  assert.ok(e instanceof TransportError, "write of 64 MiB to a paused peer should time out");
  assert.equal(e.code, "ETIMEDOUT");
  assert.match(e.message, /timed out after 300 ms \(peer not reading\)/);
  assert.ok(performance.now() - t0 < 5000);
  assert.ok(c.closed);
  await s.close();
});

Deno.test("Connection.read() times out with a clear error and returns null at end of stream", async () => {
  const name = uniqueName("read");
  const s = await server(`\0${name}`, { silent: true });
  const c = await connect(parseEndpoint(`@${name}`));
  await assert.rejects(() => c.read(100), /No reply from @.* within 100 ms/);
  while (!s.sockets.length) await sleep(5);
  s.sockets[0].end();
  assert.equal(await c.read(2000), null);
  c.close();
  await s.close();
});

Deno.test("backoffDelay() grows exponentially to the cap and jitter only shortens it", () => {
  const b = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 };
  assert.deepEqual([1, 2, 3, 4, 5, 9].map((n) => backoffDelay(n, b, () => 0)), [
    100,
    200,
    400,
    800,
    1000,
    1000,
  ]);
  assert.equal(backoffDelay(3, b, () => 1), 200);
  assert.equal(backoffDelay(3, b, () => 0.5), 300);
});

Deno.test("rateLimitedWarning() logs once, then once per interval with the suppressed count, then recovery", () => {
  const log = memoryLogger();
  let t = 0;
  const w = rateLimitedWarning(log, 1000, () => t);
  w.warn("AMA not there");
  t = 10;
  w.warn("AMA not there");
  t = 500;
  w.warn("AMA not there");
  t = 1200;
  w.warn("AMA not there");
  w.recovered("AMA is back");
  w.recovered("AMA is back");
  assert.equal(log.lines.length, 3);
  assert.match(log.lines[0], /level=warn msg="AMA not there"$/);
  assert.match(log.lines[1], /suppressed=2/);
  assert.match(log.lines[2], /level=info msg="AMA is back"/);
});

Deno.test("createLink() fails while the endpoint is missing, logging one warning, then connects", async () => {
  const name = uniqueName("late");
  const log = memoryLogger();
  const link = createLink({
    endpoint: parseEndpoint(`@${name}`),
    log,
    backoff: { initialMs: 20, maxMs: 40, factor: 2, jitter: 0.5 },
  });
  for (let i = 0; i < 3; i++) await assert.rejects(() => link.get(), TransportError);
  assert.equal(link.failures, 3);
  const s = await server(`\0${name}`);
  const c = await link.get();
  assert.equal(link.failures, 0);
  assert.equal(await link.get(), c, "an open connection is reused");
  const warns = log.lines.filter((l) => l.includes("level=warn"));
  assert.equal(warns.length, 1, log.lines.join("\n"));
  assert.match(warns[0], new RegExp(`AMA not there: Cannot connect to @${name}`));
  assert.ok(log.lines.some((l) => /level=info msg="AMA is there again/.test(l)));
  link.fail(new Error("boom"));
  assert.ok(c.closed);
  const c2 = await link.get();
  assert.notEqual(c2, c);
  link.close();
  await s.close();
});

Deno.test("createLink().get() stops waiting out the backoff when its signal aborts", async () => {
  const link = createLink({
    endpoint: parseEndpoint(`@${uniqueName("never")}`),
    log: memoryLogger(),
    backoff: { initialMs: 10_000, maxMs: 10_000, factor: 1, jitter: 0 },
  });
  await assert.rejects(() => link.get(), /Cannot connect/);
  const ac = new AbortController();
  const p = link.get(ac.signal).then(() => undefined, (e) => e);
  await sleep(50);
  ac.abort();
  const e = await p;
  assert.ok(e instanceof TransportError);
  assert.equal(e.code, "ABORTED");
  link.close();
});

Deno.test({
  name: "connect() to a named pipe off Windows fails at once, saying so",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const e = await connect(parseEndpoint("\\\\.\\pipe\\x")).then(() => undefined, (e) => e);
    assert.ok(e instanceof TransportError);
    assert.equal(e.code, "ENOTSUP");
    assert.match(e.message, /named pipes exist only on Windows/);
  },
});

Deno.test("Connection.finish(): resolves once the peer read everything and closed; rejects when it does not read", async () => {
  // A peer that reads to the end and closes (as AMA and fluentd do at end of stream).
  const reading = uniqueName("reading");
  const got: number[] = [];
  const r = listenUnix(`\0${reading}`, (s) => s.on("data", (d: Uint8Array) => got.push(d.byteLength)));
  const c = await connect(parseEndpoint(`@${reading}`));
  await c.write(new Uint8Array(300_000));
  await c.finish(5000);
  assert.equal(got.reduce((a, b) => a + b, 0), 300_000, "everything read before it closed");
  assert.equal(c.written, 300_000);
  assert.ok(c.unreadBound > 0 && c.unreadBound < Infinity, `a unix socket's bound: ${c.unreadBound}`);
  await r.close();

  // A peer that never reads: no close comes; after the deadline the connection is gone.
  const name = uniqueName("stalled");
  const s = await server(`\0${name}`, { silent: true });
  const d = await connect(parseEndpoint(`@${name}`));
  await d.write(new Uint8Array(1000));
  const e = await d.finish(300).then(() => undefined, (e) => e);
  assert.ok(e instanceof TransportError);
  assert.match(e.message, /did not close its end within 300 ms of ours.*\(peer not reading\)/);
  assert.ok(d.closed);
  await s.close();

  // A peer that closes without reading what it was sent: the kernel says so (ECONNRESET), no confirmation.
  const rude = uniqueName("rude");
  const q = await server(`\0${rude}`, { silent: true });
  const f = await connect(parseEndpoint(`@${rude}`));
  await f.write(new Uint8Array(1000));
  const closing = f.finish(5000).then(() => undefined, (e) => e);
  while (!q.sockets.length) await new Promise((res) => setTimeout(res, 10));
  q.sockets[0].destroy();
  const err = await closing;
  assert.ok(err instanceof TransportError, "no confirmation without the peer's clean close");
  assert.match(err.message, /ECONNRESET|reset/i);
  await q.close();
});
