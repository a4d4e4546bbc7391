// Imported first by unready_hash_worker.ts: whatever the modules after it post to the pool is dropped.
// deno-lint-ignore no-explicit-any
(globalThis as any).postMessage = () => {};
