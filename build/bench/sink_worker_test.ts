// The bench's byte sink closes each unix socket descriptor once (strace as the witness).
import assert from "node:assert/strict";
import { straceTest, traceDescriptors } from "../../test/strace.ts";
import { withTempDir } from "../../test/helpers.ts";

straceTest(
  "the bench's byte sink closes each accepted connection and its listener once",
  () =>
    withTempDir(async (dir) => {
      const script = new URL("./testdata/sink_run.ts", import.meta.url).pathname;
      const r = await traceDescriptors(script, [`${dir}/sink.sock`], dir);
      assert.equal(r.stdout.trim(), "done");
      // A second close of a number: by then it may be another thread's descriptor (the bench's SQLite's).
      assert.deepEqual(r.failedCloses, [], "closes that failed: a number closed twice");
    }),
);
