// The page in a worker of its own: its app, read connection and inventory index, so the agent's busy thread (a
// baseline's walk and writes) never delays an answer. The listener worker hands it each request (bodies as
// streams, both ways), the live status and the file settings in force, on a port of their own when the agent's
// thread started it (page_channel.ts); the agent's thread runs "scan now" and writes acknowledgements for it.
import { join } from "node:path";
import { openReader } from "../db/open.ts";
import type { Level, Logger } from "../agent/log.ts";
import type { Platform } from "../agent/platform.ts";
import type { AgentStatus } from "./api.ts";
import type { Assets } from "./assets.ts";
import type { UiCollector } from "./collectors.ts";
import type { Listen } from "./security.ts";
import { contentGate, type FilePrivacySettings } from "./privacy.ts";
import { pageTokenSource } from "./token.ts";
import { page } from "./app.ts";
import { signsIn } from "./gate.ts";
import type { Ack, AckInput } from "../db/acks.ts";
import { listenerChannel } from "./page_channel.ts";

/** What the worker is started with (plain data). */
export interface PageWorkerInit {
  dbPath: string;
  /** The address the listener worker listens on (the Host header and the cookie's name depend on it). */
  listen: Listen;
  tls: boolean;
  /** The page token's directory; or `token`, one for this start; neither: no sign-in. */
  dataDir?: string;
  token?: string;
  writeTokenWithoutAuth: string;
  assets: Assets;
  collectors: UiCollector[];
  scanWaitMs?: number;
  /** Whether "scan now" is there to ask for. */
  scan: boolean;
  /** Whether acknowledgements can be written (by the agent's thread, which owns the state's writer). */
  review: boolean;
  os: Platform;
  /** The machine's root (--root): content is judged on the files under it. */
  root: string;
}

export type ToWorker =
  | { type: "init"; init: PageWorkerInit }
  | { type: "live"; status?: AgentStatus; files?: FilePrivacySettings }
  | { type: "scanned"; id: number; error?: { name: string; message: string } }
  | { type: "acked"; id: number; ack?: Ack; error?: { name: string; message: string } }
  | { type: "request"; id: number; request: PlainRequest }
  | { type: "stop" };

/** A request as it crosses to the worker (its body a transferred stream). */
export interface PlainRequest {
  method: string;
  url: string;
  headers: [string, string][];
  body: ReadableStream<Uint8Array> | null;
  remoteAddr: Deno.NetAddr;
}

/** An answer as it crosses back (its body a transferred stream). */
export interface PlainResponse {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: ReadableStream<Uint8Array> | null;
}

export type FromWorker =
  | { type: "ready" }
  | { type: "response"; id: number; response?: PlainResponse; error?: string }
  | { type: "failed"; message: string }
  | { type: "log"; level: Level; msg: string; fields?: Record<string, unknown> }
  | { type: "scan"; id: number; collector?: string }
  | { type: "ack"; id: number; input: AckInput }
  | { type: "stopped" };

/** Sends to the listener worker (set once this module runs as a worker). */
let post: (m: FromWorker, transfer?: Transferable[]) => void = () => {};

/** A logger whose lines the agent's logger writes (errors as their messages: they cross as plain data). */
function logger(fields: Record<string, unknown> = {}): Logger {
  const at = (level: Level) => (msg: string, more: Record<string, unknown> = {}) => {
    const all: Record<string, unknown> = {};
    for (const [k, v] of Object.entries({ ...fields, ...more })) all[k] = v instanceof Error ? v.message : v;
    post({ type: "log", level, msg, fields: all });
  };
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (more) => logger({ ...fields, ...more }),
  };
}

let live: { status?: AgentStatus; files?: FilePrivacySettings } = {};
const scans = new Map<number, { resolve(): void; reject(e: Error): void }>();
let nextScan = 1;
const acking = new Map<number, { resolve(a: Ack): void; reject(e: Error): void }>();
/** The error a request to the agent's thread came back with, as the class the API maps to a status. */
const rebuilt = (e: { name: string; message: string }) =>
  new (e.name === "RangeError" ? RangeError : e.name === "TypeError" ? TypeError : Error)(e.message);
let stop: (() => Promise<void>) | undefined;
let answer: ((id: number, r: PlainRequest) => Promise<void>) | undefined;

function start(init: PageWorkerInit) {
  const log = logger();
  const reader = openReader(init.dbPath);
  // Whether it signs in is the listener's decision too: its gate answers what the sign-in refuses, and this page
  // judges again what the gate let through.
  const token = !signsIn(init)
    ? undefined
    : init.dataDir !== undefined
    ? pageTokenSource(init.dataDir, (msg, f) => log.warn(msg, f)).current
    : () => init.token!;
  const served = page({
    db: reader,
    collectors: init.collectors,
    assets: init.assets,
    tls: init.tls,
    token,
    writeTokenWithoutAuth: init.writeTokenWithoutAuth,
    log,
    scanWaitMs: init.scanWaitMs,
    os: init.os,
    status: () => live.status ?? {},
    scheduler: init.scan
      ? {
        scanNow: (collector?: string) =>
          new Promise<void>((resolve, reject) => {
            const id = nextScan++;
            scans.set(id, { resolve, reject });
            post({ type: "scan", id, collector });
          }),
      }
      : undefined,
    acknowledge: init.review
      ? (input) =>
        new Promise<Ack>((resolve, reject) => {
          const id = nextScan++;
          acking.set(id, { resolve, reject });
          post({ type: "ack", id, input });
        })
      : undefined,
    contents: contentGate({
      settings: () => live.files,
      os: init.os,
      hostPath: init.root === "/" ? undefined : (p) => join(init.root, p),
    }),
  }, () => init.listen);
  answer = async (id, r) => {
    try {
      const res = await served.app.fetch(
        new Request(r.url, { method: r.method, headers: r.headers, body: r.body }),
        { remoteAddr: r.remoteAddr },
      );
      const body = res.body;
      post({
        type: "response",
        id,
        response: { status: res.status, statusText: res.statusText, headers: [...res.headers], body },
      }, body ? [body] : []);
    } catch (e) {
      post({ type: "response", id, error: (e as Error).message });
    }
  };
  stop = async () => {
    // Open event streams end first (the listener waits for them when it stops serving).
    served.feed.close();
    await reader.close();
  };
  post({ type: "ready" });
}

if ("WorkerGlobalScope" in globalThis) {
  post = listenerChannel<ToWorker, FromWorker>(async (m) => {
    if (m.type === "init") {
      try {
        start(m.init);
      } catch (err) {
        post({ type: "failed", message: (err as Error).message });
      }
    } else if (m.type === "live") live = { status: m.status, files: m.files };
    else if (m.type === "scanned") {
      const s = scans.get(m.id);
      scans.delete(m.id);
      if (!s) return;
      if (!m.error) s.resolve();
      else {
        // The scheduler's RangeError (a collector off or unknown) is the request's fault: the API says 400.
        const E = m.error.name === "RangeError" ? RangeError : Error;
        s.reject(new E(m.error.message));
      }
    } else if (m.type === "acked") {
      const a = acking.get(m.id);
      acking.delete(m.id);
      if (a) m.ack ? a.resolve(m.ack) : a.reject(rebuilt(m.error ?? { name: "Error", message: "no answer" }));
    } else if (m.type === "request") void answer?.(m.id, m.request);
    else if (m.type === "stop") {
      await stop?.();
      post({ type: "stopped" });
    }
  });
}
