// Test worker: the real hash worker as the pool sees it when the worker's error overtakes its "ready" (Deno
// delivers a worker's errors and messages on separate channels): it takes batches (and closes their
// descriptors), but neither its "ready" nor its results arrive, and it fails after its first batch or 500 ms.
// Its imports are static, in this order (silent_post.ts first): a worker's messages that arrive while its module
// still awaits, before it set `onmessage`, are lost (Deno), and with them a batch whose descriptors then leak.
import "./silent_post.ts";
import "../hash_worker.ts";

// deno-lint-ignore no-explicit-any
const self_ = globalThis as any;
const real = self_.onmessage;
const fail = () => {
  throw new Error("hash worker failed before the pool saw it ready");
};
setTimeout(fail, 500);
self_.onmessage = (e: MessageEvent) => {
  real(e);
  if (!("stop" in e.data)) setTimeout(fail, 0);
};
