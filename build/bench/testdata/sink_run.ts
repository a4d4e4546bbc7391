// Test child: starts the bench's byte sink on a unix socket, sends it 300 kB over each of three connections.
import { connectUnix } from "../../../agent/ama/unix_socket.ts";

const [path] = Deno.args;
const sink = new Worker(new URL("../sink_worker.ts", import.meta.url), { type: "module" });
const ready = new Promise((r) => sink.onmessage = r);
sink.postMessage({ path });
await ready;
for (let i = 0; i < 3; i++) {
  const s = await connectUnix(path);
  await new Promise<void>((resolve, reject) =>
    s.write(new Uint8Array(300_000), (e) => e ? reject(e) : resolve())
  );
  s.resume();
  s.end();
  await new Promise((r) => s.on("close", r));
}
sink.terminate();
console.log("done");
