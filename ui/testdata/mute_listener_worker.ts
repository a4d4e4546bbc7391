// A listener worker that never serves, for ui/listener_test.ts: it takes every message and answers none, as one
// stuck before its socket is bound would.
// deno-lint-ignore no-explicit-any
(globalThis as any).onmessage = () => {};
