// The local page's server (placeholder until the page lands): loopback-only JSON status.
import { Hono } from "hono";
import type { Agent } from "../agent/agent.ts";
import type { Host } from "../agent/host/mod.ts";
import type { Logger } from "../agent/log.ts";
import { readStatus } from "../agent/status.ts";
import type { Db } from "../db/open.ts";

export interface UiDeps {
  db: Db;
  host: Host;
  log: Logger;
  agent: Agent;
  listen: { hostname: string; port: number };
}

export function createApp(deps: UiDeps): Hono {
  const app = new Hono();
  app.get(
    "/api/status",
    async (c) => c.json({ ...(await readStatus(deps.db)), collectors: deps.agent.scheduler.status() }),
  );
  app.get("/", (c) => c.text(`ctagent on ${deps.host.hostname}: see /api/status`));
  return app;
}

export function startUi(deps: UiDeps): Promise<{ url: string; stop(): Promise<void> }> {
  const app = createApp(deps);
  return new Promise((resolve) => {
    const server = Deno.serve({
      hostname: deps.listen.hostname,
      port: deps.listen.port,
      onListen: ({ hostname, port }) => {
        const url = `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}/`;
        deps.log.info("page served", { url });
        resolve({ url, stop: () => server.shutdown() });
      },
    }, app.fetch);
  });
}
