// The page's guards and how they read and refuse a request: which address it binds, which Host names and methods
// it answers, the security headers, the credentials a request carries and the sign-in's refusals. Nothing here
// holds or compares a secret (auth.ts does: sessions, tokens, the write guard), so the sign-in gate in front of
// the page's worker (gate.ts) decides by these same functions without loading node:crypto into the listener.
import type { MiddlewareHandler } from "hono";

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
      // Deno's own call (node:os's gives the same list): the listener worker loads no node:os for it.
      for (const a of Deno.networkInterfaces()) add(a.address.replace(/%.*$/, ""));
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

/** Content types of the page's plain answers (Hono's own for c.text, c.html and c.json). */
export const TEXT = "text/plain; charset=UTF-8";
export const HTML = "text/html; charset=UTF-8";
export const JSON_TYPE = "application/json";

/** An answer of `type` made here: the guards' refusals, which the sign-in gate (gate.ts) gives as they do. */
export function answer(
  status: number,
  body: string,
  type: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(body, { status, headers: { "Content-Type": type, ...headers } });
}

/** The Host header, or under HTTP/2 (no Host header) the :authority the request URL was made from. */
export function requestHost(req: Request): string {
  return req.headers.get("host") ?? new URL(req.url).host;
}

/**
 * Why a request whose Host is `host` is refused (421, this text), or undefined when `hosts` has it (hostGuard;
 * the sign-in gate in front of the page's worker decides by this too).
 */
export function hostRefusal(host: string, hosts: Set<string>): string | undefined {
  if (hosts.has(host.toLowerCase().replace(/\.$/, "").replace(/\.:/, ":"))) return undefined;
  return `Refused: this page answers only to ${[...hosts].slice(0, 3).join(", ")}\n`;
}

/** Refuses requests whose Host is not one of `hosts` (read at request time: tests bind port 0). */
export function hostGuard(hosts: () => Set<string>): MiddlewareHandler {
  return async (c, next) => {
    const refused = hostRefusal(requestHost(c.req.raw), hosts());
    if (refused !== undefined) return answer(421, refused, TEXT);
    await next();
  };
}

/** Whether the page answers `method` at `path` at all (others: 405): reads anywhere, POSTs to the API. */
export function methodAllowed(method: string, path: string): boolean {
  return method === "GET" || method === "HEAD" || (method === "POST" && path.startsWith("/api/"));
}

/** The answer to a method the page does not answer (405). */
export const METHOD_REFUSAL = "Method not allowed\n";

/** Refuses methods the page does not answer (methodAllowed). */
export function methodGuard(): MiddlewareHandler {
  return async (c, next) => {
    if (!methodAllowed(c.req.method, c.req.path)) return answer(405, METHOD_REFUSAL, TEXT);
    await next();
  };
}

/** The headers on every response of the page, errors included. */
export const SECURITY_HEADERS: readonly (readonly [string, string])[] = [
  ["Content-Security-Policy", CSP],
  ["X-Content-Type-Options", "nosniff"],
  ["X-Frame-Options", "DENY"],
  ["Referrer-Policy", "no-referrer"],
  ["Cross-Origin-Opener-Policy", "same-origin"],
  ["Cross-Origin-Resource-Policy", "same-origin"],
  ["Permissions-Policy", "camera=(), microphone=(), geolocation=()"],
];

/** Security headers on every response, errors included. */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    for (const [name, value] of SECURITY_HEADERS) c.header(name, value);
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

const SIGN_IN = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark"><link rel="icon" href="data:,"><title>ctagent: sign in</title></head>
<body><h1>ctagent</h1>
<p>This page shows what is on this machine, so it needs a sign-in link. On this machine, as root, run</p>
<pre>ctagent page-url</pre>
<p>and open the address it prints. It signs this browser in for 12 hours.</p>
</body></html>
`;

const SIGN_IN_TEXT =
  "sign in first: run 'ctagent page-url' on this machine as root and open the address it prints";

/**
 * The sign-in's refusal of a request for `path` (as Hono reads it: c.req.path): JSON for the API, the sign-in page
 * for the page itself, text otherwise. `retry`: the seconds until a blocked address may try again (429).
 */
export function refusal(path: string, status: 401 | 429, retry?: number): Response {
  const headers: Record<string, string> = { "Cache-Control": "no-store" };
  if (retry) headers["Retry-After"] = String(retry);
  else headers["WWW-Authenticate"] = 'Bearer realm="ctagent"';
  const text = retry ? `too many failed sign-ins: try again in ${retry} s` : SIGN_IN_TEXT;
  if (path.startsWith("/api/")) return answer(status, JSON.stringify({ error: text }), JSON_TYPE, headers);
  if (!retry && (path === "/" || path === "/index.html")) return answer(status, SIGN_IN, HTML, headers);
  return answer(status, text + "\n", TEXT, headers);
}

/** The session cookie's name: the page's port is in it, as cookies ignore ports; `__Host-` over TLS. */
export function sessionCookieName(secure: boolean, port: number): string {
  return `${secure ? "__Host-" : ""}ctagent_${port}`;
}

/** What a request carries that the sign-in looks at: a token in its address, a bearer token, a session cookie. */
export interface Credentials {
  token: string | null;
  bearer: string | undefined;
  session: string | undefined;
}

export function credentialsOf(req: Request, cookieName: string): Credentials {
  return {
    token: new URL(req.url).searchParams.get("token"),
    bearer: /^Bearer (.+)$/i.exec(req.headers.get("authorization") ?? "")?.[1],
    session: cookieValue(req.headers.get("cookie") ?? undefined, cookieName),
  };
}

/** Whether a request carries none of them: the sign-in refuses it (401) without looking at anything else. */
export function noCredential(c: Credentials): boolean {
  return c.token === null && c.bearer === undefined && c.session === undefined;
}

/** The value of cookie `name` in a Cookie header (the first one), or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
