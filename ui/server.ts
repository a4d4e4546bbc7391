// The local page's server: Hono app with the security guards, the API and the embedded page; startUi() serves it.
import { type Context, Hono } from "hono";
import { createHash, randomBytes } from "node:crypto";
import { hostname as osHostname } from "node:os";
import { Kysely } from "kysely";
import type { Db, OpenedDb } from "../db/open.ts";
import type { Logger } from "../agent/log.ts";
import type { Host } from "../agent/host/mod.ts";
import type { Agent } from "../agent/agent.ts";
import type { CollectorSpec } from "../agent/collectors/types.ts";
import { VERSION } from "../agent/version.ts";
import { outboxStatus } from "../db/outbox.ts";
import { type AgentStatus, createApi, type Scheduler } from "./api.ts";
import type { RunRow } from "./queries.ts";
import { type Assets, loadAssets } from "./assets.ts";
import { collectorCss, pageCollectorsAttribute } from "./collectors.ts";
import { COLLECTORS } from "../agent/collectors/mod.ts";
import {
  allowedHosts,
  hostGuard,
  isLoopback,
  type Listen,
  listenProblem,
  parseListen,
  securityHeaders,
  writeGuard,
} from "./security.ts";
import { type PageAuth, pageAuth } from "./auth.ts";
import { pageTokenSource } from "./token.ts";
import { type ContentGate, contentGate } from "./privacy.ts";
import { verbatim } from "../agent/log.ts";

export const DEFAULT_LISTEN = "127.0.0.1:8470";

export interface UiOptions {
  /** The state database (an opened one or its Kysely handle). */
  db: OpenedDb | Db;
  scheduler?: Scheduler;
  status?: () => AgentStatus | Promise<AgentStatus>;
  log?: Logger;
  now?: () => number;
  scanWaitMs?: number;
  /** Which captured contents may be shown (startUi: by the agent's settings in force). */
  contents?: ContentGate;
  /** The collectors the page shows (default: every collector). */
  collectors?: readonly CollectorSpec[];
}

export interface AppOptions extends UiOptions {
  assets: Assets;
  /** The Host header values answered (others are refused). */
  hosts: () => Set<string>;
  /** Sign-in of every request; null only with --no-auth (the page then says so on every view). */
  auth: PageAuth | null;
  /** The token state-changing requests must carry (derived from the sign-in token when there is one). */
  writeToken: () => string;
  scheme?: "http" | "https";
}

function kysely(db: OpenedDb | Db): Db {
  return db instanceof Kysely ? db : db.db;
}

/** The whole app, for tests (`app.request()`) and for startUi(). */
export function createApp(opts: AppOptions): Hono {
  const app = new Hono();
  app.use("*", securityHeaders());
  app.use("*", hostGuard(opts.hosts));
  app.use("*", async (c, next) => {
    const m = c.req.method;
    if (m !== "GET" && m !== "HEAD" && !(m === "POST" && c.req.path.startsWith("/api/"))) {
      return c.text("Method not allowed\n", 405);
    }
    await next();
  });
  // Before any route (unknown ones too): without a session nothing but the sign-in page is answered.
  if (opts.auth) app.use("*", opts.auth.middleware);
  app.use("/api/*", writeGuard(opts.writeToken, opts.scheme));
  app.use("/api/*", async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
  });
  app.route("/api", createApi({ ...opts, db: kysely(opts.db), auth: opts.auth ? "token" : "off" }));

  const { assets } = opts;
  const specs = opts.collectors ?? COLLECTORS;
  // The write token and the collectors travel in meta tags (no inline script under the CSP); the token is hex,
  // safe in an attribute, the collectors' JSON is escaped for one.
  const html = assets.html.replace("__CTAGENT_COLLECTORS__", () => pageCollectorsAttribute(specs));
  const css = assets.css + collectorCss(specs);
  const hash = createHash("sha256").update(assets.hash).update(css).digest("hex").slice(0, 16);
  const page = (c: Context) => {
    c.header("Cache-Control", "no-store");
    return c.html(html.replace("__CTAGENT_TOKEN__", opts.writeToken()));
  };
  app.get("/", page);
  app.get("/index.html", page);
  const file = (body: string, type: string) => (c: Context) => {
    const etag = `"${hash}"`;
    const headers = { "Content-Type": type, ETag: etag, "Cache-Control": "no-cache" };
    if (c.req.header("if-none-match") === etag) return c.body(null, 304, headers);
    return c.body(body, 200, headers);
  };
  app.get("/app.js", file(assets.js, "text/javascript; charset=utf-8"));
  app.get("/app.css", file(css, "text/css; charset=utf-8"));
  app.get("/favicon.svg", file(FAVICON, "image/svg+xml"));
  app.notFound((c) => c.text("Not found\n", 404));
  return app;
}

const FAVICON =
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#2563eb"/><path d="M4 11l3-3 2 2 3-4" stroke="#fff" stroke-width="1.6" fill="none"/></svg>`;

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
  app: Hono;
  stop(): Promise<void>;
}

export interface StartOptions extends UiOptions {
  /** `HOST:PORT` or the parsed form; default 127.0.0.1:8470, port 0 picks a free one. */
  listen?: string | Listen;
  /** The running agent: "scan now" and the live status come from it (unless scheduler/status are given). */
  agent?: Pick<Agent, "scheduler" | "config"> & Partial<Pick<Agent, "unrecorded">>;
  host?: Pick<Host, "hostname" | "osName"> & Partial<Pick<Host, "os" | "path">>;
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
  if (opts.agent) {
    const agent = opts.agent;
    opts = {
      ...opts,
      contents: opts.contents ?? contentGate({
        settings: () => agent.config().settings.fileSettings,
        os: opts.host?.os ?? (Deno.build.os === "windows" ? "windows" : "linux"),
        hostPath: opts.host?.path,
      }),
      scheduler: opts.scheduler ?? opts.agent.scheduler,
      status: opts.status ??
        agentStatus(opts.agent, kysely(opts.db), {
          hostname: opts.host?.hostname ?? osHostname(),
          os: await opts.host?.osName(),
          startedAt: Date.now(),
          delivery: opts.delivery,
        }),
    };
  }
  const assets = opts.assets ?? await loadAssets();
  if ("built" in assets && !assets.built) {
    opts.log?.warn("the page's assets were not built; the page only says how to build them", {
      fix: "deno task bundle:ui",
    });
  }
  const warn = (msg: string, fields: Record<string, unknown>) => opts.log?.warn(msg, fields);
  const token = opts.noAuth
    ? undefined
    : opts.dataDir !== undefined
    ? pageTokenSource(opts.dataDir, warn).current
    : (() => {
      const t = randomBytes(32).toString("hex");
      return () => t;
    })();
  const scheme = opts.tls ? "https" : "http";
  let hosts = new Set<string>();
  let port = listen.port;
  const auth = token ? pageAuth({ token, secure: !!opts.tls, port: () => port, log: opts.log }) : null;
  // Without sign-in the write token is one per start, as before sign-in existed.
  const perStart = randomBytes(24).toString("hex");
  const writeToken = auth ? auth.writeToken : () => perStart;
  const app = createApp({ ...opts, assets, auth, writeToken, scheme, hosts: () => hosts });
  const ac = new AbortController();
  const server = Deno.serve({
    hostname: listen.hostname.replace(/^\[|\]$/g, ""),
    port: listen.port,
    signal: ac.signal,
    onListen: () => {},
    ...(opts.tls ? { cert: opts.tls.cert, key: opts.tls.key } : {}),
  }, app.fetch);
  port = (server.addr as Deno.NetAddr).port;
  const bound = { hostname: listen.hostname, port };
  hosts = allowedHosts(bound, osHostname());
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
  });
  return {
    url,
    signInUrl,
    listen: bound,
    token: writeToken(),
    auth,
    app,
    stop: async () => {
      ac.abort();
      await server.finished;
    },
  };
}
