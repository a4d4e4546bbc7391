// The fake AMA is honest: third-party forward clients are decoded as they meant, and it answers config as AMA does.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { EventTime as FluentEventTime, FluentClient } from "@fluent-org/logger";
import { encode } from "@msgpack/msgpack";
import { connectUnix } from "../agent/ama/unix_socket.ts";
import { isEventTime } from "../agent/ama/codec.ts";
import { chooseEntry, parseDcrDocument } from "../agent/config/document.ts";
import { startFakeAma } from "./fake_ama.ts";

const PYTHON = "/usr/bin/python3";
const hasPythonFluent = spawnSync(PYTHON, ["-c", "import fluent.sender"]).status === 0;

Deno.test("fake AMA decodes npm:fluent-logger in Message, PackedForward and CompressedPackedForward modes", async () => {
  const ama = await startFakeAma({ config: false });
  const path = ama.dataEndpoints[0].replace(/^@/, "\0");
  // In a process of its own: fluent-logger connects through node:net, whose unix sockets Deno 2.9 closes twice
  // (agent/ama/unix_socket.ts); in the test process the second close could take another module's file.
  const script = `import { createFluentSender } from "fluent-logger";
const modes = ["Message", "PackedForward", "CompressedPackedForward"];
for (const [i, eventMode] of modes.entries()) {
  const sender = createFluentSender("ct", {
    path: ${JSON.stringify(path)},
    eventMode,
    requireAckResponse: true,
    ackResponseTimeout: 5000,
  });
  await new Promise((resolve, reject) =>
    sender.emit("mode", { mode: eventMode, n: String(i), "ü": "日本語" }, 1_700_000_000 + i, (e) => e ? reject(e) : resolve())
  );
  await new Promise((resolve) => sender.end("", undefined, resolve));
}`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  await ama.waitFor(3);
  assert.deepEqual(
    ama.received.map((e) => [e.mode, e.tag, e.timeMs, e.record.mode, e.record["ü"]]),
    [
      ["Message", "ct.mode", 1_700_000_000_000, "Message", "日本語"],
      ["PackedForward", "ct.mode", 1_700_000_001_000, "PackedForward", "日本語"],
      ["CompressedPackedForward", "ct.mode", 1_700_000_002_000, "CompressedPackedForward", "日本語"],
    ],
  );
  assert.ok(ama.received.slice(1).every((e) => e.chunk), "ack requests carry a chunk the fake answered");
  assert.deepEqual(ama.errors, []);
  await ama.close();
});

Deno.test("fake AMA acks npm:@fluent-org/logger FluentClient in Forward mode and keeps its EventTime exact", async () => {
  const ama = await startFakeAma({ config: false, data: ["tcp://127.0.0.1:0"] });
  const port = Number(new URL(ama.dataEndpoints[0]).port);
  const client = new FluentClient("ct", {
    eventMode: "Forward",
    socket: { host: "127.0.0.1", port },
    ack: { ackTimeout: 5000 },
  });
  await client.emit("fwd", { a: "1" }, new FluentEventTime(1_700_000_123, 456_789_012));
  await client.emit("fwd", { a: "2" }, new FluentEventTime(1_700_000_124, 1));
  await ama.waitFor(2);
  await client.disconnect();
  const times = ama.received.map((e) => isEventTime(e.time) ? [e.time.sec, e.time.nsec] : e.time);
  assert.deepEqual(times, [[1_700_000_123, 456_789_012], [1_700_000_124, 1]]);
  assert.deepEqual(ama.received.map((e) => [e.mode, e.tag, e.record.a]), [["Forward", "ct.fwd", "1"], [
    "Forward",
    "ct.fwd",
    "2",
  ]]);
  await ama.close();
});

Deno.test({
  name:
    "fake AMA decodes Debian python3-fluent-logger over TCP and an abstract socket, with nanosecond EventTime",
  ignore: !hasPythonFluent,
  fn: async () => {
    const ama = await startFakeAma({
      config: false,
      data: ["tcp://127.0.0.1:0", `@ctagent-py-${crypto.randomUUID()}`],
    });
    const port = new URL(ama.dataEndpoints[0]).port;
    const abstract = ama.dataEndpoints[1].slice(1);
    const script = `
import sys
from fluent import sender
tcp = sender.FluentSender("py", host="127.0.0.1", port=${port}, nanosecond_precision=True)
assert tcp.emit_with_time("tcp", 1700000000.25, {"k": "v", "n": 1}), tcp.last_error
tcp.close()
uds = sender.FluentSender("py", host="unix://\\0${abstract}")
assert uds.emit_with_time("uds", 1700000001, {"k": "w"}), uds.last_error
uds.close()
`;
    const r = spawnSync(PYTHON, ["-c", script], { encoding: "utf8", timeout: 10_000 });
    assert.equal(r.status, 0, r.stderr);
    await ama.waitFor(2);
    const [a, b] = ama.received;
    assert.equal(a.mode, "Message");
    assert.equal(a.tag, "py.tcp");
    assert.ok(isEventTime(a.time));
    assert.deepEqual([a.time.sec, a.time.nsec], [1_700_000_000, 250_000_000]);
    assert.deepEqual(a.record, { k: "v", n: 1 });
    assert.equal(b.tag, "py.uds");
    assert.equal(b.time, 1_700_000_001);
    assert.deepEqual(b.record, { k: "w" });
    await ama.close();
  },
});

async function ask(endpoint: string, bytes: Uint8Array): Promise<string> {
  const s = await connectUnix(endpoint.replace(/^@/, "\0"));
  s.write(bytes);
  let text = "";
  for await (const chunk of s) text += new TextDecoder().decode(chunk);
  return text;
}

Deno.test("fake AMA answers a Linux msgpack-str config request with a TaggedData reply the DCR parser takes", async () => {
  const settings = { enableFiles: false, softwareSettings: { softwareCollectionFrequency: 60 } };
  const ama = await startFakeAma({ settings, dcrId: "abc" });
  const request = { Request: "AgentTaggedData", RequestId: "r-1", Tag: "ChangeTracking-Linux", Version: "1" };
  const text = await ask(ama.configEndpoint!, encode(JSON.stringify(request)));
  assert.deepEqual(ama.requests, [{ framing: "msgpack", request }]);
  const reply = JSON.parse(text);
  assert.equal(reply.Success, true);
  assert.equal(reply.RequestId, "r-1");
  const chosen = chooseEntry(parseDcrDocument(text, "linux"), "linux");
  assert.deepEqual(chosen.problems, []);
  assert.equal(chosen.entry!.id, "dcr-abc:CTDataSource-Linux");
  assert.equal(chosen.entry!.settings!.enableFiles, false);
  assert.equal(chosen.entry!.settings!.softwareSettings.softwareCollectionFrequency, 60);
  assert.equal(
    chosen.entry!.outputStreams.CONFIG_DATA_BLOB_V2,
    "dcr-abc:CTDataSource-Linux:CONFIG_DATA_BLOB_V2",
  );
  await ama.close();
});

Deno.test("fake AMA answers a Windows raw-JSON config request with named pipes per output stream", async () => {
  const ama = await startFakeAma({ os: "windows" });
  const request = {
    Request: "AgentTaggedData",
    RequestId: "r-2",
    Tag: "ChangeTracking-Windows",
    Version: "1",
  };
  const text = await ask(ama.configEndpoint!, new TextEncoder().encode(JSON.stringify(request)));
  assert.equal(ama.requests[0].framing, "json");
  const entry = chooseEntry(parseDcrDocument(text, "windows"), "windows").entry!;
  const tag = entry.outputStreams.CONFIG_CHANGE_BLOB!;
  assert.equal(
    entry.namedPipes[tag],
    "CAgentStream_ChangeTracking-Windows_CONFIG_CHANGE_BLOB_AzureMonitorAgent",
  );
  await ama.close();
});
