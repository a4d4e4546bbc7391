import assert from "node:assert/strict";
import { liveHost } from "../../host/mod.ts";
import { loadAccounts } from "../../host/accounts.ts";
import { PERIODS, runParts, runPartsProblem } from "./run_parts.ts";
import { buildTree } from "./testdata/tree.ts";
import { have } from "./testdata/machine.ts";

const HAVE_RUN_PARTS = have("run-parts", ["--version"]);
if (!HAVE_RUN_PARTS) console.warn("run_parts_test.ts: SKIPPED the comparisons with run-parts: not installed");

/** What `run-parts --test` would run of the cron directory of `period` under `root`, by machine path. */
function runPartsTest(root: string, period: string): string[] {
  const dir = `${root === "/" ? "" : root}/etc/cron.${period}`;
  try {
    Deno.statSync(dir);
  } catch {
    return []; // no such directory there
  }
  const out = new Deno.Command("run-parts", { args: ["--test", dir], stdout: "piped", stderr: "null" })
    .outputSync();
  return new TextDecoder().decode(out.stdout).split("\n").filter(Boolean).map((p) =>
    p.slice(root === "/" ? 0 : root.length)
  );
}

const enabled = (found: Awaited<ReturnType<typeof items>>, period: string) =>
  found.filter((i) => i.Schedule === period && i.Enabled).map((i) => i.Task);

async function items(root = "/") {
  const host = liveHost({ root });
  return (await runParts.read({
    host,
    signal: new AbortController().signal,
    accounts: () => loadAccounts(host),
  }))
    .items;
}

Deno.test("runPartsProblem() follows run-parts' name rule and needs an executable", () => {
  assert.equal(runPartsProblem("logrotate", 0o755), null);
  assert.equal(runPartsProblem("0anacron", 0o700), null);
  assert.match(runPartsProblem("backup.sh", 0o755)!, /file names other than/);
  assert.match(runPartsProblem("job.dpkg-old", 0o755)!, /file names other than/);
  assert.match(runPartsProblem("off", 0o644)!, /not executable/);
});

Deno.test({
  name: "run-parts items: enabled exactly where `run-parts --test` runs them, on a tree and on this machine",
  ignore: !HAVE_RUN_PARTS,
  async fn() {
    const root = buildTree({
      "/etc/cron.daily/logrotate": { data: "#!/bin/sh\nlogrotate /etc/logrotate.conf\n", mode: 0o755 },
      "/etc/cron.daily/backup.sh": { data: "#!/bin/sh\n", mode: 0o755 },
      "/etc/cron.daily/off": { data: "#!/bin/sh\n", mode: 0o644 },
      "/etc/cron.daily/linked": { link: "logrotate" },
      "/etc/cron.daily/.placeholder": "",
      "/etc/cron.daily/sub": { dir: true },
      "/etc/cron.weekly/x_y-Z9": { data: "#!/bin/sh\n", mode: 0o700 },
    });
    try {
      const found = await items(root);
      assert.deepEqual(found.map((i) => [i.Task, i.Schedule, i.Enabled]), [
        ["/etc/cron.daily/backup.sh", "daily", false],
        ["/etc/cron.daily/linked", "daily", true],
        ["/etc/cron.daily/logrotate", "daily", true],
        ["/etc/cron.daily/off", "daily", false],
        ["/etc/cron.weekly/x_y-Z9", "weekly", true],
      ]);
      const logrotate = found.find((i) => i.Task.endsWith("logrotate"))!;
      const sum = new Uint8Array(
        await crypto.subtle.digest(
          "SHA-256",
          new TextEncoder().encode("#!/bin/sh\nlogrotate /etc/logrotate.conf\n"),
        ),
      );
      assert.equal(logrotate.Checksum, Array.from(sum, (b) => b.toString(16).padStart(2, "0")).join(""));
      for (const period of PERIODS) assert.deepEqual(enabled(found, period), runPartsTest(root, period));
    } finally {
      Deno.removeSync(root, { recursive: true });
    }
    const mine = await items();
    for (const period of PERIODS) assert.deepEqual(enabled(mine, period), runPartsTest("/", period));
  },
});
