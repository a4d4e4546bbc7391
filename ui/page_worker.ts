// The page in a worker of its own: its HTTP server, read connection and inventory index, so the agent's busy
// thread (a baseline's walk and writes) never delays an answer. The agent hands it the live status and the file
// settings in force, and runs "scan now" for it.
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
import { servePage } from "./app.ts";
import type { Ack, AckInput } from "../db/acks.ts";

/** What the worker is started with (plain data). */
export interface PageWorkerInit {
  dbPath: string;
  listen: Listen;
  tls?: { cert: string; key: string };
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
  | { type: "stop" };

export type FromWorker =
  | { type: "ready"; listen: Listen; hosts: string[] }
  | { type: "failed"; message: string }
  | { type: "log"; level: Level; msg: string; fields?: Record<string, unknown> }
  | { type: "scan"; id: number; collector?: string }
  | { type: "ack"; id: number; input: AckInput }
  | { type: "stopped" };

// deno-lint-ignore no-explicit-any
const self_ = globalThis as any;
const post = (m: FromWorker) => self_.postMessage(m);

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

function start(init: PageWorkerInit) {
  const log = logger();
  const reader = openReader(init.dbPath);
  const token = init.dataDir !== undefined
    ? pageTokenSource(init.dataDir, (msg, f) => log.warn(msg, f)).current
    : init.token !== undefined
    ? () => init.token!
    : undefined;
  const served = servePage({
    db: reader,
    collectors: init.collectors,
    assets: init.assets,
    listen: init.listen,
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
  });
  stop = async () => {
    await served.stop();
    await reader.close();
  };
  post({ type: "ready", listen: served.listen, hosts: [...served.hosts()] });
}

if ("WorkerGlobalScope" in globalThis) {
  self_.onmessage = async (e: MessageEvent<ToWorker>) => {
    const m = e.data;
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
    } else if (m.type === "stop") {
      await stop?.();
      post({ type: "stopped" });
    }
  };
}
