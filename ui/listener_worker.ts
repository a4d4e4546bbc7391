// The page's listener: a small worker that always runs, holds the page's socket and hands each request to the
// page's worker (worker_page.ts: started on demand, stopped when idle), so the agent's thread never sees a
// request and a busy run delays no answer; a request the page's sign-in would refuse it refuses itself, as the page
// would (gate.ts). It imports no Hono app, SQLite or index: Deno.serve, the page's guards and messages only.
// "Scan now", acknowledgements and the live status are asked of the agent's thread, which answers when free; it
// also starts and ends the page's worker when asked (page_channel.ts), which then talks to this one directly.
import type { Level } from "../agent/log.ts";
import type { Ack, AckInput } from "../db/acks.ts";
import type { AgentStatus } from "./api.ts";
import type { PageWorkerInit } from "./page_worker.ts";
import type { FilePrivacySettings } from "./privacy.ts";
import type { Listen } from "./security.ts";
import { listenOn } from "./listen.ts";
import { workerPage } from "./worker_page.ts";
import { remotePages, type SpawnNews, type SpawnRequest } from "./page_channel.ts";
import { type GateSignIn, signInGate, signsIn } from "./gate.ts";
import {
  failureLimiter,
  sameSecretWeb,
  sessionMacWeb,
  signIn,
  tokenFileOf,
  tokenFileReader,
} from "./sign_in.ts";
import { releaseUnusedMemory, trimNativeHeap } from "../agent/host/memory.ts";

/** What the listener is started with (plain data). */
export interface ListenerInit {
  listen: Listen;
  tls?: { cert: string; key: string };
  /** page_worker.ts's address (see WorkerPageOptions.workerUrl). */
  pageWorkerUrl: string;
  /** The page worker's start (its `listen` is the bound address, set here). */
  page: Omit<PageWorkerInit, "listen">;
  /** Whether the agent's thread runs "scan now" / reports a live status. */
  scan: boolean;
  status: boolean;
  /** The live status and file settings at the start (then refreshed while the page's worker runs). */
  live: Live;
  idleMs?: number;
  /** How long it waits for the agent's thread to start a page's worker (page_channel.ts's SPAWN_WAIT_MS). */
  spawnWaitMs?: number;
}

export interface Live {
  status?: AgentStatus;
  files?: FilePrivacySettings;
}

export type Failure = { name: string; message: string };

export type ToListener =
  | { type: "init"; init: ListenerInit }
  | SpawnNews
  | { type: "live"; id: number; live: Live }
  | { type: "scanned"; id: number; error?: Failure }
  | { type: "acked"; id: number; ack?: Ack; error?: Failure }
  | { type: "stop" };

export type FromListener =
  | { type: "listening"; listen: Listen }
  | { type: "failed"; error: Failure }
  | { type: "running"; running: boolean }
  | { type: "log"; level: Level; msg: string; fields?: Record<string, unknown> }
  | { type: "live"; id: number }
  | { type: "scan"; id: number; collector?: string }
  | { type: "ack"; id: number; input: AckInput }
  | { type: "stopped" }
  | SpawnRequest;

// deno-lint-ignore no-explicit-any
const self_ = globalThis as any;
const post = (m: FromListener, transfer: Transferable[] = []) => self_.postMessage(m, transfer);

/** Questions to the agent's thread, each answered by a message with its id. */
const asked = new Map<number, (m: ToListener) => void>();
let nextId = 1;
const ask = (m: (id: number) => FromListener) =>
  new Promise<ToListener>((resolve) => {
    const id = nextId++;
    asked.set(id, resolve);
    post(m(id));
  });
const failure = (e: Failure) => Object.assign(new Error(e.message), { name: e.name });

const log = (level: Level) => (msg: string, fields?: Record<string, unknown>) => {
  const plain = fields && Object.fromEntries(
    Object.entries(fields).map(([k, v]) => [k, v instanceof Error ? v.message : v]),
  );
  post({ type: "log", level, msg, fields: plain });
};
const logger = { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };

/** The page's workers, started by the agent's thread (page_channel.ts says why), or here when it is busy. */
let pages: ReturnType<typeof remotePages> | undefined;

let stop: (() => Promise<void>) | undefined;

/**
 * The gate's sign-in: the page's, with a failure limiter of its own (the page's worker sees no failure then, but
 * when the token's file is not as the page would trust it: the page judges those), and the token as the page
 * reads it: the one for this start, or the data directory's file.
 */
function gateSignIn(page: { dataDir?: string; token?: string }): GateSignIn {
  const token = page.token;
  return {
    check: signIn({ limiter: failureLimiter(), compare: sameSecretWeb, mac: sessionMacWeb(), log: logger }),
    token: token !== undefined ? () => token : tokenFileReader(tokenFileOf(page.dataDir!)),
  };
}

function start(init: ListenerInit) {
  pages = remotePages(
    post,
    init.spawnWaitMs,
    () => logger.debug("the agent's thread is busy: the page's worker is started by the listener"),
  );
  let live = init.live;
  // One refresh at a time; the page gets the last answer at once, so a busy agent thread delays no start.
  let refreshing = false;
  const refresh = () => {
    if (refreshing) return;
    refreshing = true;
    ask((id) => ({ type: "live", id })).then((m) => {
      if (m.type === "live") live = m.live;
    }).finally(() => refreshing = false);
  };
  // Requests are answered from the next turn on, once `page` and `gate` are made. One the page's sign-in would
  // refuse is answered here as the page would (gate.ts): only the page's users start its worker.
  const server = listenOn(
    init.listen,
    init.tls,
    async (req, info) => (await gate?.(req, info.remoteAddr.hostname)) ?? page.fetch(req, info.remoteAddr),
  );
  const gate = signsIn(init.page)
    ? signInGate({ listen: server.listen, secure: init.page.tls, signIn: gateSignIn(init.page) })
    : undefined;
  const page = workerPage({
    workerUrl: init.pageWorkerUrl,
    spawn: pages.spawn,
    init: { ...init.page, listen: server.listen },
    scheduler: init.scan
      ? {
        scanNow: async (collector?: string) => {
          const m = await ask((id) => ({ type: "scan", id, collector }));
          if (m.type === "scanned" && m.error) throw failure(m.error);
        },
      }
      : undefined,
    status: init.status
      ? () => {
        refresh();
        return live.status!;
      }
      : undefined,
    files: () => live.files,
    acknowledge: async (input) => {
      const m = await ask((id) => ({ type: "ack", id, input }));
      if (m.type !== "acked" || !m.ack) {
        throw failure(m.type === "acked" && m.error || { name: "Error", message: "no answer" });
      }
      return m.ack;
    },
    log: logger as never,
    idleMs: init.idleMs,
    onRunning: (running) => post({ type: "running", running }),
    onReady: trimNativeHeap,
    onStopped: releaseUnusedMemory,
  });
  stop = async () => {
    await Promise.all([server.stop(), page.stop()]);
  };
  post({ type: "listening", listen: server.listen });
}

self_.onmessage = async (e: MessageEvent<ToListener>) => {
  const m = e.data;
  if (m.type === "init") {
    try {
      start(m.init);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      post({ type: "failed", error: { name: error.name, message: error.message } });
    }
  } else if (m.type === "stop") {
    await stop?.();
    post({ type: "stopped" });
    self_.close();
  } else if (m.type === "page-started" || m.type === "page-failed") pages?.news(m);
  else {
    const answer = asked.get(m.id);
    asked.delete(m.id);
    answer?.(m);
  }
};
