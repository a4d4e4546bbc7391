// Realtime under Windows Deno: a file written in a watched %TEMP% folder (Deno.watchFs, ReadDirectoryChangesW)
// and a value set under a DCR registry key (RegNotifyChangeKeyValue) are recorded by the agent within seconds,
// through partial runs, with no process attribution (Windows gives none without ETW).
import assert from "node:assert/strict";
import { named, SKIP } from "./seed.ts";
import { startAgent } from "../../agent/agent.ts";
import { liveHost } from "../../agent/host/mod.ts";
import { memoryLogger } from "../../agent/log.ts";
import { openDb } from "../../db/open.ts";
import { filesCollector } from "../../agent/collectors/files/mod.ts";
import { registryCollector } from "../../agent/collectors/registry/mod.ts";

async function until(what: () => Promise<boolean>, ms: number, say: string) {
  const end = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${say}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test({
  name: named("realtime on Windows: a file written and a registry value set are recorded within seconds"),
  ignore: !!SKIP,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const id = crypto.randomUUID().slice(0, 8);
    const dir = `${Deno.env.get("TEMP")}\\ctagent-rt-${id}`;
    const key = `HKEY_CURRENT_USER\\Software\\ctagent-rt-${id}`;
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(`${dir}\\a.cfg`, "alpha\r\n");
    const reg = async (...args: string[]) => {
      const o = await new Deno.Command("reg", { args, stdout: "null", stderr: "piped" }).output();
      assert.ok(o.success, new TextDecoder().decode(o.stderr));
    };
    await reg("add", key, "/v", "Mode", "/d", "safe", "/f");
    await Deno.writeTextFile(
      `${dir}-dcr.json`,
      JSON.stringify({
        enableFiles: true,
        enableRegistry: true,
        enableSoftware: false,
        enableServices: false,
        fileSettings: {
          fileCollectionFrequency: 3600,
          fileInfo: [{ name: "rt", enabled: true, recurse: false, path: `${dir}\\*.cfg` }],
        },
        registrySettings: {
          registryCollectionFrequency: 3600,
          registryInfo: [{ name: "rt", enabled: true, recurse: true, keyName: key, valueName: "" }],
        },
      }),
    );
    // The data directory apart from the watched one: realtime never follows its own writes there.
    await Deno.mkdir(`${dir}-data`);
    const opened = await openDb(`${dir}-data\\state.db`);
    const log = memoryLogger("info");
    const agent = await startAgent({
      opened,
      host: liveHost(),
      log,
      collectors: [filesCollector(), registryCollector()],
      dcrFile: `${dir}-dcr.json`,
      realtime: { quietMs: 50, maxWaitMs: 200 },
    });
    const changes = () =>
      opened.db.selectFrom("changes").select(["collector", "key", "category", "origin"]).orderBy("id")
        .execute();
    try {
      await agent.runNow();
      const s = agent.realtime();
      assert.equal(s.backend, "watchfs");
      assert.equal(s.attribution, false);
      assert.deepEqual(s.collectors.map((c) => [c.name, c.modes]), [["files", ["watchfs"]], [
        "registry",
        ["regnotify"],
      ]]);
      await Deno.writeTextFile(`${dir}\\a.cfg`, "alpha, changed\r\n");
      await Deno.writeTextFile(`${dir}\\b.cfg`, "bravo\r\n");
      await until(
        async () => (await changes()).filter((c) => c.collector === "files").length >= 2,
        15_000,
        "files",
      );
      await reg("add", key, "/v", "Mode", "/d", `strict-${Date.now()}`, "/f");
      await until(async () => (await changes()).some((c) => c.collector === "registry"), 15_000, "registry");
      const all = await changes();
      assert.deepEqual(
        all.map((c) => [c.collector, c.key, c.category]),
        [
          ["files", `${dir}\\a.cfg`, "Modified"],
          ["files", `${dir}\\b.cfg`, "Added"],
          ["registry", `${key}\\\\Mode`, "Modified"],
        ],
      );
      assert.deepEqual(all.map((c) => JSON.parse(c.origin!)), [
        { DetectedBy: "watchfs" },
        { DetectedBy: "watchfs" },
        { DetectedBy: "regnotify" },
      ]);
      // The scheduled scans find nothing realtime did not record.
      const whole = await agent.runNow();
      assert.deepEqual(whole.map((r) => r.counts.added + r.counts.removed + r.counts.modified), [0, 0]);
    } catch (e) {
      console.log(log.lines.join("\n"));
      throw e;
    } finally {
      await agent.stop();
      await opened.close();
      await reg("delete", key, "/f");
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(`${dir}-dcr.json`);
      await Deno.remove(`${dir}-data`, { recursive: true });
    }
  },
});
