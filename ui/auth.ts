// Page sign-in: the token is exchanged once for a signed session cookie; every request needs one (or a Bearer token);
// and the write guard (same origin and the page's write token). How a request's credentials are read and how it is
// refused are in security.ts.
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import type { Logger } from "../agent/log.ts";
import { credentialsOf, refusal, requestHost, sessionCookieName } from "./security.ts";

/** How long a session lasts; rotating the token ends every session at once. */
export const SESSION_MS = 12 * 3600_000;

/**
 * Whether two secrets are equal, in time that does not depend on where they differ or on their lengths:
 * both are hashed to 32 bytes, which timingSafeEqual compares.
 */
export function sameSecret(a: string, b: string): boolean {
  const x = createHash("sha256").update(a).digest();
  const y = createHash("sha256").update(b).digest();
  return timingSafeEqual(x, y);
}

const b64url = (buf: Buffer) => buf.toString("base64url");

/** The keys derived from a token: one signs sessions, one is the page's write (CSRF) token. */
function keysOf(token: string): { session: Buffer; write: string } {
  return {
    session: createHmac("sha256", token).update("ctagent page session v1").digest(),
    write: createHmac("sha256", token).update("ctagent page write v1").digest("hex"),
  };
}

/** What a failure limiter has counted (plain data: the page's worker hands it over when it stops). */
export interface LimiterState {
  all: { n: number; since: number };
  byAddress: [string, { n: number; since: number }][];
}

/**
 * Failed sign-ins counted per remote address and in all, per window: past a limit, that address (or everyone)
 * is refused without the token being looked at until the window ends. At most `maxAddresses` are remembered
 * (the oldest go first), so a flood of addresses cannot grow memory; the global limit still holds then.
 * `from`: the counts of an earlier limiter (the page's worker stopped while idle and started again).
 */
export function failureLimiter(opts: {
  perAddress?: number;
  global?: number;
  windowMs?: number;
  maxAddresses?: number;
  now?: () => number;
  from?: LimiterState;
} = {}) {
  const perAddress = opts.perAddress ?? 10;
  const globalMax = opts.global ?? 100;
  const windowMs = opts.windowMs ?? 60_000;
  const maxAddresses = opts.maxAddresses ?? 1024;
  const now = opts.now ?? Date.now;
  const byAddress = new Map<string, { n: number; since: number }>(
    opts.from?.byAddress.map(([a, w]) => [a, { ...w }]),
  );
  let all = opts.from ? { ...opts.from.all } : { n: 0, since: now() };
  const fresh = (w: { n: number; since: number }) => now() - w.since < windowMs;
  return {
    /** Seconds until `addr` may try again, or 0. */
    blockedFor(addr: string): number {
      const t = now();
      const a = byAddress.get(addr);
      let wait = 0;
      if (a && fresh(a) && a.n >= perAddress) wait = a.since + windowMs - t;
      if (fresh(all) && all.n >= globalMax) wait = Math.max(wait, all.since + windowMs - t);
      return Math.ceil(wait / 1000);
    },
    /** Counts one failure; returns whether it reached a limit just now. */
    fail(addr: string): boolean {
      if (!fresh(all)) all = { n: 0, since: now() };
      all.n++;
      let a = byAddress.get(addr);
      if (!a || !fresh(a)) {
        byAddress.delete(addr);
        if (byAddress.size >= maxAddresses) byAddress.delete(byAddress.keys().next().value!);
        a = { n: 0, since: now() };
        byAddress.set(addr, a);
      }
      a.n++;
      return a.n === perAddress || all.n === globalMax;
    },
    get addresses() {
      return byAddress.size;
    },
    /** The counts, to start another limiter `from`. */
    state(): LimiterState {
      return { all: { ...all }, byAddress: [...byAddress].map(([a, w]) => [a, { ...w }]) };
    },
  };
}

export type Limiter = ReturnType<typeof failureLimiter>;

export interface AuthOptions {
  /** The token in force (read again when the file is rotated). */
  token: () => string;
  /** Served over TLS: the cookie is Secure and __Host- prefixed. */
  secure: boolean;
  /** The port the page listens on (known once bound): in the cookie's name, as cookies ignore ports. */
  port: () => number;
  log?: Logger;
  now?: () => number;
  sessionMs?: number;
  limiter?: Limiter;
  /** The comparison of secrets (tests watch it); sameSecret. */
  compare?: (a: string, b: string) => boolean;
}

export interface PageAuth {
  middleware: MiddlewareHandler;
  cookieName(): string;
  /** A session cookie value valid now (tests, and the sign-in redirect). */
  newSession(): string;
  /** The page's write (CSRF) token for the current sign-in token. */
  writeToken(): string;
}

function remoteAddress(c: Context): string {
  const env = c.env as { remoteAddr?: { hostname?: string } } | undefined;
  return env?.remoteAddr?.hostname ?? "unknown";
}

export function pageAuth(opts: AuthOptions): PageAuth {
  const now = opts.now ?? Date.now;
  const sessionMs = opts.sessionMs ?? SESSION_MS;
  const limiter = opts.limiter ?? failureLimiter({ now });
  const compare = opts.compare ?? sameSecret;
  const cookieName = () => sessionCookieName(opts.secure, opts.port());
  let keys: { token: string; session: Buffer; write: string } | undefined;
  const current = () => {
    const token = opts.token();
    if (keys?.token !== token) keys = { token, ...keysOf(token) };
    return keys;
  };
  const mac = (data: string) => b64url(createHmac("sha256", current().session).update(data).digest());

  const newSession = () => {
    const data = `${now() + sessionMs}.${b64url(randomBytes(16))}`;
    return `${data}.${mac(data)}`;
  };

  /** "ok", "expired" (signed by us, too old) or "forged" (not signed with the token in force). */
  const checkSession = (value: string): "ok" | "expired" | "forged" => {
    const i = value.lastIndexOf(".");
    if (i < 0) return "forged";
    const data = value.slice(0, i);
    if (!compare(value.slice(i + 1), mac(data))) return "forged";
    return Number(data.split(".")[0]) > now() ? "ok" : "expired";
  };

  const cookie = (value: string, maxAge: number) =>
    `${cookieName()}=${value}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${
      opts.secure ? "; Secure" : ""
    }`;

  const refuse = (c: Context, status: 401 | 429, retry?: number) => refusal(c.req.path, status, retry);

  /** A failed sign-in: counted, logged (and said once when the address is blocked). */
  const failed = (c: Context, why: string) => {
    const address = remoteAddress(c);
    const reached = limiter.fail(address);
    opts.log?.warn(`page sign-in failed: ${why}`, { address, path: c.req.path });
    if (reached) {
      opts.log?.warn("page sign-in attempts blocked for a while after too many failures", {
        address,
        seconds: limiter.blockedFor(address),
      });
    }
    return refuse(c, 401);
  };

  const middleware: MiddlewareHandler = async (c, next) => {
    const { token: given, bearer, session } = credentialsOf(c.req.raw, cookieName());
    // A valid session keeps working while its address is blocked (loopback is shared: someone else's
    // failures must not lock the operator out); new sign-ins and forged sessions are refused unread.
    const blocked = () => limiter.blockedFor(remoteAddress(c));
    if (given !== null) {
      if (blocked()) return refuse(c, 429, blocked());
      if (!compare(given, current().token)) return failed(c, "wrong token in the address");
      // The token leaves the address bar: the same address without it, now with a session.
      const url = new URL(c.req.url);
      url.searchParams.delete("token");
      opts.log?.info("page signed in", { address: remoteAddress(c) });
      c.header("Set-Cookie", cookie(newSession(), Math.floor(sessionMs / 1000)));
      c.header("Cache-Control", "no-store");
      return c.redirect(url.pathname + url.search, 303);
    }
    if (bearer !== undefined) {
      if (blocked()) return refuse(c, 429, blocked());
      if (!compare(bearer, current().token)) return failed(c, "wrong bearer token");
      return await next();
    }
    if (session !== undefined) {
      const state = checkSession(session);
      if (state === "ok") return await next();
      if (state === "expired") return refuse(c, 401);
      if (blocked()) return refuse(c, 429, blocked());
      return failed(c, "session cookie not signed with the current token");
    }
    return refuse(c, 401);
  };

  return { middleware, cookieName, newSession, writeToken: () => current().write };
}

export const TOKEN_HEADER = "x-ctagent-token";

/**
 * State-changing requests must come from the page itself: an Origin equal to this server's, a
 * same-origin fetch, and the page's write token (a header no cross-site form can set).
 */
export function writeGuard(token: () => string, scheme: "http" | "https" = "http"): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    const origin = c.req.header("origin");
    const host = requestHost(c.req.raw);
    const site = c.req.header("sec-fetch-site");
    if (!origin || origin !== `${scheme}://${host}`) {
      return c.json({ error: "cross-origin request refused" }, 403);
    }
    if (site !== undefined && site !== "same-origin") {
      return c.json({ error: "cross-site request refused" }, 403);
    }
    if (!sameSecret(c.req.header(TOKEN_HEADER) ?? "", token())) {
      return c.json({ error: "missing or wrong page token" }, 403);
    }
    await next();
  };
}
