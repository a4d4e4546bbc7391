// Page sign-in: the token is exchanged once for a signed session cookie; every request needs one (or a Bearer token);
// and the write guard (same origin and the page's write token). How a request's credentials are read and how it is
// refused are in security.ts; what the sign-in decides of them (and the failure limiter) in sign_in.ts, which the
// gate in front of the page's worker decides by too.
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import type { Logger } from "../agent/log.ts";
import { credentialsOf, refusal, requestHost, sessionCookieName } from "./security.ts";
import { failureLimiter, type Limiter, SESSION_KEY_LABEL, SESSION_MS, signIn } from "./sign_in.ts";

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
    session: createHmac("sha256", token).update(SESSION_KEY_LABEL).digest(),
    write: createHmac("sha256", token).update("ctagent page write v1").digest("hex"),
  };
}

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
  const keyed = (token: string) => {
    if (keys?.token !== token) keys = { token, ...keysOf(token) };
    return keys;
  };
  const current = () => keyed(opts.token());
  const mac = (data: string, token: string) =>
    b64url(createHmac("sha256", keyed(token).session).update(data).digest());

  const newSession = () => {
    const data = `${now() + sessionMs}.${b64url(randomBytes(16))}`;
    return `${data}.${mac(data, current().token)}`;
  };

  const cookie = (value: string, maxAge: number) =>
    `${cookieName()}=${value}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${
      opts.secure ? "; Secure" : ""
    }`;

  const decide = signIn({ limiter, compare, mac, now, log: opts.log });

  const middleware: MiddlewareHandler = async (c, next) => {
    const address = remoteAddress(c);
    const d = await decide(credentialsOf(c.req.raw, cookieName()), current().token, {
      address,
      path: c.req.path,
    });
    if ("refuse" in d) return refusal(c.req.path, d.refuse, d.retry);
    if (d.pass === "token") {
      // The token leaves the address bar: the same address without it, now with a session.
      const url = new URL(c.req.url);
      url.searchParams.delete("token");
      opts.log?.info("page signed in", { address });
      c.header("Set-Cookie", cookie(newSession(), Math.floor(sessionMs / 1000)));
      c.header("Cache-Control", "no-store");
      return c.redirect(url.pathname + url.search, 303);
    }
    return await next();
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
