// Asks AMA for the Change Tracking configuration (AgentTaggedData, SPEC §4.2) and checks the reply's envelope.
import { encode as msgpackEncode } from "@msgpack/msgpack";
import type { Platform } from "../platform.ts";
import type { Logger } from "../log.ts";
import { connect, type Connection, type Endpoint, parseEndpoint, TransportError } from "./transport.ts";

/** Where AMA answers config requests, tried in order (SPEC §4.1; the filesystem form is newer mdsd). */
export const CONFIG_ENDPOINTS: Record<Platform, readonly string[]> = {
  linux: [
    "@CAgentStream_CloudAgentInfo_config_default_fluent.socket",
    "/run/azuremonitoragent/CAgentStream_CloudAgentInfo_AzureMonitorAgent",
  ],
  windows: ["\\\\.\\pipe\\CAgentStream_CloudAgentInfo_AzureMonitorAgent"],
};

/** The Tag of the request: the CT extension name for the OS. */
export const CONFIG_TAGS: Record<Platform, string> = {
  linux: "ChangeTracking-Linux",
  windows: "ChangeTracking-Windows",
};

export const DEFAULT_CONFIG_TIMEOUT_MS = 10_000;
/** A CT DCR is kilobytes; anything past this is not a config reply. */
export const DEFAULT_MAX_REPLY_BYTES = 8 * 1024 * 1024;

export class AmaConfigError extends Error {
  override name = "AmaConfigError";
  constructor(message: string, readonly endpoint?: string, options?: ErrorOptions) {
    super(message, options);
  }
}

export interface ConfigRequest {
  Request: "AgentTaggedData";
  RequestId: string;
  Tag: string;
  Version: "1";
}

/** The request bytes: on Linux the JSON as one msgpack str, on Windows the raw JSON (as Container Insights). */
export function encodeConfigRequest(os: Platform, request: ConfigRequest): Uint8Array {
  const json = JSON.stringify(request);
  return os === "linux" ? msgpackEncode(json) : new TextEncoder().encode(json);
}

/** AMA's answer: the envelope plus `TaggedData` parsed. */
export interface ConfigReply {
  Success: true;
  Description?: string;
  RequestId?: string;
  /** The parsed `TaggedData`: {schemaVersion, extensionConfigurations, outputStreamDefinitions, ...}. */
  taggedData: Record<string, unknown>;
  /** The reply text exactly as received (what the config loader stores and parses). */
  text: string;
}

function preview(text: string): string {
  const s = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  return JSON.stringify(s);
}

/** Checks an AgentTaggedData reply text; throws AmaConfigError saying what is wrong. */
export function parseConfigReply(text: string, where = "AMA"): ConfigReply {
  let envelope: unknown;
  try {
    envelope = JSON.parse(text);
  } catch (e) {
    throw new AmaConfigError(
      `Cannot parse the config reply from ${where}: not JSON (${(e as Error).message}); starts ${
        preview(text)
      }`,
      where,
    );
  }
  if (typeof envelope !== "object" || envelope === null || Array.isArray(envelope)) {
    throw new AmaConfigError(`Config reply from ${where} is not a JSON object: ${preview(text)}`, where);
  }
  const env = envelope as Record<string, unknown>;
  if (env.Success !== true) {
    const desc = typeof env.Description === "string" && env.Description
      ? env.Description
      : "(no Description)";
    throw new AmaConfigError(
      `AMA at ${where} refused the config request: Success=${JSON.stringify(env.Success)}, Description=${
        JSON.stringify(desc)
      } (is a Change Tracking DCR associated with this machine?)`,
      where,
    );
  }
  const raw = env.TaggedData;
  let tagged: unknown = raw;
  if (typeof raw === "string") {
    try {
      tagged = JSON.parse(raw);
    } catch (e) {
      throw new AmaConfigError(
        `Config reply from ${where}: TaggedData is not JSON (${(e as Error).message}); starts ${
          preview(raw)
        }`,
        where,
      );
    }
  }
  if (typeof tagged !== "object" || tagged === null || Array.isArray(tagged)) {
    throw new AmaConfigError(
      `Config reply from ${where}: TaggedData must be a JSON object, got ${
        preview(JSON.stringify(raw) ?? "")
      }`,
      where,
    );
  }
  return {
    Success: true,
    Description: typeof env.Description === "string" ? env.Description : undefined,
    RequestId: typeof env.RequestId === "string" ? env.RequestId : undefined,
    taggedData: tagged as Record<string, unknown>,
    text,
  };
}

/** Length of a msgpack str at the start of `b` ([header bytes, payload bytes]), or undefined if not a str. */
function msgpackStrHeader(b: Uint8Array): [number, number] | undefined | "short" {
  const t = b[0];
  if (t >= 0xa0 && t <= 0xbf) return [1, t & 0x1f];
  const size = t === 0xd9 ? 1 : t === 0xda ? 2 : t === 0xdb ? 4 : 0;
  if (!size) return undefined;
  if (b.length < 1 + size) return "short";
  let n = 0;
  for (let i = 1; i <= size; i++) n = n * 256 + b[i];
  return [1 + size, n];
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Whether `buf` holds a whole reply: JSON text that parses, or one msgpack str (AMA on Linux might frame its
 * answer as it frames requests). Returns the reply text when complete, undefined while more may come.
 * Throws for bytes that cannot start a reply.
 */
export function completeReply(buf: Uint8Array, where: string): string | undefined {
  let i = 0;
  while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x0a || buf[i] === 0x0d || buf[i] === 0x09)) i++;
  if (i === buf.length) return undefined;
  const first = buf[i];
  if (first === 0x7b /* { */) {
    let j = buf.length - 1;
    while (
      j > i && (buf[j] === 0x20 || buf[j] === 0x0a || buf[j] === 0x0d || buf[j] === 0x09 || buf[j] === 0)
    ) j--;
    if (buf[j] !== 0x7d /* } */) return undefined;
    let text: string;
    try {
      text = decoder.decode(buf.subarray(i, j + 1));
    } catch {
      return undefined; // a UTF-8 sequence cut at a chunk boundary; wait for the rest
    }
    try {
      JSON.parse(text);
      return text;
    } catch {
      return undefined;
    }
  }
  const head = msgpackStrHeader(buf.subarray(i));
  if (head === "short") return undefined;
  if (head) {
    const [h, n] = head;
    if (buf.length - i < h + n) return undefined;
    try {
      return decoder.decode(buf.subarray(i + h, i + h + n));
    } catch {
      throw new AmaConfigError(`Config reply from ${where} is a msgpack str that is not valid UTF-8`, where);
    }
  }
  const hex = Array.from(buf.subarray(i, i + 8), (x) => x.toString(16).padStart(2, "0")).join(" ");
  throw new AmaConfigError(
    `Config reply from ${where} is neither JSON nor a msgpack str: starts with bytes ${hex}`,
    where,
  );
}

export interface ConfigClientOptions {
  os: Platform;
  /** Endpoints to try in order; default CONFIG_ENDPOINTS[os]. */
  endpoints?: readonly string[];
  tag?: string;
  /** Deadline for connect + request + whole reply, per endpoint. */
  timeoutMs?: number;
  maxReplyBytes?: number;
  log?: Logger;
  connectFn?: typeof connect;
  /** Stops the request (the process is stopping): the connection is closed, the request fails at once. */
  signal?: AbortSignal;
}

async function askOne(ep: Endpoint, opts: ConfigClientOptions): Promise<ConfigReply> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_CONFIG_TIMEOUT_MS;
  const maxBytes = opts.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES;
  // Elapsed time: a clock set back during the request must not stretch its deadline by as much.
  const deadline = performance.now() + timeoutMs;
  const left = () => Math.max(1, deadline - performance.now());
  const request: ConfigRequest = {
    Request: "AgentTaggedData",
    RequestId: crypto.randomUUID(),
    Tag: opts.tag ?? CONFIG_TAGS[opts.os],
    Version: "1",
  };
  let conn: Connection;
  try {
    conn = await (opts.connectFn ?? connect)(ep, { timeoutMs: left(), signal: opts.signal });
  } catch (e) {
    throw new AmaConfigError(`Cannot ask AMA for config: ${(e as Error).message}`, ep.label, { cause: e });
  }
  const onAbort = () => conn.close();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await conn.write(encodeConfigRequest(opts.os, request), left());
    const chunks: Uint8Array[] = [];
    let size = 0;
    while (true) {
      let chunk: Uint8Array | null;
      try {
        chunk = await conn.read(left());
      } catch (e) {
        if (e instanceof TransportError && e.code === "ETIMEDOUT") {
          throw new AmaConfigError(
            size
              ? `Config reply from ${ep.label} incomplete after ${timeoutMs} ms (${size} bytes received)`
              : `No config reply from ${ep.label} within ${timeoutMs} ms`,
            ep.label,
          );
        }
        throw new AmaConfigError(`Config request to ${ep.label} failed: ${(e as Error).message}`, ep.label);
      }
      if (chunk === null) {
        if (opts.signal?.aborted) throw new AmaConfigError(`Config request to ${ep.label} stopped`, ep.label);
        const buf = concat(chunks, size);
        const text = size ? completeReply(buf, ep.label) : undefined;
        if (text !== undefined) return parseConfigReply(text, ep.label);
        throw new AmaConfigError(
          size
            ? `Config reply from ${ep.label} cut short: the connection closed after ${size} bytes of an incomplete reply`
            : `AMA at ${ep.label} closed the connection without replying`,
          ep.label,
        );
      }
      size += chunk.byteLength;
      if (size > maxBytes) {
        throw new AmaConfigError(
          `Config reply from ${ep.label} exceeds ${maxBytes} bytes; refused (a CT configuration is a few KB)`,
          ep.label,
        );
      }
      chunks.push(chunk);
      // Joining and parsing only when the reply may be whole keeps a large reply linear to read.
      if (chunks.length === 1 || mayBeComplete(chunks[0], chunk, size)) {
        const text = completeReply(concat(chunks, size), ep.label);
        if (text !== undefined) return parseConfigReply(text, ep.label);
      }
    }
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    conn.close();
  }
}

/** Cheap test on the newest chunk: a JSON reply can only be whole when it ends with "}", a str when long enough. */
function mayBeComplete(first: Uint8Array, last: Uint8Array, size: number): boolean {
  const head = msgpackStrHeader(first);
  if (head && head !== "short") return size >= head[0] + head[1];
  let j = last.length - 1;
  while (
    j >= 0 && (last[j] === 0x20 || last[j] === 0x0a || last[j] === 0x0d || last[j] === 0x09 || last[j] === 0)
  ) j--;
  return j < 0 || last[j] === 0x7d;
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  chunks.splice(0, chunks.length, out);
  return out;
}

/**
 * Asks each endpoint in turn and returns the first good reply. When all fail, throws the most telling error:
 * an answer that was wrong beats "nobody there".
 */
export async function requestAmaConfig(
  opts: ConfigClientOptions,
): Promise<ConfigReply & { endpoint: string }> {
  const endpoints = opts.endpoints ?? CONFIG_ENDPOINTS[opts.os];
  if (!endpoints.length) throw new AmaConfigError("No AMA config endpoint configured");
  const errors: AmaConfigError[] = [];
  for (const text of endpoints) {
    opts.signal?.throwIfAborted();
    const ep = parseEndpoint(text);
    try {
      const reply = await askOne(ep, opts);
      return { ...reply, endpoint: ep.label };
    } catch (e) {
      const err = e instanceof AmaConfigError ? e : new AmaConfigError(String(e), ep.label, { cause: e });
      errors.push(err);
      opts.log?.debug("AMA config endpoint failed", { endpoint: ep.label, error: err.message });
    }
  }
  const answered = errors.find((e) => !(e.cause instanceof TransportError));
  if (answered) throw answered;
  const why = errors.map((e) => {
    const code = e.cause instanceof TransportError ? e.cause.code : undefined;
    return `${e.endpoint}${code ? ` (${code})` : ""}`;
  });
  throw new AmaConfigError(
    `AMA is not there: nothing answers config requests at ${why.join(" or ")}`,
    errors[0]?.endpoint,
  );
}
