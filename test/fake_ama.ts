// A fake Azure Monitor Agent: serves a CT DCR on the config endpoint, receives forward-protocol data, NDJSON out.
import net from "node:net";
import type { Duplex } from "node:stream";
import { appendFileSync, rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { type EventRecord, isEventTime, type Time } from "../agent/ama/codec.ts";
import {
  decodeForwardMessage,
  encodeAck,
  messages as msgpackValues,
  type Mode,
  timeToMs,
} from "./forward_server.ts";
import { completeReply } from "../agent/ama/config_client.ts";
import { parseEndpoint } from "../agent/ama/transport.ts";
import { listenUnix } from "../agent/ama/unix_socket.ts";
import type { Platform } from "../agent/platform.ts";
import { AMA_STREAMS } from "../agent/streams.ts";
import { checkRecord, ctStream } from "./record_check.ts";

/** One event the fake received. */
export interface Received {
  endpoint: string;
  mode: Mode;
  tag: string;
  time: Time;
  /** Epoch ms of `time`. */
  timeMs: number;
  record: EventRecord;
  chunk?: string;
  receivedAt: number;
}

/** How the config endpoint answers (the faults are for tests of the agent's config client). */
export type ConfigBehaviour =
  | "ok"
  | "fail" // Success:false, as AMA answers when no CT DCR is associated
  | "garbage" // bytes that are neither JSON nor msgpack
  | "truncated" // half a reply, then the connection closes
  | "huge" // a 100 MB reply
  | "hang" // never answers, keeps the connection open
  | "close"; // closes without answering

export interface FakeAmaOptions {
  /** Which extension it serves and how it expects requests framed. */
  os?: Platform;
  /** Config endpoint (`@name`, `/path`, `tcp://127.0.0.1:0`); default a random abstract socket; false: none. */
  config?: string | false;
  /** Data endpoints; default one random abstract socket (Linux) or a random pipe per stream (Windows). */
  data?: string[];
  /** The `extensionSettings` served (default {} = the Microsoft defaults). */
  settings?: unknown;
  dcrId?: string;
  behaviour?: ConfigBehaviour;
  /** Answer `chunk` options with acks (AMA itself does not; a forward receiver does). Default true. */
  ack?: boolean;
  /** Append every event as one JSON line to this file. */
  ndjson?: string;
  /**
   * Check every record tagged with a CT stream as AMA's tables would take it (record_check.ts; default true):
   * a record that breaks a rule is a violation, and a test waiting on or closing the fake then fails.
   * Tests of the wire itself, which send made-up records, turn it off.
   */
  validate?: boolean;
  /** Called for every event (the CLI's live summary). */
  onEvent?: (e: Received) => void;
}

export interface FakeAma {
  configEndpoint?: string;
  dataEndpoints: string[];
  /** Logical stream → output stream id (the tags the agent should use). */
  outputStreams: Record<string, string>;
  received: Received[];
  /** Config requests received, parsed, with how they were framed. */
  requests: { framing: "msgpack" | "json"; request: unknown }[];
  /** Forward messages received, and decode errors (the connection is closed on one, as fluentd does). */
  messages: number;
  errors: string[];
  /** Records that AMA's tables would not take as they are (see FakeAmaOptions.validate). */
  violations: string[];
  setSettings(settings: unknown): void;
  setBehaviour(b: ConfigBehaviour): void;
  /** Resolves once `n` events have arrived (or `pred` holds); rejects after `timeoutMs` or on a violation. */
  waitFor(n: number | (() => boolean), timeoutMs?: number): Promise<void>;
  /** Counts per tag, one line. */
  summary(): string;
  /** Stops listening; rejects when a record broke a rule (so a test that closes the fake fails on one). */
  close(): Promise<void>;
}

const random = () => crypto.randomUUID().slice(0, 8);

/** The TaggedData AMA hands to the CT extension (SPEC §1.6, §4.2). */
export function taggedData(
  os: Platform,
  settings: unknown,
  dcrId = "00000000000000000000000000000000",
  /** Windows: the pipe name (after `\\.\pipe\`) of each stream; AMA's own names by default. */
  pipes: Partial<Record<string, string>> = {},
) {
  const ext = os === "linux" ? "ChangeTracking-Linux" : "ChangeTracking-Windows";
  const ds = os === "linux" ? "CTDataSource-Linux" : "CTDataSource-Windows";
  const id = `dcr-${dcrId}:${ds}`;
  const outputStreams = Object.fromEntries(AMA_STREAMS.map((s) => [s, `${id}:${s}`]));
  const outputStreamDefinitions = os === "windows"
    ? Object.fromEntries(
      AMA_STREAMS.map((
        s,
      ) => [`${id}:${s}`, { namedPipe: pipes[s] ?? `CAgentStream_${ext}_${s}_AzureMonitorAgent` }]),
    )
    : {};
  return {
    schemaVersion: 1,
    version: 1,
    extensionName: ext,
    extensionConfigurations: [{
      id,
      originIds: [
        `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Insights/dataCollectionRules/ct-dcr-fake`,
      ],
      extensionSettings: settings,
      inputStreams: {},
      outputStreams,
    }],
    outputStreamDefinitions,
  };
}

/** A whole AgentTaggedData reply envelope. */
export function taggedReply(
  requestId: string,
  os: Platform,
  settings: unknown,
  dcrId?: string,
  pipes?: Partial<Record<string, string>>,
): Record<string, unknown> {
  return {
    Request: "AgentTaggedData",
    RequestId: requestId,
    Version: "1",
    Success: true,
    Description: "",
    TaggedData: JSON.stringify(taggedData(os, settings, dcrId, pipes)),
  };
}

/** The extensionSettings of the CT extension for `os` in a DCR file (or the object itself when it is bare). */
export function settingsFromDcr(doc: unknown, os: Platform): unknown {
  type Obj = Record<string, unknown>;
  const obj = (v: unknown): Obj | undefined =>
    typeof v === "object" && v !== null && !Array.isArray(v) ? v as Obj : undefined;
  const d = obj(doc);
  const ds = obj(obj(d?.properties)?.dataSources) ?? obj(d?.dataSources) ?? d;
  const ext = os === "linux" ? "changetracking-linux" : "changetracking-windows";
  const list = Array.isArray(ds?.extensions) ? ds.extensions as unknown[] : [];
  const found = list.map(obj).find((e) => String(e?.extensionName).toLowerCase() === ext);
  return found ? found.extensionSettings ?? {} : doc;
}

/**
 * Listens at `text`: unix sockets on Deno's own off Windows, as the agent connects (agent/ama/unix_socket.ts
 * says why), others through node:net. Returns the endpoint as a client names it, and how to stop listening.
 */
async function listen(
  text: string,
  onConnection: (socket: Duplex) => void,
): Promise<{ label: string; close(): Promise<void> }> {
  const ep = parseEndpoint(text, { listen: true });
  if (ep.kind === "unix") rmSync(ep.address, { force: true });
  if ((ep.kind === "unix" || ep.kind === "abstract") && Deno.build.os !== "windows") {
    return { label: ep.label, ...listenUnix(ep.address, onConnection) };
  }
  const srv = net.createServer(onConnection);
  await new Promise<void>((resolve, reject) => {
    srv.once("error", reject);
    if (ep.kind === "tcp") srv.listen({ host: ep.host, port: ep.port }, resolve);
    else srv.listen(ep.address, resolve);
  });
  const close = () => new Promise<void>((r) => srv.close(() => r()));
  if (ep.kind === "tcp") {
    const port = (srv.address() as net.AddressInfo).port;
    return { label: `tcp://${ep.host.includes(":") ? `[${ep.host}]` : ep.host}:${port}`, close };
  }
  return { label: ep.label, close };
}

export async function startFakeAma(opts: FakeAmaOptions = {}): Promise<FakeAma> {
  const os = opts.os ?? "linux";
  let settings: unknown = opts.settings ?? {};
  let behaviour: ConfigBehaviour = opts.behaviour ?? "ok";
  const ack = opts.ack ?? true;
  const servers: { close(): Promise<void> }[] = [];
  const sockets = new Set<Duplex>();
  const received: Received[] = [];
  const requests: FakeAma["requests"] = [];
  const errors: string[] = [];
  const violations: string[] = [];
  const validate = opts.validate ?? true;
  const counts = new Map<string, number>();
  let messages = 0;
  let waiters: (() => void)[] = [];
  const track = (s: Duplex) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
  };

  const onData = (endpoint: string) => async (socket: Duplex) => {
    track(socket);
    try {
      for await (const value of msgpackValues(socket)) {
        const msg = decodeForwardMessage(value);
        if (!msg) continue; // heartbeat
        messages++;
        const receivedAt = Date.now();
        const events: Received[] = msg.entries.map(([time, record]) => ({
          endpoint,
          mode: msg.mode,
          tag: msg.tag,
          time,
          timeMs: timeToMs(time),
          record,
          chunk: msg.option?.chunk,
          receivedAt,
        }));
        received.push(...events);
        if (validate && ctStream(msg.tag)) {
          for (const e of events) {
            for (const p of checkRecord(e.tag, e.record)) {
              violations.push(`${e.tag}: ${p} in ${JSON.stringify(e.record).slice(0, 400)}`);
            }
          }
        }
        counts.set(msg.tag, (counts.get(msg.tag) ?? 0) + events.length);
        if (opts.ndjson) {
          appendFileSync(
            opts.ndjson,
            events.map((e) =>
              JSON.stringify({
                endpoint: e.endpoint,
                mode: e.mode,
                tag: e.tag,
                time: isEventTime(e.time) ? { sec: e.time.sec, nsec: e.time.nsec } : e.time,
                record: e.record,
              }) + "\n"
            ).join(""),
          );
        }
        for (const e of events) opts.onEvent?.(e);
        // Ack after the events are stored: an ack means "kept".
        if (ack && msg.option?.chunk) socket.write(encodeAck(msg.option.chunk));
        const w = waiters;
        waiters = [];
        for (const f of w) f();
      }
    } catch (e) {
      errors.push(`${endpoint}: ${(e as Error).message}`);
      socket.destroy();
    }
  };

  const onConfig = (endpoint: string) => (socket: Duplex) => {
    track(socket);
    let buf = new Uint8Array(0);
    let answered = false;
    socket.on("data", (d: Uint8Array) => {
      if (answered) return;
      const next = new Uint8Array(buf.length + d.length);
      next.set(buf);
      next.set(d, buf.length);
      buf = next;
      let text: string | undefined;
      try {
        text = completeReply(buf, endpoint);
      } catch (e) {
        errors.push(`${endpoint}: bad config request: ${(e as Error).message}`);
        socket.destroy();
        return;
      }
      if (text === undefined) return;
      answered = true;
      let request: Record<string, unknown> = {};
      try {
        request = JSON.parse(text);
      } catch { /* answered below anyway */ }
      requests.push({ framing: buf[0] === 0x7b ? "json" : "msgpack", request });
      answer(socket, String(request.RequestId ?? ""));
    });
  };

  function answer(socket: Duplex, requestId: string) {
    const ok = () => JSON.stringify(taggedReply(requestId, os, settings, opts.dcrId, pipes));
    switch (behaviour) {
      case "ok":
        socket.end(ok());
        return;
      case "fail":
        socket.end(JSON.stringify({
          Request: "AgentTaggedData",
          RequestId: requestId,
          Version: "1",
          Success: false,
          Description: "No configuration found for the tag",
          TaggedData: "",
        }));
        return;
      case "garbage":
        socket.end(new Uint8Array([0xc1, 0xff, 0x00, 0x13, 0x37, 0xfe, 0x80, 0x7b]));
        return;
      case "truncated": {
        const text = ok();
        socket.end(text.slice(0, Math.floor(text.length / 2)));
        return;
      }
      case "close":
        socket.destroy();
        return;
      case "hang":
        return;
      case "huge": {
        // 100 MB of one JSON string, written as the client reads (stops when it hangs up).
        const piece = new TextEncoder().encode("x".repeat(1024 * 1024));
        let left = 100;
        socket.write(`{"Request":"AgentTaggedData","RequestId":"${requestId}","Success":true,"Pad":"`);
        const pump = () => {
          while (left > 0 && !socket.destroyed) {
            left--;
            if (!socket.write(piece)) return void socket.once("drain", pump);
          }
          if (!socket.destroyed) socket.end(`","TaggedData":"{}"}`);
        };
        pump();
        return;
      }
    }
  }

  let configEndpoint: string | undefined;
  if (opts.config !== false) {
    const srv = await listen(opts.config ?? `@ctagent-fake-ama-${random()}-config`, onConfig("config"));
    servers.push(srv);
    configEndpoint = srv.label;
  }
  const dataEndpoints: string[] = [];
  // On Windows AMA opens one pipe per output stream and names it in outputStreamDefinitions: so does the fake
  // when not told where to listen (with unique names, so tests can run side by side).
  const pipes: Partial<Record<string, string>> = {};
  let data = opts.data;
  if (!data && os === "windows" && Deno.build.os === "windows") {
    const base = `ctagent-fake-ama-${random()}`;
    for (const s of AMA_STREAMS) pipes[s] = `${base}_${s}`;
    data = AMA_STREAMS.map((s) => `\\\\.\\pipe\\${pipes[s]}`);
  }
  for (const text of data ?? [`@ctagent-fake-ama-${random()}-data`]) {
    let label = text;
    const srv = await listen(text, (s) => onData(label)(s));
    label = srv.label;
    servers.push(srv);
    dataEndpoints.push(label);
  }

  const outputStreams = taggedData(os, settings, opts.dcrId).extensionConfigurations[0].outputStreams;
  return {
    configEndpoint,
    dataEndpoints,
    outputStreams,
    received,
    requests,
    get messages() {
      return messages;
    },
    errors,
    violations,
    setSettings: (s: unknown) => void (settings = s),
    setBehaviour: (b) => behaviour = b,
    waitFor(n, timeoutMs = 10_000) {
      const done = typeof n === "number" ? () => received.length >= n : n;
      const invalid = () => new Error(`fake AMA: records AMA would not take:\n${violations.join("\n")}`);
      return new Promise((resolve, reject) => {
        if (violations.length) return reject(invalid());
        if (done()) return resolve();
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== check);
          reject(
            new Error(
              `fake AMA: still waiting after ${timeoutMs} ms (${received.length} events received${
                errors.length ? `; errors: ${errors.join("; ")}` : ""
              })`,
            ),
          );
        }, timeoutMs);
        const check = () => {
          if (violations.length) {
            clearTimeout(timer);
            reject(invalid());
          } else if (done()) {
            clearTimeout(timer);
            resolve();
          } else waiters.push(check);
        };
        waiters.push(check);
      });
    },
    summary() {
      const parts = [...counts].map(([tag, n]) => `${tag}=${n}`);
      return `events=${received.length} messages=${messages} errors=${errors.length} violations=${violations.length}${
        parts.length ? " " + parts.join(" ") : ""
      }`;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((srv) => srv.close()));
      if (violations.length) {
        throw new Error(
          `fake AMA: ${violations.length} problem(s) in records AMA would not take:\n${
            violations.join("\n")
          }`,
        );
      }
    },
  };
}

const USAGE = `fake-ama: a stand-in for the Azure Monitor Agent, for tests and trying ctagent without Azure.

  deno task fake-ama [--os linux|windows] [--config @name] [--data @name ...] [--dcr FILE]
                     [--ndjson FILE] [--behaviour ok|fail|garbage|truncated|huge|hang|close] [--no-ack]

Defaults (AMA's own): Linux config @CAgentStream_CloudAgentInfo_config_default_fluent.socket,
  data @CAgentStream_CloudAgentInfo_ChangeTracking-Linux_default_fluent.socket; Windows config
  \\\\.\\pipe\\CAgentStream_CloudAgentInfo_AzureMonitorAgent, data a pipe per stream named in the reply.
Endpoints: @abstract, /path/to.sock, unix:///path, tcp://127.0.0.1:24224.
Every event is printed as one JSON line on stdout (or appended to --ndjson); a summary goes to stderr, and so
does every record AMA's tables would not take as it is (an unknown column, an undocumented value).`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      os: { type: "string", default: "linux" },
      config: { type: "string" },
      data: { type: "string", multiple: true },
      dcr: { type: "string" },
      ndjson: { type: "string" },
      behaviour: { type: "string", default: "ok" },
      "no-ack": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return console.log(USAGE);
  if (values.os !== "linux" && values.os !== "windows") {
    throw new TypeError(`--os must be linux or windows, got ${JSON.stringify(values.os)}`);
  }
  const behaviours = ["ok", "fail", "garbage", "truncated", "huge", "hang", "close"];
  if (!behaviours.includes(values.behaviour)) {
    throw new TypeError(
      `--behaviour must be one of ${behaviours.join(", ")}, got ${JSON.stringify(values.behaviour)}`,
    );
  }
  const os = values.os as Platform;
  // AMA's own endpoints by default (SPEC §4.1); on Windows the data pipes are one per stream, named in the reply.
  const config = values.config ??
    (os === "linux"
      ? "@CAgentStream_CloudAgentInfo_config_default_fluent.socket"
      : "\\\\.\\pipe\\CAgentStream_CloudAgentInfo_AzureMonitorAgent");
  const data = values.data ??
    (os === "linux"
      ? ["@CAgentStream_CloudAgentInfo_ChangeTracking-Linux_default_fluent.socket"]
      : undefined);
  const settings = values.dcr ? settingsFromDcr(JSON.parse(await Deno.readTextFile(values.dcr)), os) : {};
  const enc = new TextEncoder();
  const ama = await startFakeAma({
    os,
    config,
    data,
    settings,
    behaviour: values.behaviour as ConfigBehaviour,
    ack: !values["no-ack"],
    ndjson: values.ndjson,
    onEvent: values.ndjson ? undefined : (e) =>
      Deno.stdout.writeSync(enc.encode(
        JSON.stringify({
          endpoint: e.endpoint,
          mode: e.mode,
          tag: e.tag,
          time: isEventTime(e.time) ? { sec: e.time.sec, nsec: e.time.nsec } : e.time,
          record: e.record,
        }) + "\n",
      )),
  });
  console.error(`fake-ama: config on ${ama.configEndpoint}, data on ${ama.dataEndpoints.join(", ")}`);
  console.error(`fake-ama: tags ${Object.values(ama.outputStreams).join(", ")}`);
  let last = "";
  let shown = 0;
  const timer = setInterval(() => {
    for (; shown < ama.violations.length; shown++) {
      console.error(`fake-ama: violation: ${ama.violations[shown]}`);
    }
    const s = ama.summary();
    if (s !== last) console.error(`fake-ama: ${new Date().toISOString()} ${s}`);
    last = s;
  }, 2000);
  const stop = async () => {
    clearInterval(timer);
    console.error(`fake-ama: ${ama.summary()}`);
    await ama.close().catch((e) => console.error(`fake-ama: ${(e as Error).message}`));
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}

if (import.meta.main) await main();
