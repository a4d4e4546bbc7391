// Each unix socket descriptor is closed once (strace as the witness): connections to AMA, and the test servers'.
import assert from "node:assert/strict";
import { join } from "node:path";
import { withTempDir } from "../../test/helpers.ts";
import { connectUnix, listenUnix } from "./unix_socket.ts";
import { straceTest, traceDescriptors } from "../../test/strace.ts";

const linux = Deno.build.os === "linux";

straceTest(
  "a connection to AMA over a unix socket (abstract and path) closes its descriptor once, and so does the listener",
  async () => {
    await withTempDir(async (dir) => {
      const transport = new URL("./transport.ts", import.meta.url).href;
      const sockets = new URL("./unix_socket.ts", import.meta.url).href;
      // Connected, written, half-closed and answered, refused, dropped: every way a connection of the agent ends.
      await Deno.writeTextFile(
        join(dir, "run.ts"),
        `import { connect, parseEndpoint } from ${JSON.stringify(transport)};
import { listenUnix } from ${JSON.stringify(sockets)};
for (const at of ["@ctagent-close-once-${crypto.randomUUID()}", ${JSON.stringify(join(dir, "s.sock"))}]) {
  const ep = parseEndpoint(at);
  const server = listenUnix(ep.address, (s) => { s.on("data", () => {}); s.on("end", () => s.end("bye")); s.on("error", () => {}); });
  for (let i = 0; i < 3; i++) {
    const c = await connect(ep);
    await c.write(new TextEncoder().encode("hello"));
    await c.finish(5000);
    c.close();
  }
  (await connect(ep)).close();
  await server.close();
  await connect(ep).then(() => { throw new Error("connected to nobody"); }, () => {});
}
console.log("done");
`,
      );
      const r = await traceDescriptors(join(dir, "run.ts"), [], dir);
      assert.ok(r.stdout.includes("done"), r.stdout);
      // A second close of a number: by then it may be another thread's descriptor (test modules share a process).
      assert.deepEqual(r.failedCloses, [], `descriptors closed twice:\n${r.failedCloses.join("\n")}`);
    });
  },
);

Deno.test({
  name: "connectUnix() names the refused or missing socket as node:net does, with its code",
  ignore: !linux,
  async fn() {
    await withTempDir(async (dir) => {
      const path = join(dir, "none.sock");
      const e = await connectUnix(path).then(() => undefined, (e) => e);
      assert.equal(e?.code, "ENOENT");
      assert.equal(e?.message, `connect ENOENT ${path}`);
      const name = `\0ctagent-nobody-${crypto.randomUUID()}`;
      const r = await connectUnix(name).then(() => undefined, (e) => e);
      assert.equal(r?.code, "ECONNREFUSED");
    });
  },
});

Deno.test({
  name: "listenUnix() and connectUnix(): bytes both ways, half-close, the peer's end ends the other side",
  ignore: !linux,
  async fn() {
    const name = `\0ctagent-unix-${crypto.randomUUID()}`;
    const got: string[] = [];
    const server = listenUnix(name, (s) => {
      let text = "";
      s.on("data", (d: Uint8Array) => text += new TextDecoder().decode(d));
      s.on("end", () => {
        got.push(text);
        s.end(`echo ${text}`);
      });
    });
    try {
      const c = await connectUnix(name);
      const reply = new Promise<string>((resolve) => {
        let text = "";
        c.on("data", (d: Uint8Array) => text += new TextDecoder().decode(d));
        c.on("close", () => resolve(text));
      });
      c.write("a".repeat(300_000));
      c.end();
      assert.equal(await reply, `echo ${"a".repeat(300_000)}`);
      assert.deepEqual(got.map((t) => t.length), [300_000]);
    } finally {
      await server.close();
    }
  },
});
