// Kill -9 during runs: the database opens, no partial run is visible, the next run's changes are exact.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { openDb } from "../db/open.ts";
import { dpkgFixture, runCli, withTempDir } from "./helpers.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const N = 8_000;

function statusFile(version: (i: number) => string, count = N): string {
  let s = "";
  for (let i = 0; i < count; i++) {
    s += `Package: pkg${i}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${
      version(i)
    }\nDescription: p\n\n`;
  }
  return s;
}

/** Starts `ctagent --once` as a child process and SIGKILLs it after `ms`. Resolves with its exit signal. */
function killAfter(args: string[], ms: number): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn(Deno.execPath(), ["run", "-A", MAIN, ...args], { stdio: "ignore" });
    const t = setTimeout(() => child.kill("SIGKILL"), ms);
    child.on("exit", (_code, signal) => {
      clearTimeout(t);
      resolve(signal);
    });
  });
}

Deno.test("kill -9 in the middle of runs leaves no partial run and the next run's changes are exactly right", () =>
  withTempDir(async (dir) => {
    const { status, args } = await dpkgFixture(dir);

    await Deno.writeTextFile(status, statusFile(() => "1"));
    assert.equal((await runCli(args)).code, 0); // baseline of N packages

    // Every even package moves to version 2; runs are killed at several points of their life.
    await Deno.writeTextFile(status, statusFile((i) => (i % 2 ? "1" : "2")));
    let killed = 0;
    for (const ms of [300, 700, 1000, 1300, 1600, 2000]) {
      if ((await killAfter(args, ms)) === "SIGKILL") killed++;
      const { db, raw, close } = await openDb(`${dir}/data/ctagent.db`);
      assert.equal(
        (raw.prepare("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check,
        "ok",
      );
      const runs = await db.selectFrom("runs").selectAll().orderBy("id").execute();
      const items = await db.selectFrom("items").select("data").execute();
      const v2 = items.filter((r) => JSON.parse(r.data).CurrentVersion === "2").length;
      const changes = await db.selectFrom("changes").select("id").execute();
      // Either a killed run committed all of its result, or none of it: no run row without its changes.
      const later = runs.slice(1).map((r) => [r.status, JSON.parse(r.counts).modified]);
      if (runs.length === 1) assert.deepEqual([v2, changes.length], [0, 0]);
      else {
        assert.deepEqual([v2, changes.length], [N / 2, N / 2]);
        assert.deepEqual(later, [["ok", N / 2], ...later.slice(1).map(() => ["ok", 0])]);
      }
      assert.equal(items.length, N);
      await close();
    }
    assert.ok(killed >= 1, "no run was killed: the machine is faster than the test assumes");

    // Whatever the kills left, the next runs report exactly what is left to report.
    const { db, close } = await openDb(`${dir}/data/ctagent.db`);
    const committed = (await db.selectFrom("runs").select("id").execute()).length > 1;
    await close();
    const r = await runCli(args);
    const got = JSON.parse(r.out).changes;
    assert.equal(got.length, committed ? 0 : N / 2);
    if (!committed) {
      assert.ok(
        got.every((c: Record<string, string>) => c.ChangeCategory === "Modified" && c.Current === "2"),
      );
    }
    await Deno.writeTextFile(status, statusFile(() => "1", N - 1));
    const r2 = JSON.parse((await runCli(args)).out).changes;
    assert.equal(r2.length, N / 2 + 1); // the evens back to 1, and the last (odd) package Removed
    assert.equal(r2.filter((c: Record<string, string>) => c.ChangeCategory === "Removed").length, 1);
  }));
