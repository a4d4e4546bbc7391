// Opening the database while another process writes: every open waits its turn (the short form of the reliability test).
import assert from "node:assert/strict";
import { withTempDir } from "./helpers.ts";
import { concurrentReaders } from "./reliability/readers.ts";

Deno.test("4 processes open the database in a loop for 10 s while baselines and rescans write: 0 failures", () =>
  withTempDir(async (dir) => {
    const r = await concurrentReaders(dir, { seconds: 10, rounds: 2, packages: 20_000 });
    const opens = r.readers.reduce((a, x) => a + x.opens, 0);
    assert.deepEqual(r.readers.flatMap((x) => x.errors), [], JSON.stringify(r.readers));
    assert.deepEqual(r.writeFailures, []);
    assert.ok(opens > 100, `only ${opens} opens`);
  }));
