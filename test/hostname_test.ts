// The host renamed while the daemon runs (issue 16 item 14): records carry the new Computer from the next run on.
// The daemon runs in a UTS namespace of its own, renamed with nsenter; the machine's name is never touched.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { dpkgFixture, runCli, spawnCli, withTempDir } from "./helpers.ts";
import { stanza } from "./e2e_helpers.ts";

function onPath(cmd: string): boolean {
  return (Deno.env.get("PATH") ?? "").split(":").some((d) => {
    try {
      return Deno.statSync(`${d}/${cmd}`).isFile;
    } catch {
      return false;
    }
  });
}
const skip = Deno.uid() !== 0 || !onPath("unshare") || !onPath("nsenter")
  ? " (SKIPPED: needs root, unshare and nsenter)"
  : "";

/** The Computer of every record in the outbox, by package name, in the order they were written. */
function computers(data: string): [string, string][] {
  const db = new DatabaseSync(`${data}/ctagent.db`, { readOnly: true });
  try {
    return (db.prepare("SELECT record FROM outbox ORDER BY id").all() as { record: string }[])
      .map((r) => JSON.parse(r.record) as { SoftwareName: string; Computer: string })
      .map((r) => [r.SoftwareName, r.Computer]);
  } finally {
    db.close();
  }
}

Deno.test({
  name: "records carry the host's new name from the run after it was renamed (the daemon, no restart)" + skip,
  ignore: !!skip,
  fn: () =>
    withTempDir(async (dir) => {
      const f = await dpkgFixture(dir);
      await Deno.writeTextFile(f.status, stanza("alpha", "1"));
      const common = ["--no-ama", "--root", f.root, "--dcr", `${dir}/dcr.json`, "--data-dir", `${dir}/data`];
      // unshare execs sh, which execs deno: the child's pid is the daemon's.
      // Without realtime, which would record the change before --once asks the daemon for a run.
      const daemon = spawnCli(["--no-ui", "--no-realtime", ...common], {
        wrap: ["unshare", "--uts", "sh", "-c", 'hostname ct-before && exec "$@"', "--"],
      });
      try {
        const deadline = Date.now() + 60_000;
        while (!daemon.stderr().includes("software run baseline") && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.match(daemon.stderr(), /software run baseline/);
        const rename = await new Deno.Command("nsenter", {
          args: ["--target", String(daemon.child.pid), "--uts", "hostname", "ct-after.example.org"],
        }).output();
        assert.equal(rename.code, 0, new TextDecoder().decode(rename.stderr));
        await Deno.writeTextFile(f.status, stanza("alpha", "1") + "\n" + stanza("beta", "1"));
        // --once next to the daemon asks it to run now.
        const r = await runCli(["--once", "--json", ...common]);
        assert.equal(r.code, 1, r.err);
        const changes = JSON.parse(r.out).changes as { SoftwareName: string; Computer: string }[];
        assert.deepEqual(changes.map((c) => [c.SoftwareName, c.Computer]), [["beta", "ct-after"]]);
        // The baseline's snapshot went out under the old name; the new change and its inventory under the new.
        assert.deepEqual(computers(`${dir}/data`), [
          ["alpha", "ct-before"],
          ["beta", "ct-after"],
          ["beta", "ct-after"],
        ]);
      } finally {
        daemon.child.kill("SIGTERM");
        await daemon.done();
      }
    }),
});
