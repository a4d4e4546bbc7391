// The local page, started by the agent: a listener worker holds the socket and hands each request to the page's
// worker (listener_worker.ts, worker_page.ts: started on the first request with a credential, stopped when idle),
// so no request waits for the agent's thread; or all in the calling thread (tests, an in-memory database).
import type { Hono } from "hono";
import { randomBytes } from "node:crypto";
import { hostname as osHostname } from "node:os";
import { Kysely } from "kysely";
import { type Db, type OpenedDb, openReader } from "../db/open.ts";
import type { Host } from "../agent/host/mod.ts";
import type { Agent } from "../agent/agent.ts";
import type { Platform } from "../agent/platform.ts";
import { VERSION } from "../agent/version.ts";
import { outboxStatus } from "../db/outbox.ts";
import type { AgentStatus } from "./api.ts";
import type { RunRow } from "./queries.ts";
import { type Assets, loadAssets } from "./assets.ts";
import { type UiCollector, uiCollectors } from "./collectors.ts";
import { COLLECTORS } from "../agent/collectors/mod.ts";
import {
  allowedHosts,
  DEFAULT_LISTEN,
  isLoopback,
  type Listen,
  listenProblem,
  parseListen,
} from "./security.ts";
import { type PageAuth, pageAuth } from "./auth.ts";
import { pageTokenSource } from "./token.ts";
import { contentGate, type FilePrivacySettings } from "./privacy.ts";
import type { UiOptions } from "./app.ts";
import { type ListenerOptions, startListener } from "./listener.ts";
import { verbatim } from "../agent/log.ts";
import { type AckInput, acknowledge } from "../db/acks.ts";

export interface RunningUi {
  /** The page's address, e.g. http://127.0.0.1:8470/ */
  url: string;
  /** The address that signs a browser in (the page token in its query); `url` with --no-auth. */
  signInUrl: string;
  listen: Listen;
  /** The write token the page's POSTs carry. */
  token: string;
  /** Sign-in (null with --no-auth): tests make sessions with it. */
  auth: PageAuth | null;
  /** Where it is served from. */
  thread: "worker" | "main";
  /** Whether the page's worker is running now (started on the first request with a credential, stopped when idle). */
  workerRunning(): boolean;
  /** How many page workers this thread runs for the listener (0 when the page runs in this thread). */
  pageWorkers(): number;
  /**
   * Answers a request in this thread, for tests (Hono's `app.request`): by the served app, unless the page runs
   * in a worker; then by one made when first asked for (so the daemon's thread never loads the page's code).
   */
  request(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

export interface StartOptions extends Omit<UiOptions, "collectors" | "db"> {
  /** The state database: an opened one (a file: the page reads it on a connection of its own), or Kysely. */
  db: OpenedDb | Db;
  /** The collectors the page shows (default: every collector). */
  collectors?: readonly UiCollector[];
  /** `HOST:PORT` or the parsed form; default 127.0.0.1:8470, port 0 picks a free one. */
  listen?: string | Listen;
  /** The running agent: "scan now" and the live status come from it (unless scheduler/status are given). */
  agent?:
    & { scheduler: Pick<Agent["scheduler"], "scanNow" | "status">; config: Agent["config"] }
    & Partial<Pick<Agent, "unrecorded" | "realtime">>;
  host?: Pick<Host, "hostname" | "osName"> & Partial<Pick<Host, "os" | "root" | "path">>;
  assets?: Assets;
  /** Live delivery facts from the sender (endpoint, reachable, last error); merged into the status. */
  delivery?: () => AgentStatus["delivery"];
  /** Where the page token lives (made at the first start); absent: a token for this start only. */
  dataDir?: string;
  /** No sign-in at all (throwaway test machines): a warning at start, a banner on every view. */
  noAuth?: boolean;
  /** Certificate and key (PEM text): the page is served over HTTPS. */
  tls?: { cert: string; key: string };
  /** Serve a non-loopback address without TLS (the sign-in crosses the network in clear). */
  insecureListen?: boolean;
  /**
   * "worker" (the default for a database file): the page's own thread and read connection. "main": this
   * thread (always for an in-memory database, or when `contents` or `now` are given: they do not cross).
   */
  thread?: "worker" | "main";
  /** How long the page's worker is kept with no request and no open stream (default 5 minutes). */
  pageIdleMs?: number;
  /** For tests: how a failed listener starts again, and a listener worker that can be made to fail. */
  listener?: Pick<ListenerOptions, "restart" | "workerUrl" | "spawnWaitMs" | "startWaitMs">;
}

/** The newest failed run of `collector` the agent keeps in memory because it could not store it. */
function unrecordedRun(agent: NonNullable<StartOptions["agent"]>, collector: string): RunRow | undefined {
  const s = agent.unrecorded?.().findLast((r) => r.collector === collector);
  return s && {
    id: 0,
    collector,
    started_at: s.startedAt,
    finished_at: s.finishedAt,
    status: s.status,
    counts: { ...s.counts },
    error: s.error ?? null,
    warnings: s.warnings,
  };
}

/** The live status the page shows, from the running agent. */
export function agentStatus(
  agent: NonNullable<StartOptions["agent"]>,
  db: Db,
  info: { hostname?: string; os?: string; startedAt: number; delivery?: StartOptions["delivery"] },
): () => Promise<AgentStatus> {
  return async () => {
    const outbox = await outboxStatus(db);
    const cfg = agent.config();
    return {
      version: VERSION,
      hostname: info.hostname,
      os: info.os,
      startedAt: info.startedAt,
      config: {
        source: cfg.source,
        origin: cfg.origin,
        dcrId: cfg.id,
        receivedAt: cfg.receivedAt || undefined,
        warnings: cfg.warnings,
      },
      collectors: agent.scheduler.status().map((c) => ({
        name: c.name,
        enabled: c.state === "enabled",
        frequency: c.frequency,
        nextRunAt: c.nextRunAt ?? null,
        running: c.running,
        unrecordedRun: unrecordedRun(agent, c.name),
      })),
      realtime: agent.realtime?.(),
      delivery: {
        dropped: outbox.dropped,
        droppedReason: "outbox bound reached",
        lastDeliveredAt: outbox.deliveredAt || null,
        ...info.delivery?.(),
      },
    };
  };
}

/**
 * Serves the page on `listen` (default 127.0.0.1:8470; port 0 picks a free one). Every request needs a
 * session (see auth.ts) unless `noAuth`. A non-loopback address needs TLS or `insecureListen`.
 */
export async function startUi(opts: StartOptions): Promise<RunningUi> {
  const listen = typeof opts.listen === "object" ? opts.listen : parseListen(opts.listen ?? DEFAULT_LISTEN);
  const problem = listenProblem(listen, {
    tls: !!opts.tls,
    insecureListen: opts.insecureListen,
    noAuth: opts.noAuth,
  });
  if (problem) throw new RangeError(problem);
  const file = !(opts.db instanceof Kysely) && opts.db.path !== ":memory:" ? opts.db.path : undefined;
  const thread = file && opts.thread !== "main" && !opts.contents && !opts.now ? "worker" : "main";
  const db = opts.db instanceof Kysely ? opts.db : opts.db.db;
  const os: Platform = opts.host?.os ?? (Deno.build.os === "windows" ? "windows" : "linux");
  const root = opts.host?.root ?? "/";
  const files = (): FilePrivacySettings | undefined => opts.agent?.config().settings.fileSettings;
  const scheduler = opts.scheduler ?? opts.agent?.scheduler;
  const status = opts.status ?? (opts.agent &&
    agentStatus(opts.agent, db, {
      // Read at each status: a host renamed while the agent runs shows its new name.
      get hostname() {
        return opts.host?.hostname ?? osHostname();
      },
      os: await opts.host?.osName(),
      startedAt: Date.now(),
      delivery: opts.delivery,
    }));
  const assets = opts.assets ?? await loadAssets();
  if ("built" in assets && !assets.built) {
    opts.log?.warn("the page's assets were not built; the page only says how to build them", {
      fix: "deno task bundle:ui",
    });
  }
  // Only the collectors this OS has (no Registry on Linux): a Windows image read with --root is Windows.
  // Acknowledgements go through the state's writer: this thread's connection (the page's own only reads).
  const ack = (input: AckInput) => acknowledge(db, input);
  const collectors = uiCollectors((opts.collectors ?? COLLECTORS).filter((c) => c.platforms.includes(os)));
  const warn = (msg: string, fields: Record<string, unknown>) => opts.log?.warn(msg, fields);
  const memoryToken = randomBytes(32).toString("hex");
  const token = opts.noAuth
    ? undefined
    : opts.dataDir !== undefined
    ? pageTokenSource(opts.dataDir, warn).current
    : () => memoryToken;
  // Without sign-in the write token is one per start (the same in the worker and here).
  const perStart = randomBytes(24).toString("hex");
  let bound: Listen = listen;
  // Here for tests (sessions, the write token); the page's worker signs in with the same token, so the same keys.
  const auth = token ? pageAuth({ token, secure: !!opts.tls, port: () => bound.port, log: opts.log }) : null;
  let stopServing: () => Promise<void>;
  let workerRunning = () => false;
  let pageWorkers = () => 0;
  let lazyApp: () => Promise<Hono>;
  if (thread === "main") {
    const { servePage } = await import("./app.ts");
    // The page reads on a connection of its own when it can: a run's write transaction keeps the agent's busy.
    const reader = file ? openReader(file) : undefined;
    const served = servePage({
      ...opts,
      db: reader ?? opts.db,
      collectors,
      scheduler,
      status,
      assets,
      listen,
      token,
      writeTokenWithoutAuth: perStart,
      os,
      acknowledge: ack,
      contents: opts.contents ?? contentGate({ settings: files, os, hostPath: opts.host?.path }),
    });
    bound = served.listen;
    stopServing = async () => {
      await served.stop();
      await reader?.close();
    };
    lazyApp = () => Promise.resolve(served.app);
  } else {
    // The listener worker holds the socket and the page's worker (started on demand): this thread only
    // answers "scan now", acknowledgements and the live status when asked.
    const listener = await startListener({
      init: {
        listen,
        tls: opts.tls,
        pageWorkerUrl: new URL("./page_worker.ts", import.meta.url).href,
        page: {
          dbPath: file!,
          tls: !!opts.tls,
          dataDir: opts.noAuth ? undefined : opts.dataDir,
          token: opts.noAuth || opts.dataDir !== undefined ? undefined : memoryToken,
          writeTokenWithoutAuth: perStart,
          assets,
          collectors,
          scanWaitMs: opts.scanWaitMs,
          scan: !!scheduler,
          review: true,
          os,
          root,
        },
        scan: !!scheduler,
        status: !!status,
        live: { status: await status?.(), files: files() },
        idleMs: opts.pageIdleMs,
      },
      scheduler,
      status,
      files,
      acknowledge: ack,
      log: opts.log,
      ...opts.listener,
    });
    bound = listener.listen;
    workerRunning = listener.running;
    pageWorkers = listener.pageWorkers;
    const hosts = allowedHosts(bound, osHostname());
    // For tests: the same app in this thread, on a read connection of its own, made when first asked for.
    let app: Promise<Hono> | undefined;
    let reader: OpenedDb | undefined;
    lazyApp = () =>
      app ??= import("./app.ts").then(({ createApp }) =>
        createApp({
          ...opts,
          db: reader = openReader(file!),
          collectors,
          scheduler,
          status,
          assets,
          auth,
          writeToken: () => auth?.writeToken() ?? perStart,
          scheme: opts.tls ? "https" : "http",
          os,
          acknowledge: ack,
          hosts: () => hosts,
          contents: contentGate({ settings: files, os, hostPath: opts.host?.path }),
        })
      );
    stopServing = async () => {
      // The worker ends its open event streams; the server waits for them.
      await listener.stop();
      await reader?.close();
    };
  }
  const scheme = opts.tls ? "https" : "http";
  const shown = bound.hostname.includes(":") && !bound.hostname.startsWith("[")
    ? `[${bound.hostname}]`
    : bound.hostname;
  const url = `${scheme}://${shown === "0.0.0.0" || shown === "[::]" ? "127.0.0.1" : shown}:${bound.port}/`;
  if (!isLoopback(listen.hostname)) {
    opts.log?.warn(
      opts.tls
        ? "the local page listens on a non-loopback address: other machines can reach it (over TLS, sign-in required)"
        : "the local page listens on a non-loopback address WITHOUT TLS (--insecure-listen): the sign-in token and session cookie cross the network in clear text",
      { listen: `${shown}:${bound.port}` },
    );
  }
  if (!auth) {
    opts.log?.warn(
      "the local page has NO sign-in (--no-auth): every local user can read the inventory and captured file contents; use this only on a throwaway test machine",
    );
  }
  const signInUrl = token ? `${url}?token=${token()}` : url;
  // The one place the token is logged: the journal is readable by root and adm only.
  opts.log?.info("local page ready: open this address to sign in (ctagent page-url prints it again)", {
    url: verbatim(signInUrl),
    thread,
  });
  return {
    url,
    signInUrl,
    listen: bound,
    token: auth?.writeToken() ?? perStart,
    auth,
    thread,
    workerRunning: () => workerRunning(),
    pageWorkers: () => pageWorkers(),
    request: async (path, init) => await (await lazyApp()).request(path, init),
    stop: stopServing,
  };
}
