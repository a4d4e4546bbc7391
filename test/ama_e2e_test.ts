// End to end with the fake AMA: DCR from the config socket, changes and inventory on the data socket, bad replies.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EventTime as FluentEventTime, FluentServer } from "@fluent-org/logger";
import { main } from "../agent/cli.ts";
import { startAgent } from "../agent/agent.ts";
import { COLLECTORS } from "../agent/collectors/mod.ts";
import { liveHost } from "../agent/host/mod.ts";
import { memoryLogger } from "../agent/log.ts";
import { amaFetch } from "../agent/ama/mod.ts";
import { openDb } from "../db/open.ts";
import { type ConfigBehaviour, startFakeAma } from "./fake_ama.ts";
import { capture, stanza, tree } from "./e2e_helpers.ts";
import { dcrCollectorsOnly } from "./helpers.ts";
import { checkRecord } from "./record_check.ts";

/** Only the software collector, so the records are exactly what the dpkg status file says. */
const SETTINGS = {
  enableFiles: false,
  enableServices: false,
  enableRegistry: false,
  enableSoftware: true,
  enableInventory: true,
  softwareSettings: { softwareCollectionFrequency: 10 },
};

Deno.test("--once takes its DCR from the fake AMA's config socket; a package change arrives as a ConfigurationChange with AMA's tag", async () => {
  const ama = await startFakeAma({ settings: SETTINGS, dcrId: "e2e1" });
  const t = tree();
  t.write(stanza("alpha", "1.0") + stanza("beta", "2.0"));
  const args = [
    "--once",
    "--data-dir",
    t.data,
    "--root",
    t.root,
    "--ama-config",
    ama.configEndpoint!,
    "--ama-data",
    ama.dataEndpoints[0],
  ];
  const io1 = capture();
  assert.equal(await main(args, { io: io1 }), 0, io1.errText());
  assert.match(io1.outText(), /DCR dcr-e2e1:CTDataSource-Linux from ama/);
  assert.equal((ama.requests[0].request as Record<string, string>).Tag, "ChangeTracking-Linux");
  await ama.waitFor(2);
  const tags = ama.outputStreams;
  assert.deepEqual(
    ama.received.map((e) => [e.tag, e.record.ConfigDataType, e.record.SoftwareName]).sort(),
    [[tags.CONFIG_DATA_BLOB_V2, "Software", "alpha"], [tags.CONFIG_DATA_BLOB_V2, "Software", "beta"]],
    "the baseline is an inventory snapshot on CONFIG_DATA_BLOB_V2",
  );

  t.write(stanza("alpha", "1.1") + stanza("beta", "2.0") + stanza("gamma", "3.0"));
  const io2 = capture();
  assert.equal(await main(args, { io: io2 }), 1 | 4, io2.errText()); // added + modified
  await ama.waitFor(2 + 4);
  const changes = ama.received.filter((e) => e.tag === tags.CONFIG_CHANGE_BLOB_V2).map((e) => e.record);
  assert.deepEqual(
    changes.map((r) => [r.ConfigChangeType, r.ChangeCategory, r.SoftwareName, r.Previous ?? "", r.Current])
      .sort(),
    [["Software", "Added", "gamma", "", "3.0"], ["Software", "Modified", "alpha", "1.0", "1.1"]],
  );
  for (const r of changes) {
    // Only ConfigurationChange columns on AMA's streams (issue 15): no RecordId, no Manager.
    assert.equal(r.RecordId, undefined);
    assert.equal(r.Manager, undefined);
    assert.equal(typeof r.Computer, "string");
    assert.ok(Object.values(r).every((v) => typeof v === "string"), "records are map<str,str>");
  }
  const snapshots = ama.received.slice(2).filter((e) => e.tag === tags.CONFIG_DATA_BLOB_V2);
  assert.deepEqual(snapshots.map((e) => e.record.SoftwareName).sort(), ["alpha", "gamma"]);
  assert.ok(ama.received.every((e) => e.mode === "Forward" && typeof e.time === "number"));
  assert.deepEqual(
    JSON.parse(readFileSync(join(t.data, "Packages.json"), "utf8")).map((i: { SoftwareName: string }) =>
      i.SoftwareName
    ),
    [
      "alpha",
      "beta",
      "gamma",
    ],
  );

  const io3 = capture();
  assert.equal(await main(["status", "--data-dir", t.data], { io: io3 }), 0);
  assert.match(io3.outText(), /Outbox: 0 record\(s\) waiting/);
  assert.match(io3.outText(), /delivered: 6 record\(s\)/);
  await ama.close();
  await Deno.remove(t.dir, { recursive: true });
});

Deno.test("the agent daemon takes its DCR from AMA and streams a change to the data socket", async () => {
  const ama = await startFakeAma({ settings: SETTINGS, dcrId: "e2e2" });
  const t = tree();
  t.write(stanza("alpha", "1.0"));
  const opened = await openDb(join(t.data, "ctagent.db"));
  const log = memoryLogger();
  const ama_ = {
    os: "linux" as const,
    configEndpoints: [ama.configEndpoint!],
    dataEndpoint: ama.dataEndpoints[0],
  };
  const agent = await startAgent({
    opened,
    host: liveHost({ root: t.root, os: "linux" }),
    log,
    collectors: COLLECTORS,
    fetchAma: amaFetch(ama_),
    ama: ama_,
    mirrorDir: t.data,
  });
  assert.equal(agent.config().id, "dcr-e2e2:CTDataSource-Linux");
  await ama.waitFor(1);
  t.write(stanza("alpha", "1.0") + stanza("delta", "4.0"));
  await agent.scheduler.scanNow("software");
  await ama.waitFor((): boolean => ama.received.some((e) => e.record.ChangeCategory === "Added"), 5000);
  const added = ama.received.find((e) => e.record.ChangeCategory === "Added")!;
  assert.equal(added.tag, "dcr-e2e2:CTDataSource-Linux:CONFIG_CHANGE_BLOB_V2");
  assert.equal(added.record.SoftwareName, "delta");
  await agent.stop();
  await opened.close();
  await ama.close();
  await Deno.remove(t.dir, { recursive: true });
});

Deno.test("malformed config replies never crash the agent nor change the DCR in force", async () => {
  const ama = await startFakeAma({ settings: SETTINGS, dcrId: "good" });
  const t = tree();
  t.write(stanza("alpha", "1.0"));
  const opened = await openDb(join(t.data, "ctagent.db"));
  const log = memoryLogger();
  const ama_ = {
    os: "linux" as const,
    configEndpoints: [ama.configEndpoint!],
    dataEndpoint: ama.dataEndpoints[0],
    configTimeoutMs: 1500,
  };
  const agent = await startAgent({
    opened,
    host: liveHost({ root: t.root, os: "linux" }),
    log,
    collectors: COLLECTORS,
    fetchAma: amaFetch(ama_),
    ama: ama_,
    amaIntervalMs: 50,
  });
  const good = agent.config();
  assert.equal(good.id, "dcr-good:CTDataSource-Linux");
  // Each fault, until the agent has logged its clear error for it; the DCR in force never moves.
  const faults: [ConfigBehaviour, string][] = [
    ["garbage", "neither JSON nor a msgpack str"],
    ["truncated", "cut short"],
    ["huge", "exceeds 8388608 bytes"],
    ["hang", "No config reply"],
    ["close", "without replying"],
    ["fail", "Success=false"],
  ];
  for (const [behaviour, error] of faults) {
    ama.setBehaviour(behaviour);
    const from = log.lines.length;
    const deadline = Date.now() + 15_000;
    const logged = () => log.lines.slice(from).find((l) => l.includes(error));
    while (!logged() && Date.now() < deadline) {
      assert.equal(agent.config(), good, `${behaviour}: the DCR in force did not change`);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(
      logged() ?? log.lines.slice(from).join("\n"),
      /keeping DCR dcr-good:CTDataSource-Linux/,
      behaviour,
    );
    assert.equal(agent.config(), good, `${behaviour}: the DCR in force did not change`);
  }
  // A settings change served properly afterwards is taken: the agent is alive and still listening.
  ama.setBehaviour("ok");
  ama.setSettings({ ...SETTINGS, softwareSettings: { softwareCollectionFrequency: 20 } });
  const deadline = Date.now() + 5000;
  while (
    agent.config().settings.softwareSettings.softwareCollectionFrequency !== 20 && Date.now() < deadline
  ) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(agent.config().settings.softwareSettings.softwareCollectionFrequency, 20);
  await agent.stop();
  await opened.close();
  await ama.close();
  await Deno.remove(t.dir, { recursive: true });
});

/** A FluentServer (npm:@fluent-org/logger) on TCP, a dpkg tree, and `--once --forward` of the tree to it. */
async function forwarded() {
  const server = new FluentServer({ listenOptions: { port: 0, host: "127.0.0.1" } });
  const got: [string, FluentEventTime, Record<string, string>][] = [];
  server.on("entry", (tag, time, record) => got.push([tag, time, record]));
  await server.listen();
  const t = tree();
  writeFileSync(join(t.dir, "dcr.json"), JSON.stringify(SETTINGS));
  const once = async (extra: string[] = []) => {
    const io = capture();
    const code = await main([
      "--once",
      "--data-dir",
      t.data,
      "--root",
      t.root,
      "--dcr",
      join(t.dir, "dcr.json"),
      "--no-ama",
      "--forward",
      `tcp://127.0.0.1:${server.port}`,
      ...dcrCollectorsOnly(t.dir),
      ...extra,
    ], { io });
    assert.equal(io.errText(), "", "delivered: no warning");
    return code;
  };
  return {
    got,
    t,
    once,
    async close() {
      await server.close();
      await Deno.remove(t.dir, { recursive: true });
    },
  };
}

Deno.test("--forward sends the same records to FluentServer (npm:@fluent-org/logger) over TCP with acks", async () => {
  const { got, t, once, close } = await forwarded();
  t.write(stanza("alpha", "1.0"));
  assert.equal(await once(), 0);
  assert.equal(got.length, 1);
  assert.equal(got[0][0], "ctagent:CONFIG_DATA_BLOB_V2");
  assert.ok(got[0][1] instanceof FluentEventTime);
  assert.equal(got[0][2].SoftwareName, "alpha");
  await close();
});

Deno.test("--forward keeps every field of the full record by default, and only the table's columns with --forward-fields la (FluentServer)", async () => {
  const { got, t, once, close } = await forwarded();
  t.write(stanza("alpha", "1.0"));
  assert.equal(await once(), 0);
  t.write(stanza("alpha", "1.1"));
  assert.equal(await once(), 4);
  const [snapshot, change, inventory] = got.map(([, , r]) => r);
  // Full: the table's columns and every field ctagent has (Manager, Status, the version, a RecordId).
  for (const r of [snapshot, change, inventory]) {
    assert.match(r.RecordId, /^[0-9a-f-]{36}$/);
    assert.deepEqual([r.Manager, r.Status, r.Architecture, r.SoftwareName], [
      "dpkg",
      "installed",
      "all",
      "alpha",
    ]);
  }
  assert.deepEqual([snapshot.CurrentVersion, change.CurrentVersion, change.Current, change.Previous], [
    "1.0",
    "1.1",
    "1.1",
    "1.0",
  ]);
  assert.equal(change.FieldsChanged, "CurrentVersion");
  assert.deepEqual(got.map(([tag]) => tag), [
    "ctagent:CONFIG_DATA_BLOB_V2",
    "ctagent:CONFIG_CHANGE_BLOB_V2",
    "ctagent:CONFIG_DATA_BLOB_V2",
  ]);

  got.length = 0;
  t.write(stanza("alpha", "1.2"));
  assert.equal(await once(["--forward-fields", "la"]), 4);
  assert.equal(got.length, 2);
  for (const [tag, , r] of got) {
    assert.deepEqual(checkRecord(tag, r), [], "only what AMA's tables take");
    assert.equal(r.Manager, undefined);
  }
  await close();
});

Deno.test("--once without AMA leaves the records in the outbox with one warning and the change exit code", async () => {
  const t = tree();
  t.write(stanza("alpha", "1.0"));
  const missing = `@ctagent-e2e-missing-${crypto.randomUUID()}`;
  const io = capture();
  const t0 = performance.now();
  const code = await main(
    ["--once", "--data-dir", t.data, "--root", t.root, "--ama-config", missing, "--ama-data", missing],
    { io },
  );
  assert.equal(code, 0);
  assert.ok(performance.now() - t0 < 3000, "an absent AMA is not waited for");
  const warnings = io.errText().split("\n").filter((l) => l.includes("not delivered"));
  assert.equal(warnings.length, 1, io.errText());
  assert.match(
    warnings[0],
    /1 record\(s\) not delivered to AMA \(Cannot connect to @ctagent-e2e-missing-.*\); they stay in the outbox/,
  );
  const st = capture();
  await main(["status", "--json", "--data-dir", t.data], { io: st });
  assert.equal(JSON.parse(st.outText()).outbox.depth, 1);
  await Deno.remove(t.dir, { recursive: true });
});
