// The page's socket: Deno.serve on the checked address, with nothing else imported (the listener worker loads
// only this, so it stays small while the page's worker is stopped).
import type { Listen } from "./security.ts";

/** Listens on `listen` (TLS when given) and answers with `handler`; `stop` ends it. */
export function listenOn(
  listen: Listen,
  tls: { cert: string; key: string } | undefined,
  handler: Deno.ServeHandler<Deno.NetAddr>,
): { listen: Listen; stop(): Promise<void> } {
  const ac = new AbortController();
  const server = Deno.serve({
    hostname: listen.hostname.replace(/^\[|\]$/g, ""),
    port: listen.port,
    signal: ac.signal,
    onListen: () => {},
    ...(tls ? { cert: tls.cert, key: tls.key } : {}),
  }, handler);
  return {
    listen: { hostname: listen.hostname, port: (server.addr as Deno.NetAddr).port },
    stop: async () => {
      ac.abort();
      await server.finished;
    },
  };
}
