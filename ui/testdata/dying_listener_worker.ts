// The page's listener worker, made to die for ui/listener_test.ts and page_channel_test.ts: a request to /__die answers,
// then throws an uncaught error in the worker (as a bug or a failed allocation would). Every other request is
// the real one's.
// The real one is imported statically: a worker's messages that arrive while its module still awaits (a dynamic
// import, type-checked seconds long under `deno test` on a busy machine) before it set `onmessage` are lost, and
// the listener's "init" with them. Deno.serve is looked up when "init" comes, after this module's body ran.
import "../listener_worker.ts";

const serve = Deno.serve;
(Deno as { serve: unknown }).serve = (opts: Deno.ServeTcpOptions, handler: Deno.ServeHandler<Deno.NetAddr>) =>
  serve(opts, (req, info) => {
    if (new URL(req.url).pathname !== "/__die") return handler(req, info);
    setTimeout(() => {
      throw new Error("the listener died on request");
    });
    return new Response("dying");
  });
