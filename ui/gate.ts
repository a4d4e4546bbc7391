// The sign-in gate in front of the page's worker: the listener answers every request the page would refuse at its
// sign-in or before it (Host, method, then the sign-in itself: no credential, a wrong token, a forged session, an
// expired one, a blocked address), as the page would, and starts no page worker for it: a port scan, a health
// check, a browser not signed in or a local user guessing tokens costs no isolate and no read connection (tens of
// MB for the worker's idle minutes: 24-45 MB in the soak bench). Only a request the sign-in lets through (or one
// it cannot judge here: the token's file not as the page would trust it) goes to the page's worker, whose own
// sign-in then judges it again.
// It decides by the page's own guards' functions in the app's order (app.ts: security headers, Host, method,
// sign-in) and by the page's sign-in (sign_in.ts, with WebCrypto for node:crypto); gate_test.ts holds its answers
// equal to the app's, header for header. It imports no Hono but its path reading, and no node: module (each would
// cost the listener's isolate its polyfill).
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
import type { SignInCheck } from "./sign_in.ts";

/** Whether the page signs requests in: a token kept in the data directory, or one for this start (page_worker.ts). */
export function signsIn(init: { dataDir?: string; token?: string }): boolean {
  return init.dataDir !== undefined || init.token !== undefined;
}

/** What the gate signs in with: the page's sign-in and the token in force (undefined: left to the page). */
export interface GateSignIn {
  check: SignInCheck;
  token(): string | undefined;
}

/**
 * The gate of a page that signs in and listens on `listen`: the page's answer to a request it refuses, or undefined
 * for one the page's worker must answer. Without `signIn` only requests without any credential are answered here.
 */
export function signInGate(
  o: { listen: Listen; secure: boolean; signIn?: GateSignIn },
): (req: Request, address: string) => Promise<Response | undefined> {
  const cookieName = sessionCookieName(o.secure, o.listen.port);
  return async (req, address) => {
    const credentials = credentialsOf(req, cookieName);
    const none = noCredential(credentials);
    const token = none ? undefined : o.signIn?.token();
    if (!none && token === undefined) return undefined;
    const path = getPath(req);
    // Read for each request, as the page reads them (a wildcard bind answers the addresses the machine has now).
    const refused = hostRefusal(requestHost(req), allowedHosts(o.listen, Deno.hostname()));
    let res: Response;
    if (refused !== undefined) res = answer(421, refused, TEXT);
    else if (!methodAllowed(req.method, path)) res = answer(405, METHOD_REFUSAL, TEXT);
    else if (token === undefined) res = refusal(path, 401);
    else {
      const d = await o.signIn!.check(credentials, token, { address, path });
      if ("pass" in d) return undefined;
      res = refusal(path, d.refuse, d.retry);
    }
    for (const [name, value] of SECURITY_HEADERS) res.headers.set(name, value);
    // As Hono answers HEAD: the GET answer without its body.
    return req.method === "HEAD" ? new Response(null, res) : res;
  };
}
