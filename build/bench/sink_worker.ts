// A byte sink in its own thread for the bench: reads a unix socket and discards, to time the sender alone.
// Deno's own unix sockets (agent/ama/unix_socket.ts), not node:net's, which close each descriptor twice.
import { listenUnix } from "../../agent/ama/unix_socket.ts";

const self = globalThis as unknown as Worker & { close(): void };
self.onmessage = (e: MessageEvent<{ path: string }>) => {
  listenUnix(e.data.path, (s) => {
    s.on("error", () => {}); // a sender that goes away is no error of the sink's
    s.resume();
  });
  self.postMessage({ ready: true });
};
