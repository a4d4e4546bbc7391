import assert from "node:assert/strict";
import { openDb } from "../db/open.ts";
import { builtInConfig } from "./config/load.ts";
import { memoryLogger } from "./log.ts";
import type { RunSummary } from "./pipeline/run.ts";
import { askDaemon, DaemonNotAnswering, serveRunRequests } from "./run_requests.ts";
import { ChangeSpill } from "../db/change_spill.ts";
import { existsSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const summary = (collector: string): RunSummary => ({
  runId: 7,
  collector,
  status: "ok",
  startedAt: 1,
  finishedAt: 2,
  counts: { items: 1, added: 1, removed: 0, modified: 0, errors: 0, records: 2 },
  warnings: [],
  changes: [{ ChangeCategory: "Added", SoftwareName: "a" }],
  itemsWritten: 1,
});

/** askDaemon() from a connection of its own to the database in `dir`, as another `--once` process asks. */
async function askFrom(dir: string, opts: Partial<Parameters<typeof askDaemon>[0]> = {}) {
  const o = await openDb(`${dir}/ctagent.db`);
  try {
    return await askDaemon({ db: o.db, log: memoryLogger(), daemonGone: () => false, pollMs: 20, ...opts });
  } finally {
    await o.close();
  }
}

Deno.test("askDaemon() gets the daemon's run result through the database, once per request", async () => {
  const dir = await Deno.makeTempDir();
  const daemonDb = await openDb(`${dir}/ctagent.db`);
  const onceDb = await openDb(`${dir}/ctagent.db`);
  let runs = 0;
  const stop = serveRunRequests({
    db: daemonDb.db,
    log: memoryLogger(),
    intervalMs: 20,
    agent: {
      runNow: () => Promise.resolve([summary(`software${++runs}`)]),
      skipped: () => [{ collector: "files", reason: "disabled by the DCR" }],
      config: () => builtInConfig("linux"),
    },
  });
  try {
    for (const expected of ["software1", "software2"]) {
      const r = await askDaemon({ db: onceDb.db, log: memoryLogger(), daemonGone: () => false, pollMs: 20 });
      assert.deepEqual(r?.summaries.map((s) => [s.collector, s.changes.length]), [[expected, 1]]);
      assert.deepEqual(r?.skipped, [{ collector: "files", reason: "disabled by the DCR" }]);
      assert.equal(r?.config.source, "default");
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(runs, 2, "a request is run once");
    // Two --once asking at the same moment: neither request is lost, both get an answer.
    const both = await Promise.all([1, 2].map(() => askFrom(dir, { takeMs: 5000 })));
    assert.ok(both.every((r) => r?.summaries.length === 1), JSON.stringify(both));
    const left = onceDb.raw.prepare("SELECT key FROM state WHERE key LIKE 'run.%'").all();
    assert.deepEqual(left, [], "no request or result is left behind");
  } finally {
    await stop();
    await daemonDb.close();
    await onceDb.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("askDaemon() ends when the daemon goes away, and says so when it does not take the request", async () => {
  const o = await openDb(":memory:");
  const gone = await askDaemon({ db: o.db, log: memoryLogger(), daemonGone: () => true, pollMs: 5 });
  assert.equal(gone, undefined);
  await assert.rejects(
    () => askDaemon({ db: o.db, log: memoryLogger(), daemonGone: () => false, pollMs: 5, takeMs: 50 }),
    (e) => e instanceof DaemonNotAnswering && /did not take the request within 0.05 s/.test(e.message),
  );
  await o.close();
});

Deno.test("askDaemon() tells the daemon how many change records it prints: the runs keep the most any asker wants", async () => {
  const dir = await Deno.makeTempDir();
  const daemonDb = await openDb(`${dir}/ctagent.db`);
  const asked: number[] = [];
  const stop = serveRunRequests({
    db: daemonDb.db,
    log: memoryLogger(),
    intervalMs: 20,
    agent: {
      runNow: (
        keepChanges?: number,
      ) => (asked.push(keepChanges ?? -1), Promise.resolve([summary("software")])),
      skipped: () => [],
      config: () => builtInConfig("linux"),
    },
  });
  const ask = (keepChanges?: number) => askFrom(dir, { keepChanges });
  try {
    await ask(200);
    await ask();
    assert.deepEqual(asked, [200, Infinity]);
    // Asked together, by a text --once and a --json one: one pass that keeps them all.
    asked.length = 0;
    await Promise.all([ask(200), ask(Infinity)]);
    assert.ok(asked.length >= 1 && asked.includes(Infinity), JSON.stringify(asked));
  } finally {
    await stop();
    await daemonDb.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serveRunRequests() gives each --json asker a spill file of its own with every record; a text asker none", async () => {
  const dir = await Deno.makeTempDir();
  const daemonDb = await openDb(`${dir}/ctagent.db`);
  // Left by a --once killed an hour ago: removed when the daemon starts serving.
  const stale = join(dir, "once-changes-stale.db");
  writeFileSync(stale, "x");
  utimesSync(stale, new Date(Date.now() - 7_200_000), new Date(Date.now() - 7_200_000));
  const asked: (number | undefined)[] = [];
  const stop = serveRunRequests({
    db: daemonDb.db,
    log: memoryLogger(),
    intervalMs: 20,
    dataDir: dir,
    agent: {
      runNow: (keepChanges?: number, spill?: ChangeSpill) => {
        asked.push(keepChanges);
        const s = { ...summary("software"), changes: [], spillRun: spill ? "software.1" : undefined };
        for (const name of ["b", "a", "c"]) spill?.add("software.1", name, { SoftwareName: name });
        return Promise.resolve([s]);
      },
      skipped: () => [],
      config: () => builtInConfig("linux"),
    },
  });
  try {
    const [json1, json2, text] = await Promise.all([
      askFrom(dir),
      askFrom(dir),
      askFrom(dir, { keepChanges: 200 }),
    ]);
    assert.equal(existsSync(stale), false);
    // One pass for the three (or more, as they came): none keeps records in memory beyond the text's 200.
    assert.ok(asked.every((k) => k === 200 || k === 0), JSON.stringify(asked));
    assert.equal(text?.spill, undefined);
    const files = [json1?.spill, json2?.spill];
    assert.ok(files.every((f) => f !== undefined) && files[0] !== files[1], JSON.stringify(files));
    for (const f of files) {
      const spill = ChangeSpill.open(join(dir, f!));
      try {
        assert.deepEqual([...spill.pages("software.1")].flat().map((t) => JSON.parse(t).SoftwareName), [
          "a",
          "b",
          "c",
        ]);
      } finally {
        spill.remove();
      }
    }
  } finally {
    await stop();
    await daemonDb.close();
    await Deno.remove(dir, { recursive: true });
  }
});
