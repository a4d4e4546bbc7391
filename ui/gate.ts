// The sign-in gate in front of the page's worker. A request that carries no credential at all (no token in its
// address, no bearer token, no session cookie) is refused by the page before it looks at anything else, so the
// listener answers it itself, as the page would, and starts no page worker for it: a port scan, a health check or a
// browser not signed in costs no isolate and no read connection (~28 MB for the worker's idle minutes). It decides
// by the page's own guards' functions in the app's order (app.ts: security headers, Host, method, sign-in), and
// gate_test.ts holds its answers equal to the app's, header for header. It imports no Hono but its path reading,
// and no node: module (each would cost the listener's isolate its polyfill).
import { getPath } from "hono/utils/url";
import {
  allowedHosts,
  answer,
  credentialsOf,
  hostRefusal,
  type Listen,
  METHOD_REFUSAL,
  methodAllowed,
  noCredential,
  refusal,
  requestHost,
  SECURITY_HEADERS,
  sessionCookieName,
  TEXT,
} from "./security.ts";

/** Whether the page signs requests in: a token kept in the data directory, or one for this start (page_worker.ts). */
export function signsIn(init: { dataDir?: string; token?: string }): boolean {
  return init.dataDir !== undefined || init.token !== undefined;
}

/**
 * The gate of a page that signs in and listens on `listen`: the page's answer to a request without credential, or
 * undefined for one the page's worker must answer.
 */
export function signInGate(o: { listen: Listen; secure: boolean }): (req: Request) => Response | undefined {
  const cookieName = sessionCookieName(o.secure, o.listen.port);
  return (req) => {
    if (!noCredential(credentialsOf(req, cookieName))) return undefined;
    const path = getPath(req);
    // Read for each request, as the page reads them (a wildcard bind answers the addresses the machine has now).
    const refused = hostRefusal(requestHost(req), allowedHosts(o.listen, Deno.hostname()));
    const res = refused !== undefined
      ? answer(421, refused, TEXT)
      : !methodAllowed(req.method, path)
      ? answer(405, METHOD_REFUSAL, TEXT)
      : refusal(path, 401);
    for (const [name, value] of SECURITY_HEADERS) res.headers.set(name, value);
    // As Hono answers HEAD: the GET answer without its body.
    return req.method === "HEAD" ? new Response(null, res) : res;
  };
}
