// Realtime as a user runs it: the daemon records a change within seconds and `ctagent status` tells how realtime
// goes; --no-realtime (or "no-realtime" in --config) leaves the changes to the scheduled scans.
import assert from "node:assert/strict";
import { join } from "node:path";
import { onlyDcr, runCli, withTempDir } from "./helpers.ts";
import { startAgentProcess } from "./agent_process.ts";

const linux = Deno.build.os === "linux";

async function until(what: () => boolean, ms: number, say: string) {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${say}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const off of [undefined, "--no-realtime", "--config"] as const) {
  Deno.test({
    name: off === undefined
      ? `the daemon records a file written meanwhile within seconds; status shows realtime${
        !linux ? " (SKIPPED: Linux)" : ""
      }`
      : `the daemon with ${
        off === "--config" ? `"no-realtime": true in --config` : off
      } watches nothing; status says so`,
    ignore: !linux,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: () =>
      withTempDir(async (dir) => {
        const tree = join(dir, "tree");
        await Deno.mkdir(tree);
        await Deno.writeTextFile(join(tree, "a.conf"), "a");
        await Deno.writeTextFile(
          join(dir, "dcr.json"),
          onlyDcr(["files"], { fileSettings: { fileCollectionFrequency: 3600, fileInfo: [{ path: tree }] } }),
        );
        await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify({ "no-realtime": true }));
        const data = join(dir, "data");
        const agent = await startAgentProcess([
          "--dcr",
          join(dir, "dcr.json"),
          "--data-dir",
          data,
          "--no-ama",
          "--listen",
          "127.0.0.1:0",
          ...(off === "--no-realtime"
            ? [off]
            : off === "--config"
            ? ["--config", join(dir, "config.json")]
            : []),
        ]);
        try {
          await until(() => /files run baseline/.test(agent.log()), 60_000, "the baseline");
          await Deno.writeTextFile(join(tree, "a.conf"), "changed");
          if (off === undefined) {
            await until(() => /files run realtime/.test(agent.log()), 10_000, "the realtime run");
          } else {
            await new Promise((r) => setTimeout(r, 1500));
            assert.doesNotMatch(agent.log(), /files run realtime/);
          }
        } finally {
          await agent.stop();
        }
        const { code, out } = await runCli(["status", "--data-dir", data]);
        assert.equal(code, 0);
        if (off === undefined) {
          assert.match(
            out,
            new RegExp(
              `Realtime: ${Deno.uid() === 0 ? "fanotify \\(names the process and user\\)" : "inotify"}`,
            ),
          );
          assert.match(
            out,
            /files\s+(fanotify|inotify)\s+1 run\(s\), 1 change\(s\), missed by realtime: 0, fallback scans: 0/,
          );
        } else {
          assert.match(out, /Realtime: off \(--no-realtime\)/);
        }
        const json = JSON.parse((await runCli(["status", "--json", "--data-dir", data])).out);
        assert.equal(json.realtime.on, off === undefined);
        // The latest scheduled run is what status shows per collector, not the realtime one.
        assert.equal(json.runs[0].status, "baseline");
      }),
  });
}
