import assert from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { startFakeAma } from "../../test/fake_ama.ts";
import {
  AmaConfigError,
  completeReply,
  encodeConfigRequest,
  parseConfigReply,
  requestAmaConfig,
} from "./config_client.ts";

const missing = () => `@ctagent-test-nothing-${crypto.randomUUID()}`;

Deno.test("encodeConfigRequest() frames the JSON as one msgpack str on Linux and raw on Windows", () => {
  const req = {
    Request: "AgentTaggedData",
    RequestId: "1",
    Tag: "ChangeTracking-Linux",
    Version: "1",
  } as const;
  const json = JSON.stringify(req);
  const linux = encodeConfigRequest("linux", req);
  assert.equal(linux[0], 0xd9, "str8 header");
  assert.equal(linux[1], json.length);
  assert.equal(new TextDecoder().decode(linux.subarray(2)), json);
  assert.equal(new TextDecoder().decode(encodeConfigRequest("windows", req)), json);
});

Deno.test("requestAmaConfig() gets the TaggedData from the fake AMA with Tag ChangeTracking-Linux", async () => {
  const ama = await startFakeAma({ settings: { enableFiles: false }, dcrId: "d1" });
  const reply = await requestAmaConfig({ os: "linux", endpoints: [ama.configEndpoint!] });
  assert.equal(reply.endpoint, ama.configEndpoint);
  assert.equal(ama.requests.length, 1);
  assert.equal(ama.requests[0].framing, "msgpack");
  const req = ama.requests[0].request as Record<string, string>;
  assert.equal(req.Tag, "ChangeTracking-Linux");
  assert.equal(req.Request, "AgentTaggedData");
  assert.equal(reply.RequestId, req.RequestId);
  const confs = reply.taggedData.extensionConfigurations as { id: string; extensionSettings: unknown }[];
  assert.equal(confs[0].id, "dcr-d1:CTDataSource-Linux");
  assert.deepEqual(confs[0].extensionSettings, { enableFiles: false });
  assert.equal(JSON.parse(reply.text).Success, true);
  await ama.close();
});

Deno.test("requestAmaConfig() sends raw JSON for Windows and tries endpoints in order", async () => {
  const ama = await startFakeAma({ os: "windows" });
  const reply = await requestAmaConfig({ os: "windows", endpoints: [missing(), ama.configEndpoint!] });
  assert.equal(reply.endpoint, ama.configEndpoint);
  assert.equal(ama.requests[0].framing, "json");
  assert.equal((ama.requests[0].request as Record<string, string>).Tag, "ChangeTracking-Windows");
  await ama.close();
});

const faults = [
  ["fail", /refused the config request: Success=false, Description="No configuration found for the tag"/],
  ["garbage", /neither JSON nor a msgpack str: starts with bytes c1 ff 00 13/],
  ["truncated", /cut short: the connection closed after \d+ bytes of an incomplete reply/],
  ["hang", /No config reply from @.* within 300 ms/],
  ["close", /closed the connection without replying/],
  ["huge", /exceeds 8388608 bytes; refused/],
] as const;

for (const [behaviour, message] of faults) {
  Deno.test(`requestAmaConfig() reports a "${behaviour}" reply as a clear AmaConfigError`, async () => {
    const ama = await startFakeAma({ behaviour });
    const t0 = performance.now();
    const timeoutMs = behaviour === "huge" ? 5000 : 300;
    const e = await requestAmaConfig({ os: "linux", endpoints: [ama.configEndpoint!], timeoutMs })
      .then(() => undefined, (e) => e);
    assert.ok(e instanceof AmaConfigError, `expected AmaConfigError, got ${e}`);
    assert.match(e.message, message);
    assert.ok(performance.now() - t0 < 6000, "gives up promptly");
    await ama.close();
  });
}

Deno.test("requestAmaConfig() prefers a wrong answer over 'nobody there' when every endpoint fails", async () => {
  const ama = await startFakeAma({ behaviour: "fail" });
  const e = await requestAmaConfig({ os: "linux", endpoints: [missing(), ama.configEndpoint!] })
    .then(() => undefined, (e) => e);
  assert.match(e.message, /Success=false/);
  const none = await requestAmaConfig({ os: "linux", endpoints: [missing(), missing()] })
    .then(() => undefined, (e) => e);
  assert.match(
    none.message,
    /AMA is not there: nothing answers config requests at @\S+ \(ECONNREFUSED\) or @\S+ \(ECONNREFUSED\)$/,
  );
  await ama.close();
});

Deno.test("parseConfigReply() accepts TaggedData as a string or an object and rejects a bad one by name", () => {
  const inner = { extensionConfigurations: [] };
  assert.deepEqual(
    parseConfigReply(JSON.stringify({ Success: true, TaggedData: JSON.stringify(inner) })).taggedData,
    inner,
  );
  assert.deepEqual(parseConfigReply(JSON.stringify({ Success: true, TaggedData: inner })).taggedData, inner);
  assert.throws(
    () => parseConfigReply(`{"Success":true,"TaggedData":"{nope"}`, "@x"),
    /@x: TaggedData is not JSON/,
  );
  assert.throws(
    () => parseConfigReply(`{"Success":true,"TaggedData":5}`),
    /TaggedData must be a JSON object, got "5"/,
  );
  assert.throws(() => parseConfigReply(`[1]`), /is not a JSON object/);
  assert.throws(
    () => parseConfigReply(`{"Success":"yes"}`),
    /Success="yes", Description="\(no Description\)"/,
  );
});

Deno.test("completeReply() waits for a whole JSON object or msgpack str and splits nothing", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  assert.equal(completeReply(enc(`{"a":`), "x"), undefined);
  assert.equal(completeReply(enc(`{"a":"}"`), "x"), undefined);
  assert.equal(completeReply(enc(` {"a":"}"}\n`), "x"), `{"a":"}"}`);
  const framed = encode(`{"Success":true}`);
  assert.equal(completeReply(framed.subarray(0, 5), "x"), undefined);
  assert.equal(completeReply(framed, "x"), `{"Success":true}`);
  const utf8 = enc(`{"a":"日本"}`);
  assert.equal(completeReply(utf8.subarray(0, 8), "x"), undefined);
});
