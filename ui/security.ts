// The page's guards: which address it binds, which Host names it answers, CSP, same-origin + token for writes.
import { networkInterfaces } from "node:os";
import type { Context, MiddlewareHandler } from "hono";
import { sameSecret } from "./auth.ts";

export interface Listen {
  hostname: string;
  port: number;
}

/** Where the page listens unless told (`--listen`): loopback only. */
export const DEFAULT_LISTEN = "127.0.0.1:8470";

/** Parses `--listen` (`HOST:PORT`, `[v6]:PORT`, `:PORT` or `PORT`); the host defaults to 127.0.0.1. */
export function parseListen(text: string): Listen {
  const s = text.trim();
  let host = "127.0.0.1";
  let port: string;
  const v6 = s.match(/^\[([^\]]+)\]:(\d+)$/);
  if (v6) [, host, port] = v6;
  else if (/^\d+$/.test(s)) port = s;
  else {
    const i = s.lastIndexOf(":");
    if (i < 0) throw new TypeError(`Cannot parse --listen ${JSON.stringify(text)}: expected HOST:PORT`);
    if (i > 0) host = s.slice(0, i);
    port = s.slice(i + 1);
    if (host.includes(":")) {
      throw new TypeError(
        `Cannot parse --listen ${JSON.stringify(text)}: write IPv6 addresses as [ADDR]:PORT`,
      );
    }
  }
  const n = Number(port);
  if (!/^\d+$/.test(port) || n > 65535) {
    throw new RangeError(`Cannot parse --listen ${JSON.stringify(text)}: port must be 0-65535, got ${port}`);
  }
  return { hostname: host, port: n };
}

export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h) || h === "::ffff:127.0.0.1";
}

function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "[::]";
}

function hostPort(name: string, port: number): string[] {
  const h = name.includes(":") && !name.startsWith("[") ? `[${name}]` : name;
  return port === 80 ? [`${h}:80`, h] : [`${h}:${port}`];
}

/**
 * The `Host` header values the page answers: the names of the bound address only, so a foreign name that
 * resolves here (DNS rebinding) is refused. A wildcard bind answers the machine's name and addresses.
 */
export function allowedHosts(listen: Listen, machineName: string): Set<string> {
  const names = new Set<string>();
  const add = (n: string) => hostPort(n.toLowerCase(), listen.port).forEach((v) => names.add(v));
  add(listen.hostname.replace(/^\[|\]$/g, ""));
  if (isLoopback(listen.hostname) || isWildcard(listen.hostname)) {
    for (const n of ["127.0.0.1", "localhost", "::1"]) add(n);
  }
  if (!isLoopback(listen.hostname)) {
    add(machineName);
    if (isWildcard(listen.hostname)) {
      for (const list of Object.values(networkInterfaces())) {
        for (const a of list ?? []) add(a.address.replace(/%.*$/, ""));
      }
    }
  }
  return names;
}

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** The Host header, or under HTTP/2 (no Host header) the :authority the request URL was made from. */
function requestHost(c: Context): string {
  return c.req.header("host") ?? new URL(c.req.url).host;
}

/** Refuses requests whose Host is not one of `hosts` (read at request time: tests bind port 0). */
export function hostGuard(hosts: () => Set<string>): MiddlewareHandler {
  return async (c, next) => {
    const host = requestHost(c).toLowerCase().replace(/\.$/, "").replace(/\.:/, ":");
    if (!hosts().has(host)) {
      return c.text(`Refused: this page answers only to ${[...hosts()].slice(0, 3).join(", ")}\n`, 421);
    }
    await next();
  };
}

/** Security headers on every response, errors included. */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    c.header("Content-Security-Policy", CSP);
    c.header("X-Content-Type-Options", "nosniff");
    c.header("X-Frame-Options", "DENY");
    c.header("Referrer-Policy", "no-referrer");
    c.header("Cross-Origin-Opener-Policy", "same-origin");
    c.header("Cross-Origin-Resource-Policy", "same-origin");
    c.header("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
  };
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
    const host = requestHost(c);
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

/**
 * Why the page may not be served as asked, or undefined: off loopback the sign-in token and the session
 * cookie would cross the network, so that needs TLS, or --insecure-listen to say it is meant.
 */
export function listenProblem(
  listen: Listen,
  o: { tls: boolean; insecureListen?: boolean; noAuth?: boolean },
): string | undefined {
  if (isLoopback(listen.hostname)) return undefined;
  const where = `${listen.hostname.includes(":") ? `[${listen.hostname}]` : listen.hostname}:${listen.port}`;
  if (o.noAuth && !o.insecureListen) {
    return `--no-auth on ${where} would hand the page to the network: use a loopback address (or add --insecure-listen on a throwaway test network)`;
  }
  if (!o.tls && !o.insecureListen) {
    return `--listen ${where} is not a loopback address: serve it over TLS (--tls-cert FILE --tls-key FILE), or add --insecure-listen to send the page and its sign-in in clear text`;
  }
  return undefined;
}
