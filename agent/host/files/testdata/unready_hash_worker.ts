// Test worker: the real hash worker as the pool sees it when the worker's error overtakes its "ready" (Deno
// delivers a worker's errors and messages on separate channels): it takes batches (and closes their
// descriptors), but neither its "ready" nor its results arrive, and it fails after its first batch or 500 ms.
// deno-lint-ignore no-explicit-any
const self_ = globalThis as any;
self_.postMessage = () => {};
await import("../hash_worker.ts");
const real = self_.onmessage;
const fail = () => {
  throw new Error("hash worker failed before the pool saw it ready");
};
setTimeout(fail, 500);
self_.onmessage = (e: MessageEvent) => {
  real(e);
  if (!("stop" in e.data)) setTimeout(fail, 0);
};
