// `ctagent verify` and `ctagent export` on a database written by real `--once` runs, before and after tampering.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { dpkgFixture, runCli, withTempDir } from "./helpers.ts";
import { type ChainedChange, changeCanonical, GENESIS, linkHash } from "../db/chain.ts";

const pkg = (name: string, version: string) =>
  `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${version}\n\n`;

/** A data directory with history: a baseline, then a run that adds, removes and modifies packages. */
async function history(dir: string): Promise<{ data: string; db: string }> {
  const f = await dpkgFixture(dir);
  await Deno.writeTextFile(f.status, pkg("a", "1") + pkg("b", "1") + pkg("c", "1"));
  assert.equal((await runCli(f.args)).code, 0);
  await Deno.writeTextFile(f.status, pkg("a", "2") + pkg("c", "1") + pkg("d", "1") + pkg("e", "1"));
  const second = await runCli(f.args);
  assert.equal(second.code, 1 | 2 | 4, second.err);
  return { data: `${dir}/data`, db: `${dir}/data/ctagent.db` };
}

function sql(db: string, text: string): void {
  const raw = new DatabaseSync(db);
  try {
    raw.exec(text);
  } finally {
    raw.close();
  }
}

Deno.test("ctagent verify: ok on an intact history (exit 0), names the change row after an UPDATE (exit 21), status shows both", () =>
  withTempDir(async (dir) => {
    const { data, db } = await history(dir);
    const ok = await runCli(["verify", "--data-dir", data]);
    assert.equal(ok.code, 0, ok.out + ok.err);
    assert.match(ok.out, /History chain: ok, 4 links from seq 1 to seq 4/);
    assert.match(
      (await runCli(["status", "--data-dir", data])).out,
      /History chain: ok, 4 links checked at /,
    );
    sql(db, "UPDATE changes SET current = replace(current, '\"2\"', '\"1\"') WHERE id = 1");
    const bad = await runCli(["verify", "--data-dir", data, "--json"]);
    assert.equal(bad.code, 21, bad.out + bad.err);
    const report = JSON.parse(bad.out);
    assert.deepEqual([report.broken.kind, report.broken.table, report.broken.id], [
      "content changed",
      "changes",
      1,
    ]);
    assert.match(
      (await runCli(["status", "--data-dir", data])).out,
      /History chain: BROKEN: change 1 \(seq 1\)/,
    );
    sql(db, "DELETE FROM changes WHERE id = 2");
    assert.match(
      (await runCli(["verify", "--data-dir", data])).out,
      /BROKEN: change 1 \(seq 1\): content changed/,
    );
  }));

Deno.test("ctagent export writes a file verify --file checks offline; a byte edited fails it; a rewritten database differs from it", () =>
  withTempDir(async (dir) => {
    const { data, db } = await history(dir);
    const file = `${dir}/history.jsonl`;
    const exp = await runCli(["export", "--data-dir", data, "--out", file]);
    assert.equal(exp.code, 0, exp.err);
    assert.equal(
      (await Deno.stat(file)).mode! & 0o777,
      0o600,
      "the export holds what the database holds: private",
    );
    const alone = await runCli(["verify", "--file", file]);
    assert.equal(alone.code, 0, alone.out + alone.err);
    assert.match(alone.out, /ok, 4 links \(seq 1 to 4\) exported from/);
    const bytes = await Deno.readFile(file);
    bytes[Math.floor(bytes.length / 2)] ^= 1;
    await Deno.writeFile(`${dir}/edited.jsonl`, bytes);
    const edited = await runCli(["verify", "--file", `${dir}/edited.jsonl`]);
    assert.equal(edited.code, 21);
    assert.match(edited.out, /BROKEN at line \d+/);

    // Someone with root rewrites a change and every hash after it, and the head: the database alone agrees...
    const raw = new DatabaseSync(db);
    raw.exec("UPDATE changes SET key = 'nothing-here' WHERE id = 2");
    let prev = GENESIS;
    for (const r of raw.prepare("SELECT * FROM changes ORDER BY seq").all() as unknown as ChainedChange[]) {
      prev = linkHash(prev, changeCanonical(r));
      raw.prepare("UPDATE changes SET hash = ? WHERE id = ?").run(prev, r.id);
    }
    raw.prepare("UPDATE state SET value = ? WHERE key = 'chain.head'").run(
      JSON.stringify({ seq: 4, hash: prev }),
    );
    raw.close();
    assert.equal((await runCli(["verify", "--data-dir", data])).code, 0, "a consistent rewrite verifies");
    // ... but not with the export kept elsewhere.
    const against = await runCli(["verify", "--file", file, "--data-dir", data]);
    assert.equal(against.code, 21, against.out);
    assert.match(
      against.out,
      /the database's link at seq 4 differs from the file's: its history was rewritten/,
    );
  }));

Deno.test("ctagent export --since keeps the later links, and a bad --since is a usage error", () =>
  withTempDir(async (dir) => {
    const { data } = await history(dir);
    const out = await runCli(["export", "--data-dir", data, "--since", "1d"]);
    assert.equal(out.code, 0, out.err);
    const lines = out.out.trim().split("\n");
    assert.equal(lines.length, 6, "header, 4 rows, trailer");
    const future = await runCli(["export", "--data-dir", data, "--since", "2999-01-01"]);
    assert.equal(future.out.trim().split("\n").length, 2, "header and trailer only");
    assert.equal(JSON.parse(future.out.split("\n")[0]).from.seq, 4);
    const bad = await runCli(["export", "--data-dir", data, "--since", "yesterday"]);
    assert.equal(bad.code, 16);
    assert.match(bad.err, /--since: expected ISO 8601/);
  }));

Deno.test("the daemon verifies the chain when it starts: a broken one is logged and shown by status", () =>
  withTempDir(async (dir) => {
    const { data, db } = await history(dir);
    sql(db, "DELETE FROM changes WHERE id = 2");
    const daemon = await runCli([
      "--data-dir",
      data,
      "--root",
      `${dir}/root`,
      "--dcr",
      `${dir}/dcr.json`,
      "--no-ui",
    ], {
      untilStopped: async () => {
        for (let i = 0; i < 100; i++) {
          const raw = new DatabaseSync(db, { readOnly: true });
          const done = raw.prepare("SELECT 1 FROM state WHERE key = 'chain.verified'").get();
          raw.close();
          if (done) return;
          await new Promise((r) => setTimeout(r, 50));
        }
      },
    });
    assert.equal(daemon.code, 0, daemon.err);
    assert.match(daemon.err, /the history's hash chain is broken.*1 row missing at seq 2, before change 3/);
    assert.match(
      (await runCli(["status", "--data-dir", data])).out,
      /History chain: BROKEN: 1 row missing at seq 2/,
    );
  }));
