// Disk full during a run: the real cause is reported, the failed run is recorded and shown, and the agent recovers.
import assert from "node:assert/strict";
import { join } from "node:path";
import { COLLECTORS } from "../agent/collectors/mod.ts";
import { startAgent } from "../agent/agent.ts";
import { liveHost } from "../agent/host/mod.ts";
import { memoryLogger } from "../agent/log.ts";
import { createApi } from "../ui/api.ts";
import { agentStatus } from "../ui/server.ts";
import { openDb, type OpenedDb } from "../db/open.ts";
import { onlyDcr, runCli, withTempDir } from "./helpers.ts";
import { tmpfsSkipReason, withTmpfs } from "./tmpfs.ts";

const skip = tmpfsSkipReason();
const note = skip ? ` (SKIPPED: ${skip})` : "";

function dpkgStatus(n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) {
    s +=
      `Package: pkg${i}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.${i}\nDescription: p\n\n`;
  }
  return s;
}

/** A machine root with `n` packages and a software-only DCR, under `dir`. */
async function machine(dir: string, n: number): Promise<{ root: string; dcr: string }> {
  const root = join(dir, "root");
  await Deno.mkdir(join(root, "var/lib/dpkg"), { recursive: true });
  await Deno.writeTextFile(join(root, "var/lib/dpkg/status"), dpkgStatus(n));
  await Deno.writeTextFile(join(dir, "dcr.json"), onlyDcr(["software"]));
  return { root, dcr: join(dir, "dcr.json") };
}

/** The daemon's agent (paused: runs only when scanNow asks) on `opened`, and its page's /api/status. */
async function agentWithPage(opened: OpenedDb, root: string, dcr: string, log = memoryLogger()) {
  const agent = await startAgent({
    opened,
    host: liveHost({ root }),
    log,
    collectors: COLLECTORS,
    dcrFile: dcr,
    paused: true,
  });
  const api = createApi({
    collectors: COLLECTORS,
    db: opened.db,
    status: agentStatus(agent, opened.db, { startedAt: Date.now() }),
  });
  const software = async () =>
    (await (await api.request("/status")).json()).collectors.find((c: { name: string }) =>
      c.name === "software"
    );
  return { agent, page: async () => await (await api.request("/status")).json(), software };
}

Deno.test({
  name:
    `--once on a full disk: exit 19 with the real cause, the failed run in status, recovery when space returns${note}`,
  ignore: !!skip,
  fn: () =>
    withTempDir((dir) =>
      withTmpfs("3m", async (fs) => {
        const { root, dcr } = await machine(dir, 20_000);
        const args = ["--once", "--root", root, "--dcr", dcr, "--data-dir", fs.dir];
        const full = await runCli(args);
        assert.equal(full.code, 19, full.err);
        assert.match(full.err, /database or disk is full/);
        assert.ok(full.err.includes(join(fs.dir, "ctagent.db")), `names the database: ${full.err}`);
        assert.match(full.err, /free space/i, "says what to do");
        assert.doesNotMatch(full.err, /cannot rollback|\n\s+at /, "no hidden cause, no stack trace");

        const st = await runCli(["status", "--json", "--data-dir", fs.dir]);
        assert.equal(st.code, 0, st.err);
        const run = JSON.parse(st.out).runs.find((r: { collector: string }) => r.collector === "software");
        assert.equal(run?.status, "failed", st.out);
        assert.match(run.error, /database or disk is full/);
        const text = await runCli(["status", "--data-dir", fs.dir]);
        assert.match(text.out, /software\s+failed.*database or disk is full/);

        fs.resize("64m");
        const again = await runCli(args);
        assert.equal(again.code, 0, again.err);
        const o = await openDb(join(fs.dir, "ctagent.db"));
        assert.equal(
          (o.raw.prepare("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check,
          "ok",
        );
        assert.equal(
          Number((o.raw.prepare("SELECT count(*) AS n FROM items").get() as { n: number }).n),
          20_000,
        );
        await o.close();
      })
    ),
});

Deno.test({
  name:
    `the daemon on a full disk: the failed run on the page and in status, then a baseline once space returns${note}`,
  ignore: !!skip,
  fn: () =>
    withTempDir((dir) =>
      withTmpfs("3m", async (fs) => {
        const { root, dcr } = await machine(dir, 20_000);
        const opened = await openDb(join(fs.dir, "ctagent.db"));
        const log = memoryLogger();
        const { agent, page, software } = await agentWithPage(opened, root, dcr, log);
        try {
          await agent.scheduler.scanNow("software");
          let s = await page();
          assert.equal(s.health.level, "error", JSON.stringify(s.health));
          const sw = await software();
          assert.equal(sw.lastRun.status, "failed");
          assert.match(sw.lastRun.error, /database or disk is full/);
          assert.doesNotMatch(log.lines.join("\n"), /cannot rollback/);

          fs.resize("64m");
          await agent.scheduler.scanNow("software");
          s = await page();
          assert.equal(s.health.level, "ok", JSON.stringify(s.health));
          assert.equal((await software()).lastRun.status, "baseline");
        } finally {
          await agent.stop();
          await opened.close();
        }
      })
    ),
});

Deno.test("the daemon keeps a failed run it cannot record in memory, shows it on the page and stores it when it can", () =>
  withTempDir(async (dir) => {
    const { root, dcr } = await machine(dir, 50);
    const opened = await openDb(join(dir, "data", "ctagent.db"));
    const { agent, software } = await agentWithPage(opened, root, dcr);
    try {
      // Nothing can be written: not the run's result, not even its runs row.
      opened.raw.exec("PRAGMA query_only = ON");
      await agent.scheduler.scanNow("software");
      const shown = await software();
      assert.equal(shown.lastRun?.status, "failed", JSON.stringify(shown));
      assert.match(shown.lastRun.error, /readonly/);
      assert.equal(
        Number((opened.raw.prepare("SELECT count(*) AS n FROM runs").get() as { n: number }).n),
        0,
      );

      opened.raw.exec("PRAGMA query_only = OFF");
      await agent.scheduler.scanNow("software");
      const runs = opened.raw.prepare("SELECT status, error FROM runs ORDER BY id").all() as {
        status: string;
        error: string | null;
      }[];
      assert.deepEqual(runs.map((r) => r.status), ["failed", "baseline"]);
      assert.match(runs[0].error!, /readonly/);
    } finally {
      await agent.stop();
      await opened.close();
    }
  }));

Deno.test({
  name:
    `--once --json whose records fill the disk: a clear error, no spill left, every change reported when space returns${note}`,
  ignore: !!skip,
  fn: () =>
    withTempDir((dir) =>
      withTmpfs("64m", async (fs) => {
        const { root, dcr } = await machine(dir, 3_000);
        const args = ["--once", "--root", root, "--dcr", dcr, "--data-dir", fs.dir];
        assert.equal((await runCli(args)).code, 0); // baseline
        // Every package changed; then only a little room beside what the database already holds.
        await Deno.writeTextFile(
          join(root, "var/lib/dpkg/status"),
          dpkgStatus(3_000).replaceAll("Version: 1.", "Version: 2."),
        );
        const used = Number(
          new TextDecoder().decode(new Deno.Command("du", { args: ["-sk", fs.dir] }).outputSync().stdout)
            .split("\t")[0],
        );
        fs.resize(`${used + 256}k`);
        const full = await runCli([...args, "--json"]);
        assert.ok(full.code === 18 || full.code === 19, `exit ${full.code}: ${full.err}`);
        assert.match(full.err, /database or disk is full/);
        assert.doesNotMatch(full.err, /\n\s+at /, "no stack trace");
        assert.deepEqual([...Deno.readDirSync(fs.dir)].filter((e) => e.name.startsWith("once-")), []);

        fs.resize("64m");
        const again = await runCli([...args, "--json"]);
        assert.equal(again.code, 4, again.err); // modified
        assert.equal(JSON.parse(again.out).changes.length, 3_000, "nothing was lost");
      })
    ),
});
