// Windows named pipes for real (Windows, or Windows Deno under Wine): config request and records over node:net pipes.
import assert from "node:assert/strict";
import { memoryLogger } from "../log.ts";
import { openDb } from "../../db/open.ts";
import { startFakeAma } from "../../test/fake_ama.ts";
import { requestAmaConfig } from "./config_client.ts";
import { amaRoutes, createSender } from "./sender.ts";
import { chooseEntry, parseDcrDocument } from "../config/document.ts";

const windows = Deno.build.os === "windows";

Deno.test({
  name: "AgentTaggedData over a named pipe: raw JSON request, TaggedData reply with a pipe per stream",
  ignore: !windows,
  fn: async () => {
    const name = `\\\\.\\pipe\\ctagent-test-${crypto.randomUUID()}-config`;
    const ama = await startFakeAma({ os: "windows", config: name, data: [`${name}-data`], dcrId: "w1" });
    const reply = await requestAmaConfig({ os: "windows", endpoints: [name], timeoutMs: 5000 });
    assert.equal(ama.requests[0].framing, "json");
    assert.equal((ama.requests[0].request as Record<string, string>).Tag, "ChangeTracking-Windows");
    const defs = reply.taggedData.outputStreamDefinitions as Record<string, { namedPipe: string }>;
    assert.equal(
      defs["dcr-w1:CTDataSource-Windows:CONFIG_CHANGE_BLOB"].namedPipe,
      "CAgentStream_ChangeTracking-Windows_CONFIG_CHANGE_BLOB_AzureMonitorAgent",
    );
    await ama.close();
  },
});

Deno.test({
  name: "sender writes Forward records to AMA's named pipe",
  ignore: !windows,
  fn: async () => {
    const pipe = `ctagent-test-${crypto.randomUUID()}-data`;
    const ama = await startFakeAma({
      os: "windows",
      config: false,
      data: [`\\\\.\\pipe\\${pipe}`],
      dcrId: "w2",
      validate: false,
    });
    const opened = await openDb(":memory:");
    for (let i = 0; i < 3; i++) {
      await opened.db.insertInto("outbox").values({
        stream: "CONFIG_CHANGE_BLOB",
        record: JSON.stringify({
          RecordId: `r${i}`,
          RegistryKey: "HKEY_LOCAL_MACHINE\\Software\\x",
          Computer: "w",
        }),
        created_at: 1_700_000_000_000 + i,
        attempts: 0,
      }).execute();
    }
    const tag = ama.outputStreams.CONFIG_CHANGE_BLOB;
    // AMA names the pipe of each stream in outputStreamDefinitions; ctagent opens \\.\pipe\<namedPipe>.
    const routes = amaRoutes({
      os: "windows",
      outputStreams: ama.outputStreams,
      namedPipes: { [tag]: pipe },
    });
    assert.equal(routes.CONFIG_CHANGE_BLOB!.endpoint, `\\\\.\\pipe\\${pipe}`);
    const sender = createSender({
      db: opened.db,
      raw: opened.raw,
      routes: () => routes,
      log: memoryLogger(),
    });
    assert.equal(await sender.pass(), 3);
    await ama.waitFor(3, 5000);
    assert.deepEqual(
      ama.received.map((e) => [e.tag, e.record.RecordId]),
      [[tag, "r0"], [tag, "r1"], [tag, "r2"]],
    );
    sender.close();
    await opened.close();
    await ama.close();
  },
});

Deno.test({
  name:
    "AMA's config names a pipe per stream; every stream's records arrive on its own pipe with its own tag",
  ignore: !windows,
  fn: async () => {
    const config = `\\\\.\\pipe\\ctagent-test-${crypto.randomUUID()}-config`;
    const ama = await startFakeAma({ os: "windows", config, dcrId: "w3", validate: false });
    assert.equal(ama.dataEndpoints.length, 3);
    const reply = await requestAmaConfig({ os: "windows", endpoints: [config], timeoutMs: 5000 });
    const entry = chooseEntry(parseDcrDocument(reply.text, "windows"), "windows").entry!;
    const routes = amaRoutes({
      os: "windows",
      outputStreams: entry.outputStreams,
      namedPipes: entry.namedPipes,
    });
    const opened = await openDb(":memory:");
    const streams = ["CONFIG_CHANGE_BLOB", "CONFIG_CHANGE_BLOB_V2", "CONFIG_DATA_BLOB_V2"];
    for (const stream of streams) {
      await opened.db.insertInto("outbox").values({
        stream,
        record: JSON.stringify({ RecordId: stream, Computer: "w" }),
        created_at: 1_700_000_000_000,
        attempts: 0,
      }).execute();
    }
    const sender = createSender({
      db: opened.db,
      raw: opened.raw,
      routes: () => routes,
      log: memoryLogger(),
    });
    assert.equal(await sender.pass(), 3);
    await ama.waitFor(3, 5000);
    for (const stream of streams) {
      const got = ama.received.find((e) => e.record.RecordId === stream)!;
      assert.equal(got.tag, `dcr-w3:CTDataSource-Windows:${stream}`);
      assert.ok(got.endpoint.endsWith(`_${stream}`), `${stream} arrived on ${got.endpoint}`);
    }
    sender.close();
    await opened.close();
    await ama.close();
  },
});
