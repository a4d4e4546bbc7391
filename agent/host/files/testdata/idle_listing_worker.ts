// Test helper: a read-ahead thread that never reads ahead (it takes its start and does nothing), as one would
// that cannot keep up at all: the walk must go on alone.
// deno-lint-ignore no-explicit-any
(globalThis as any).onmessage = () => {};
