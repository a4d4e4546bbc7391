// A byte sink in its own thread for the bench: reads a unix socket and discards, to time the sender alone.
import net from "node:net";

const self = globalThis as unknown as Worker & { close(): void };
self.onmessage = (e: MessageEvent<{ path: string }>) => {
  const srv = net.createServer((s) => s.resume());
  srv.listen(e.data.path, () => self.postMessage({ ready: true }));
};
