// The daemon mode: the agent on its schedule, the page, `--once` runs asked of it, until a signal stops it.
import type { Collector } from "../collectors/types.ts";
import type { Host } from "../host/mod.ts";
import type { Logger } from "../log.ts";
import { EXIT } from "../exit_codes.ts";
import { listenForStop } from "../stop_signals.ts";
import { versionLine } from "../version.ts";
import { amaFetch } from "../ama/mod.ts";
import { skippedBy } from "../state_owner.ts";
import type { StateLock } from "../state_lock.ts";
import { serveRunRequests } from "../run_requests.ts";
import { watchDatabaseFile, writeStateBack } from "../data_dir_watch.ts";
import type { OpenedDb } from "../../db/open.ts";
import type { Cli } from "./args.ts";
import type { Io } from "./io.ts";

/**
 * Resolves at the first stop signal (SIGTERM, SIGINT; SIGINT and SIGBREAK on Windows). Listening goes on, so
 * that a second one during the wind-down exits at once.
 */
export function waitForSignal(log: Logger): Promise<void> {
  const { signal } = listenForStop(log);
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

/** The daemon: the agent on its schedule, the page, requests of `--once` runs, until a signal stops it. */
export async function runDaemon(
  cli: Cli,
  d: {
    dataDir: string;
    opened: OpenedDb;
    /** The state lock this daemon holds for its whole life. */
    lock: StateLock;
    host: Host;
    log: Logger;
    collectors: readonly Collector[];
    io: Io;
    until: (log: Logger) => Promise<void>;
  },
): Promise<number> {
  const { startAgent } = await import("../agent.ts");
  d.log.info("starting", { version: versionLine(), data: d.opened.path, os: d.host.os });
  const agent = await startAgent({
    opened: d.opened,
    host: d.host,
    log: d.log,
    collectors: d.collectors,
    dcrFile: cli.dcr,
    outboxMax: cli.outboxMax,
    collectorSettings: cli.collectorSettings,
    retentionDays: cli.retentionDays,
    fetchAma: amaFetch({ ...cli.ama, os: d.host.os }, d.log),
    ama: { ...cli.ama, os: d.host.os },
    mirrorDir: d.dataDir,
    paused: true,
    local: cli.local,
    realtime: cli.realtime ? {} : undefined,
  });
  let ui: { url: string; stop(): Promise<void> } | undefined;
  if (cli.ui) {
    const { startUi } = await import("../../ui/server.ts");
    try {
      ui = await startUi({
        db: d.opened,
        host: d.host,
        log: d.log,
        agent,
        listen: cli.listen,
        dataDir: d.dataDir,
        noAuth: cli.page.noAuth,
        insecureListen: cli.page.insecureListen,
        tls: cli.page.tls,
        delivery: () => {
          const s = agent.delivery?.sender.stats();
          return s && {
            endpoint: s.endpoint,
            reachable: s.reachable,
            lastError: s.reachable === false ? s.lastError ?? null : null,
            lastDeliveredAt: s.lastDeliveredAt ?? null,
          };
        },
      });
    } catch (e) {
      d.log.error("cannot serve the page; the agent goes on without it", {
        listen: `${cli.listen.hostname}:${cli.listen.port}`,
        error: e,
      });
    }
  }
  // The first collections start once the page is up, so they do not compete with serving it.
  agent.scheduler.start();
  const stopServing = serveRunRequests({
    db: d.opened.db,
    log: d.log,
    dataDir: d.dataDir,
    agent: { ...agent, skipped: () => skippedBy(agent.scheduler.status(), d.host.os) },
  });
  const file = watchDatabaseFile(d.opened.path);
  await Promise.race([d.until(d.log), file.changed]);
  file.stop();
  // All at once, the runs first: the run in flight is aborted now (agent.stop aborts it before anything else),
  // not after the page has wound down, and a baseline holds the database connection until it ends
  // (pipeline/run.ts), so what the page and the run requests wait for is released with it (SIGTERM: within 2 s).
  await Promise.all([agent.stop(), stopServing(), ui?.stop()]);
  if (file.isChanged()) {
    // Everything since the deletion went into a file only this process still sees: write it back, and stop
    // with an error, so that the service manager starts the daemon on the state it then finds.
    try {
      d.log.error(`${writeStateBack(d.opened.raw, d.opened.path)}; stopping`);
    } catch (e) {
      d.log.error(
        `the state database ${d.opened.path} was deleted while the daemon ran, and cannot be written back`,
        {
          error: e,
        },
      );
    }
    return EXIT.DATABASE;
  }
  d.log.info("stopped");
  return EXIT.OK;
}
