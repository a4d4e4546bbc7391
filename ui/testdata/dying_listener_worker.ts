// The page's listener worker, made to die for ui/listener_test.ts: a request to /__die answers, then throws an
// uncaught error in the worker (as a bug or a failed allocation would). Every other request is the real one's.
const serve = Deno.serve;
(Deno as { serve: unknown }).serve = (opts: Deno.ServeTcpOptions, handler: Deno.ServeHandler<Deno.NetAddr>) =>
  serve(opts, (req, info) => {
    if (new URL(req.url).pathname !== "/__die") return handler(req, info);
    setTimeout(() => {
      throw new Error("the listener died on request");
    });
    return new Response("dying");
  });
await import("../listener_worker.ts");
