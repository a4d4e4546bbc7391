// A page worker for ui/worker_page_test.ts that speaks page_worker.ts's messages without a database: it answers
// each request with its own id, and a request to /__die throws an uncaught error in the worker (as a bug or a
// failed allocation would) before it answers.
import type { FromWorker, ToWorker } from "../page_worker.ts";
import { listenerChannel } from "../page_channel.ts";

const me = crypto.randomUUID();
const send = listenerChannel<ToWorker, FromWorker>((m) => {
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
