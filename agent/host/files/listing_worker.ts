// A walk's read-ahead thread (read_ahead.ts starts it): reads the walk's tree ahead of it, into the shared ring, as
// tree_reader.ts says.
import { readAhead, type ReadAheadInit } from "./tree_reader.ts";
import { CONTROL_WORDS, DONE, FAILED, ListingWriter, STARTED, STATE, STOP, USED } from "./listing_ring.ts";

export type { ReadAheadInit };

// deno-lint-ignore no-explicit-any
const self_ = globalThis as any;
self_.onmessage = (e: MessageEvent<ReadAheadInit>) => {
  const init = e.data;
  const control = new Int32Array(init.control, 0, CONTROL_WORDS);
  let state = DONE;
  // Began, then asked whether to stop: a walk that stops before it sees this waits for no fd to be closed.
  Atomics.store(control, STARTED, 1);
  try {
    if (Atomics.load(control, STOP) === 0) {
      readAhead(init, new ListingWriter(control, new Uint8Array(init.ring)));
    }
  } catch {
    state = FAILED;
  } finally {
    Atomics.store(control, STATE, state);
    Atomics.notify(control, STATE);
    Atomics.notify(control, USED);
    self_.close();
  }
};
