// Reliability: 4 processes open the database in a loop for 60 s while 100k-package baselines and rescans write.
import assert from "node:assert/strict";
import { withTempDir } from "../helpers.ts";
import { concurrentReaders } from "./readers.ts";

Deno.test("reliability: 4 readers open the database for 60 s during 100k-package baselines and rescans: 0 failures", () =>
  withTempDir(async (dir) => {
    const r = await concurrentReaders(dir, { seconds: 60, rounds: 4, packages: 100_000 });
    const opens = r.readers.reduce((a, x) => a + x.opens, 0);
    console.log(
      `readers: ${opens} opens (${r.readers.map((x) => `${x.kind} ${x.opens}`).join(", ")}), ` +
        `${
          r.readers.reduce((a, x) => a + x.failures, 0)
        } failed; ${r.writes} writer runs, ${r.writeFailures.length} failed`,
    );
    assert.deepEqual(r.readers.flatMap((x) => x.errors), [], JSON.stringify(r.readers));
    assert.deepEqual(r.writeFailures, []);
  }));
