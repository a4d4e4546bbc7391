// `--once` next to a running daemon: it asks the daemon (through the database) to run, and prints the daemon's result.
import { sql } from "kysely";
import type { Db } from "../db/open.ts";
import { getState, setState } from "../db/state.ts";
import type { ConfigInForce } from "./config/load.ts";
import type { Logger } from "./log.ts";
import type { OnceResult } from "./once.ts";
import type { RunSummary } from "./pipeline/run.ts";

/** state keys: the request a `--once` writes, the id the daemon took, the result it wrote. */
const REQUEST = "run.request";
const TAKEN = "run.taken";
const RESULT = "run.result";

export interface RunRequest {
  id: string;
  pid: number;
  at: number;
}

/** What the daemon answers: what `--once` would have printed had it run the collectors itself. */
export interface RunResult {
  id: string;
  summaries: RunSummary[];
  skipped: OnceResult["skipped"];
  config: ConfigInForce;
}

/** What the daemon offers the requests. */
export interface RunsOnRequest {
  runNow(): Promise<RunSummary[]>;
  skipped(): OnceResult["skipped"];
  config(): ConfigInForce;
}

/**
 * The daemon's side: every `intervalMs` it looks whether another process wrote to the database (SQLite's
 * data_version, one cheap read) and, if a new request is there, runs every enabled collector and writes the
 * result. Returns a stop function.
 */
export function serveRunRequests(
  opts: { db: Db; agent: RunsOnRequest; log: Logger; intervalMs?: number },
): () => Promise<void> {
  const { db, agent, log } = opts;
  let version: unknown;
  let busy: Promise<void> | undefined;
  const check = async () => {
    const v = (await sql<{ data_version: number }>`PRAGMA data_version`.execute(db)).rows[0]?.data_version;
    if (v === version) return;
    version = v;
    const text = await getState(db, REQUEST);
    if (!text || text === await getState(db, TAKEN)) return;
    const req = JSON.parse(text) as RunRequest;
    await setState(db, TAKEN, text);
    log.info("running the collectors for ctagent --once", { pid: req.pid });
    const summaries = await agent.runNow();
    const result: RunResult = { id: req.id, summaries, skipped: agent.skipped(), config: agent.config() };
    await setState(db, RESULT, JSON.stringify(result));
  };
  const timer = setInterval(() => {
    if (busy) return;
    busy = check().catch((e) => log.error("cannot answer a request of ctagent --once", { error: e }))
      .finally(() => busy = undefined);
  }, opts.intervalMs ?? 500);
  return async () => {
    clearInterval(timer);
    await busy;
  };
}

export class DaemonNotAnswering extends Error {
  override name = "DaemonNotAnswering";
}

/**
 * The `--once` side: writes a request and waits for the daemon's result. `daemonGone` is asked now and then;
 * when it says the daemon is gone (it let go of the state lock), waiting ends with undefined and the caller
 * runs the collectors itself. A daemon that does not take the request within `takeMs` is not answering.
 */
export async function askDaemon(opts: {
  db: Db;
  log: Logger;
  daemonGone(): boolean;
  takeMs?: number;
  pollMs?: number;
  signal?: AbortSignal;
}): Promise<RunResult | undefined> {
  const { db } = opts;
  const req: RunRequest = { id: crypto.randomUUID(), pid: Deno.pid, at: Date.now() };
  const text = JSON.stringify(req);
  await setState(db, REQUEST, text);
  // The daemon's event loop can be busy for a while (a big baseline commits in one statement).
  const takeBy = Date.now() + (opts.takeMs ?? 60_000);
  for (let i = 0;; i++) {
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
    opts.signal?.throwIfAborted();
    const result = await getState(db, RESULT);
    if (result) {
      const r = JSON.parse(result) as RunResult;
      if (r.id === req.id) {
        await db.deleteFrom("state").where("key", "=", RESULT).execute();
        return r;
      }
    }
    if (i % 5 === 4 && opts.daemonGone()) return undefined;
    if (Date.now() > takeBy && await getState(db, TAKEN) !== text) {
      throw new DaemonNotAnswering(`it did not take the request within ${(opts.takeMs ?? 60_000) / 1000} s`);
    }
  }
}
