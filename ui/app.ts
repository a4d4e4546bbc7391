// The page's app (guards, sign-in, API, the embedded page) and serving it: the same in the agent's thread or the
// page's own worker (page_worker.ts), so it imports nothing of the agent's collectors or host.
import { type Context, Hono } from "hono";
import { createHash } from "node:crypto";
import { hostname as osHostname } from "node:os";
import { Kysely } from "kysely";
import type { Db, OpenedDb } from "../db/open.ts";
import type { Logger } from "../agent/log.ts";
import { type AgentStatus, createApi, type Scheduler } from "./api.ts";
import type { Assets } from "./assets.ts";
import { collectorCss, pageCollectorsAttribute, type UiCollector } from "./collectors.ts";
import { allowedHosts, hostGuard, type Listen, methodGuard, securityHeaders } from "./security.ts";
import { type PageAuth, pageAuth, writeGuard } from "./auth.ts";
import type { Limiter } from "./sign_in.ts";
import type { ContentGate } from "./privacy.ts";
import { changeFeed, type Feed } from "./events.ts";
import type { Platform } from "../agent/platform.ts";
import type { Ack, AckInput } from "../db/acks.ts";
import { listenOn } from "./listen.ts";

export { listenOn };

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
  /** The collectors the page shows (their specs, or what of them is plain data). */
  collectors: readonly UiCollector[];
  /** The OS of the machine shown. */
  os?: Platform;
  /** What open pages are told as it happens (made here when not given). */
  feed?: Feed;
  /** Writes an acknowledgement through the state's writer (absent: the page only reads). */
  acknowledge?: (input: AckInput) => Promise<Ack>;
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
  // The sign-in gate in front of the page's worker (gate.ts) answers as these four would: keep them in step.
  app.use("*", securityHeaders());
  app.use("*", hostGuard(opts.hosts));
  app.use("*", methodGuard());
  // Before any route (unknown ones too): without a session nothing but the sign-in page is answered.
  if (opts.auth) app.use("*", opts.auth.middleware);
  app.use("/api/*", writeGuard(opts.writeToken, opts.scheme));
  app.use("/api/*", async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
  });
  const db = kysely(opts.db);
  const feed = opts.feed ?? pageFeed(db, opts.status);
  app.route(
    "/api",
    createApi({ ...opts, db, feed, auth: opts.auth ? "token" : "off", cookieName: opts.auth?.cookieName }),
  );

  const { assets } = opts;
  const specs = opts.collectors;
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

/** The page's event feed: runs and acks from the database, and the live status of the collectors. */
export function pageFeed(db: Db, status: UiOptions["status"]): Feed {
  return changeFeed(db, {
    liveDigest: async () => {
      const live = await status?.();
      return JSON.stringify(
        live?.collectors?.map((
          c,
        ) => [c.name, c.enabled, c.running, c.nextRunAt, c.unrecordedRun?.finished_at]) ??
          [],
      );
    },
  });
}

const FAVICON =
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#2563eb"/><path d="M4 11l3-3 2 2 3-4" stroke="#fff" stroke-width="1.6" fill="none"/></svg>`;

export interface PageOptions extends UiOptions {
  assets: Assets;
  /** The sign-in token in force; absent: no sign-in (--no-auth). */
  token?: () => string;
  /** The write token without sign-in (one per start). */
  writeTokenWithoutAuth: string;
  /** Served over TLS: the session cookie is Secure. */
  tls?: boolean;
  /** The failed sign-ins counted so far (pageAuth's own otherwise). */
  limiter?: Limiter;
}

export interface Page {
  app: Hono;
  auth: PageAuth | null;
  writeToken: () => string;
  /** The Host header values it answers. */
  hosts(): Set<string>;
  feed: Feed;
}

/** The app with its sign-in and feed, answering for the address `listen()` (bound, or to be). */
export function page(opts: PageOptions, listen: () => Listen): Page {
  let hosts: { for: Listen; set: Set<string> } | undefined;
  const auth = opts.token
    ? pageAuth({
      token: opts.token,
      secure: !!opts.tls,
      port: () => listen().port,
      log: opts.log,
      limiter: opts.limiter,
    })
    : null;
  const writeToken = auth ? auth.writeToken : () => opts.writeTokenWithoutAuth;
  const feed = opts.feed ?? pageFeed(kysely(opts.db), opts.status);
  const hostsOf = () =>
    (hosts?.for === listen() ? hosts : hosts = {
      for: listen(),
      set: allowedHosts(listen(), osHostname()),
    }).set;
  const app = createApp({
    ...opts,
    feed,
    auth,
    writeToken,
    scheme: opts.tls ? "https" : "http",
    hosts: hostsOf,
  });
  return { app, auth, writeToken, hosts: hostsOf, feed };
}

export interface ServeOptions extends Omit<PageOptions, "tls"> {
  listen: Listen;
  /** Certificate and key (PEM text): HTTPS. */
  tls?: { cert: string; key: string };
}

export interface ServedPage extends Page {
  /** The address bound (the port chosen when 0 was asked for). */
  listen: Listen;
  stop(): Promise<void>;
}

/** Serves the app on `listen` in this thread. */
export function servePage(opts: ServeOptions): ServedPage {
  let bound = opts.listen;
  const p = page({ ...opts, tls: !!opts.tls }, () => bound);
  const server = listenOn(opts.listen, opts.tls, p.app.fetch);
  bound = server.listen;
  return {
    ...p,
    listen: bound,
    stop: async () => {
      // Open event streams end first: the server waits for the requests it is answering.
      p.feed.close();
      await server.stop();
    },
  };
}
