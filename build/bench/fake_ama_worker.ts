// The fake AMA in its own thread for the bench (AMA is another process; its decoding must not share our thread).
import { startFakeAma } from "../../test/fake_ama.ts";

type Msg = { endpoint: string; expect: number[] };
const self = globalThis as unknown as Worker & { close(): void };

self.onmessage = async (e: MessageEvent<Msg>) => {
  const ama = await startFakeAma({ config: false, data: [e.data.endpoint], validate: false });
  self.postMessage({ ready: true });
  // One "done" per expected total, so the bench can time several rounds against one receiver.
  for (const n of e.data.expect) {
    await ama.waitFor(n, 300_000);
    self.postMessage({ received: ama.received.length, errors: ama.errors });
  }
  await ama.close();
  self.close();
};
