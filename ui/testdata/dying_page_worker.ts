// A page worker for ui/worker_page_test.ts that speaks page_worker.ts's messages without a database: it answers
// each request with its own id, and a request to /__die throws an uncaught error in the worker (as a bug or a
// failed allocation would) before it answers. Its messages are typed here, not imported from page_worker.ts, whose
// types reach the whole page: a worker is type-checked when it starts, and this one must start in seconds beside
// the parallel suite. page_channel_test.ts holds them to page_worker.ts's.
import { listenerChannel } from "../page_channel.ts";

/** What the fake reads of the messages it is sent (page_worker.ts's ToWorker). */
export type FakeIn =
  | { type: "init" | "live" | "scanned" | "acked" | "stop" }
  | { type: "request"; id: number; request: { url: string; body: ReadableStream<Uint8Array> | null } };

/** What it sends (each one of page_worker.ts's FromWorker). */
export type FakeOut =
  | { type: "ready" | "stopped" }
  | {
    type: "response";
    id: number;
    response: { status: number; statusText: string; headers: [string, string][]; body: null };
  };

const me = crypto.randomUUID();
const send = listenerChannel<FakeIn, FakeOut>((m) => {
  if (m.type === "init") send({ type: "ready" });
  else if (m.type === "stop") send({ type: "stopped" });
  else if (m.type === "request") {
    m.request.body?.cancel();
    if (new URL(m.request.url).pathname === "/__die") {
      setTimeout(() => {
        throw new Error("the page's worker died on request");
      });
      return;
    }
    const response = {
      status: 200,
      statusText: "OK",
      headers: [["x-worker", me]] as [string, string][],
      body: null,
    };
    send({ type: "response", id: m.id, response });
  }
});
