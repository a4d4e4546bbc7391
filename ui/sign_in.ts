// What the page's sign-in decides of a request's credentials, for the page (auth.ts) and for the sign-in gate in
// front of its worker (gate.ts), which decides every sign-in itself so that only the page's users start its worker:
// a wrong token, a forged session or a blocked address is answered by the listener. It holds the failure limiter,
// the decision, the session's MAC and the comparison of secrets through WebCrypto (the gate's), and the reading of
// the token's file through Deno's API (the gate's). No node: module (each would cost the listener's isolate its
// polyfill) and no Hono.
import type { Credentials } from "./security.ts";

/** How long a session lasts; rotating the token ends every session at once. */
export const SESSION_MS = 12 * 3600_000;

/** What a session's key is derived with, from the token (the key signs the session's data). */
export const SESSION_KEY_LABEL = "ctagent page session v1";

/**
 * Failed sign-ins counted per remote address and in all, per window: past a limit, that address (or everyone)
 * is refused without the token being looked at until the window ends. At most `maxAddresses` are remembered
 * (the oldest go first), so a flood of addresses cannot grow memory; the global limit still holds then.
 */
export function failureLimiter(opts: {
  perAddress?: number;
  global?: number;
  windowMs?: number;
  maxAddresses?: number;
  now?: () => number;
} = {}) {
  const perAddress = opts.perAddress ?? 10;
  const globalMax = opts.global ?? 100;
  const windowMs = opts.windowMs ?? 60_000;
  const maxAddresses = opts.maxAddresses ?? 1024;
  const now = opts.now ?? Date.now;
  const byAddress = new Map<string, { n: number; since: number }>();
  let all = { n: 0, since: now() };
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
  };
}

export type Limiter = ReturnType<typeof failureLimiter>;

/** What the sign-in decided: let the request through (and on which credential), or refuse it. */
export type SignIn =
  | { pass: "token" | "bearer" | "session" }
  | { refuse: 401 | 429; retry?: number };

export interface SignInChecks {
  limiter: Limiter;
  /** The comparison of two secrets, in time that does not depend on where they differ or on their lengths. */
  compare(a: string, b: string): boolean | Promise<boolean>;
  /** The MAC of a session's data under `token` (base64url). */
  mac(data: string, token: string): string | Promise<string>;
  now?: () => number;
  log?: { warn(msg: string, fields?: Record<string, unknown>): void };
}

/**
 * The sign-in: a token in the address, a bearer token or a session cookie, against `token` (the one in force),
 * for a request from `address` for `path` (as Hono reads it). A failure is counted and logged; past the limit
 * the address is refused (429) without its token being looked at, but a valid session keeps working (loopback is
 * shared: someone else's failures must not lock the operator out). An expired session is no failure.
 */
export function signIn(o: SignInChecks) {
  const now = o.now ?? Date.now;
  /** "ok", "expired" (signed with `token`, too old) or "forged" (not signed with it). */
  const sessionState = async (value: string, token: string) => {
    const i = value.lastIndexOf(".");
    if (i < 0) return "forged";
    const data = value.slice(0, i);
    if (!await o.compare(value.slice(i + 1), await o.mac(data, token))) return "forged";
    return Number(data.split(".")[0]) > now() ? "ok" : "expired";
  };
  return async (c: Credentials, token: string, at: { address: string; path: string }): Promise<SignIn> => {
    const { address } = at;
    const blocked = (): SignIn | undefined => {
      const retry = o.limiter.blockedFor(address);
      return retry ? { refuse: 429, retry } : undefined;
    };
    const failed = (why: string): SignIn => {
      const reached = o.limiter.fail(address);
      o.log?.warn(`page sign-in failed: ${why}`, { address, path: at.path });
      if (reached) {
        o.log?.warn("page sign-in attempts blocked for a while after too many failures", {
          address,
          seconds: o.limiter.blockedFor(address),
        });
      }
      return { refuse: 401 };
    };
    if (c.token !== null) {
      return blocked() ??
        (await o.compare(c.token, token) ? { pass: "token" } : failed("wrong token in the address"));
    }
    if (c.bearer !== undefined) {
      return blocked() ??
        (await o.compare(c.bearer, token) ? { pass: "bearer" } : failed("wrong bearer token"));
    }
    if (c.session !== undefined) {
      const state = await sessionState(c.session, token);
      if (state === "ok") return { pass: "session" };
      if (state === "expired") return { refuse: 401 };
      return blocked() ?? failed("session cookie not signed with the current token");
    }
    return { refuse: 401 };
  };
}

export type SignInCheck = ReturnType<typeof signIn>;

const utf8 = new TextEncoder();

/** Bytes as base64url without padding (as node's Buffer writes it). */
export function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

const sha256 = async (s: string) => new Uint8Array(await crypto.subtle.digest("SHA-256", utf8.encode(s)));

/** Whether two secrets are equal (through WebCrypto): both are hashed to 32 bytes, compared whole. */
export async function sameSecretWeb(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([sha256(a), sha256(b)]);
  let differ = 0;
  for (let i = 0; i < x.length; i++) differ |= x[i] ^ y[i];
  return differ === 0;
}

const hmacKey = (raw: Uint8Array<ArrayBuffer>) =>
  crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
const hmac = async (key: CryptoKey, data: string) =>
  new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8.encode(data)));

/** A session's MAC through WebCrypto (the same as auth.ts's): its key derived from the token, kept per token. */
export function sessionMacWeb(): (data: string, token: string) => Promise<string> {
  let keyed: { token: string; key: Promise<CryptoKey> } | undefined;
  return async (data, token) => {
    if (keyed?.token !== token) {
      const key = hmacKey(utf8.encode(token)).then((k) => hmac(k, SESSION_KEY_LABEL)).then(hmacKey);
      keyed = { token, key };
    }
    return base64url(await hmac(await keyed.key, data));
  };
}

/** The page token's file in the data directory. */
export const TOKEN_FILE = "page-token";

/** The page token's file of `dataDir` (node's join, which the gate's isolate goes without). */
export function tokenFileOf(dataDir: string): string {
  return `${dataDir}${Deno.build.os === "windows" ? "\\" : "/"}${TOKEN_FILE}`;
}

/** A page token's form: 32 random bytes in hex. */
export const TOKEN_FORMAT = /^[0-9a-f]{64}$/;

/** Why the token file at `path` cannot be trusted as it is (its mode or owner), or undefined. */
export function untrustedTokenFile(
  st: { mode: number | null; uid: number | null },
  path: string,
): string | undefined {
  if (Deno.build.os === "windows") return undefined;
  const uid = Deno.uid();
  if (uid !== null && st.uid !== uid) {
    return `${path} belongs to uid ${st.uid}, not to this process (uid ${uid})`;
  }
  if ((st.mode ?? 0) & 0o077) {
    return `${path} had mode ${((st.mode ?? 0) & 0o777).toString(8).padStart(4, "0")} (others could read it)`;
  }
  return undefined;
}

/**
 * The token in the file at `path` as it is now (looked at on each call, read again when it changed), or
 * undefined when it is not one the page would sign in with as it stands: missing, not a regular file, not
 * private, not a token, unreadable. The page's own reading (token.ts) makes, replaces and reports; this only reads,
 * and whoever calls it leaves the request to the page then.
 */
export function tokenFileReader(path: string): () => string | undefined {
  let last: { stamp: string; token: string | undefined } | undefined;
  return () => {
    try {
      const st = Deno.lstatSync(path);
      const stamp = `${st.ino}:${st.size}:${st.mtime?.getTime()}:${st.ctime?.getTime()}:${st.mode}:${st.uid}`;
      if (last?.stamp === stamp) return last.token;
      let token: string | undefined;
      if (st.isFile && untrustedTokenFile(st, path) === undefined) {
        const text = Deno.readTextFileSync(path).trim();
        if (TOKEN_FORMAT.test(text)) token = text;
      }
      last = { stamp, token };
      return token;
    } catch {
      last = undefined;
      return undefined;
    }
  };
}
