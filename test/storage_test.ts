// Storage surprises: a foreign, newer, damaged or read-only database, or one deleted under the daemon: clear words, exit 19, nothing lost.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { dpkgFixture, runCli, withTempDir } from "./helpers.ts";
import { stanza } from "./e2e_helpers.ts";
import { tmpfsSkipReason, withTmpfs } from "./tmpfs.ts";
import { VERSION } from "../agent/version.ts";

const skip = tmpfsSkipReason();
const note = skip ? ` (SKIPPED: ${skip})` : "";
const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** What an operator must see on a refusal: the path, what to do, no stack trace. */
function refused(r: { code: number; err: string }, path: string, what: RegExp): void {
  assert.equal(r.code, 19, r.err);
  assert.ok(r.err.includes(path), `names ${path}: ${r.err}`);
  assert.match(r.err, what);
  assert.doesNotMatch(r.err, /\n\s+at |internal error/, "no stack trace");
}

/** A data directory under `dir` with one stored baseline; the `--once` arguments and the database's path. */
async function baseline(dir: string): Promise<{ args: string[]; path: string }> {
  const { status, args } = await dpkgFixture(dir);
  await Deno.writeTextFile(status, stanza("a", "1"));
  assert.equal((await runCli(args)).code, 0);
  return { args, path: join(dir, "data", "ctagent.db") };
}

const sha = async (path: string) =>
  Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", await Deno.readFile(path))))
    .map((b) => b.toString(16).padStart(2, "0")).join("");

Deno.test("a foreign SQLite database is refused, untouched, and moved aside only with --reset-state", () =>
  withTempDir(async (dir) => {
    const { status, args } = await dpkgFixture(dir);
    await Deno.writeTextFile(status, stanza("a", "1"));
    const path = join(dir, "data", "ctagent.db");
    await Deno.mkdir(join(dir, "data"));
    const foreign = new DatabaseSync(path);
    foreign.exec("CREATE TABLE customers (name TEXT); INSERT INTO customers VALUES ('Ada'), ('Grace')");
    foreign.close();
    const before = await sha(path);

    for (const a of [args, ["status", "--data-dir", join(dir, "data")]]) {
      const r = await runCli(a);
      refused(r, path, /is not a ctagent database \(tables: customers;.*--reset-state/);
    }
    assert.equal(await sha(path), before, "not a byte changed");

    const reset = await runCli([...args, "--reset-state"]);
    assert.equal(reset.code, 0, reset.err);
    const aside = /moved .* aside to (\S+?);/.exec(reset.err)?.[1];
    assert.ok(aside, reset.err);
    assert.equal(await sha(aside), before, "the moved database is the foreign one, whole");
    assert.equal(JSON.parse(reset.out).runs[0].status, "baseline");
  }));

Deno.test("a database of an older ctagent (no application_id yet) is recognised by its tables and marked", () =>
  withTempDir(async (dir) => {
    const { args, path } = await baseline(dir);
    const db = new DatabaseSync(path);
    db.exec("PRAGMA application_id = 0");
    db.close();
    const r = await runCli(args);
    assert.equal(r.code, 0, r.err);
    const again = new DatabaseSync(path);
    assert.notEqual(again.prepare("PRAGMA application_id").get()!.application_id, 0);
    again.close();
  }));

Deno.test("a database written by a newer ctagent says so, with both versions, for --once and status", () =>
  withTempDir(async (dir) => {
    const { args, path } = await baseline(dir);
    const db = new DatabaseSync(path);
    db.exec(`INSERT INTO kysely_migration (name, timestamp) VALUES ('099_future', '2030-01-01T00:00:00Z');
      PRAGMA user_version = 9009009`);
    db.close();
    for (const a of [args, ["status", "--data-dir", join(dir, "data")]]) {
      refused(
        await runCli(a),
        path,
        new RegExp(
          `written by ctagent 9\\.9\\.9 \\(migration 099_future\\), newer than this one \\(${VERSION}\\)`,
        ),
      );
    }
  }));

Deno.test("a dropped table is named, for --once and status, without a stack trace; so is a file that is no database", () =>
  withTempDir(async (dir) => {
    const { args, path } = await baseline(dir);
    const db = new DatabaseSync(path);
    db.exec("DROP TABLE outbox");
    db.close();
    for (const a of [args, ["status", "--data-dir", join(dir, "data")]]) {
      refused(await runCli(a), path, /is damaged: table outbox.* missing: move it aside with --reset-state/);
    }
    await Deno.writeTextFile(path, "this is a text file, not a database\n".repeat(100));
    for (const a of [args, ["status", "--data-dir", join(dir, "data")]]) {
      refused(await runCli(a), path, /is not a SQLite database.*--reset-state/);
    }
  }));

Deno.test({
  name: `a read-only data directory: status still reads it, --once says what to do (exit 19)${note}`,
  ignore: !!skip,
  fn: () =>
    withTempDir((dir) =>
      withTmpfs("16m", async (fs) => {
        const { status, args: base } = await dpkgFixture(dir);
        const args = base.map((a) => a === join(dir, "data") ? fs.dir : a);
        await Deno.writeTextFile(status, stanza("a", "1"));
        assert.equal((await runCli(args)).code, 0);
        fs.remount("ro");
        try {
          const st = await runCli(["status", "--json", "--data-dir", fs.dir]);
          assert.equal(st.code, 0, st.err);
          assert.equal(JSON.parse(st.out).runs[0].status, "baseline");
          refused(await runCli(args), fs.dir, /[Rr]ead-only file system.*make the data directory writable/);
        } finally {
          fs.remount("rw");
        }
      })
    ),
});

Deno.test("the data directory deleted under the daemon: it notices, writes the state back, and the change made meanwhile is reported", () =>
  withTempDir(async (dir) => {
    const { status, root } = await dpkgFixture(dir);
    await Deno.writeTextFile(status, stanza("a", "1") + stanza("b", "1"));
    // After the baseline, no scheduled run before the test is done: what finds the change is the next --once.
    await Deno.writeTextFile(
      join(dir, "dcr.json"),
      JSON.stringify({
        enableSoftware: true,
        enableFiles: false,
        enableServices: false,
        softwareSettings: {
          softwareCollectionFrequency: 3600,
        },
      }),
    );
    const data = join(dir, "data");
    const common = ["--root", root, "--dcr", join(dir, "dcr.json"), "--data-dir", data, "--no-ama"];
    const daemon = new Deno.Command(Deno.execPath(), {
      // Without realtime: the change made while the data directory is gone is for the next run to find.
      args: ["run", "-A", MAIN, "--no-ui", "--no-realtime", ...common],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(daemon.stderr).text();
    const deadline = Date.now() + 20_000;
    while (!(await runCli(["status", "--json", "--data-dir", data])).out.includes('"baseline"')) {
      assert.ok(Date.now() < deadline, "no baseline");
      await new Promise((r) => setTimeout(r, 100));
    }
    await Deno.remove(data, { recursive: true });
    await Deno.writeTextFile(status, stanza("a", "2") + stanza("b", "1"));
    const exited = await Promise.race([daemon.status, new Promise((r) => setTimeout(r, 15_000))]);
    if (!exited) daemon.kill("SIGKILL");
    const log = await stderr;
    assert.equal((exited as Deno.CommandStatus | undefined)?.code, 19, `the daemon did not notice: ${log}`);
    assert.match(log, /was deleted while the daemon ran.*written back/);

    const r = await runCli(["--once", "--json", ...common]);
    assert.equal(r.code, 4, r.err);
    assert.deepEqual(
      JSON.parse(r.out).changes.map((
        c: Record<string, string>,
      ) => [c.ChangeCategory, c.SoftwareName, c.Current]),
      [["Modified", "a", "2"]],
    );
  }));
