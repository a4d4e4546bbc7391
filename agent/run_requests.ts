// `--once` next to a running daemon: it asks the daemon (through the database) to run, and prints the daemon's result.
import { sql } from "kysely";
import type { Db } from "../db/open.ts";
import { deleteState, getState, setState, statesStartingWith } from "../db/state.ts";
import type { ConfigInForce } from "./config/load.ts";
import type { Logger } from "./log.ts";
import type { OnceResult } from "./once.ts";
import type { RunSummary } from "./pipeline/run.ts";
import { ChangeSpill, removeSpills, spillLink, spillName } from "../db/change_spill.ts";

export interface RunRequest {
  id: string;
  pid: number;
  at: number;
  /** Most change records per run the asker prints (runCollector's keepChanges); absent or null: all (--json). */
  keepChanges?: number | null;
}

/** Results nobody came for (their `--once` was killed) are deleted after this long, and spill files too. */
export const RESULT_KEPT_MS = 3_600_000;

/** What the daemon answers: what `--once` would have printed had it run the collectors itself. */
export interface RunResult {
  id: string;
  /** When the daemon wrote it (epoch ms). */
  at: number;
  /**
   * Each with its first `keepChanges` change records; every record, for an asker that wants all (--json), is in
   * the spill file `spill` of the data directory (its summaries' spillRun name their runs there), the asker's
   * own to read and remove.
   */
  summaries: RunSummary[];
  spill?: string;
  skipped: OnceResult["skipped"];
  config: ConfigInForce;
}

/** What the daemon offers the requests. */
export interface RunsOnRequest {
  /**
   * Runs every collector now; each summary keeps its first `keepChanges` change records by key (default all),
   * and with `spill` every record also goes there (Agent.runNow).
   */
  runNow(keepChanges?: number, spill?: ChangeSpill): Promise<RunSummary[]>;
  skipped(): OnceResult["skipped"];
  config(): ConfigInForce;
}

/**
 * The daemon's side: every `intervalMs` it looks whether another process wrote to the database (SQLite's
 * data_version, one cheap read) and, if a new request is there, runs every enabled collector and writes the
 * result. Returns a stop function.
 */
export function serveRunRequests(
  opts: { db: Db; agent: RunsOnRequest; log: Logger; intervalMs?: number; dataDir?: string },
): () => Promise<void> {
  const { db, agent, log, dataDir } = opts;
  let version: unknown;
  let busy: Promise<void> | undefined;
  /**
   * Results nobody came for (their `--once` was killed) are deleted, and spill files no result names (an asker
   * killed before it read one), once RESULT_KEPT_MS old.
   */
  const sweep = async () => {
    const now = Date.now();
    const named = new Set<string>();
    for (const r of await statesStartingWith(db, "run.result.")) {
      const result = JSON.parse(r.value) as RunResult;
      if (result.at < now - RESULT_KEPT_MS) await deleteState(db, r.key);
      else if (result.spill !== undefined) named.add(result.spill);
    }
    if (dataDir !== undefined) removeSpills(dataDir, named, RESULT_KEPT_MS, now);
  };
  const check = async () => {
    const v = (await sql<{ data_version: number }>`PRAGMA data_version`.execute(db)).rows[0]?.data_version;
    if (v === version) return;
    version = v;
    // Every request waiting now is answered by one pass: two --once at once get the same result.
    const requests = (await statesStartingWith(db, "run.request.")).map((r) =>
      JSON.parse(r.value) as RunRequest
    );
    if (!requests.length) return;
    for (const r of requests) await deleteState(db, `run.request.${r.id}`); // taken
    log.info("running the collectors for ctagent --once", { pids: requests.map((r) => r.pid).join(" ") });
    // As many change records as the most any text asker prints; all of them, for a --json one, on disk.
    const all = requests.filter((r) => r.keepChanges === null || r.keepChanges === undefined);
    const keep = Math.max(0, ...requests.map((r) => r.keepChanges ?? 0));
    let spill: ChangeSpill | undefined;
    if (all.length && dataDir !== undefined) {
      try {
        spill = ChangeSpill.create(dataDir);
      } catch (e) {
        // The records then travel in the answer, as before spill files.
        log.error("cannot keep the change records for ctagent --once --json: they go in the answer", {
          error: e,
        });
      }
    }
    let summaries: RunSummary[];
    try {
      summaries = await agent.runNow(all.length && !spill ? Infinity : keep, spill);
    } catch (e) {
      spill?.remove();
      throw e;
    }
    // A spill that cannot be written or shared is said in the log; its askers say so and exit 19 (cli/once.ts).
    const failed = (e: unknown) =>
      log.error("cannot keep the change records for ctagent --once --json", { error: e });
    try {
      spill?.close();
    } catch (e) {
      failed(e);
      spill?.remove();
      spill = undefined;
    }
    const at = Date.now();
    // Each --json asker gets a file of its own (a link to the same one), which it removes once printed.
    let shared = false;
    for (const r of requests) {
      const result: RunResult = { id: r.id, at, summaries, skipped: agent.skipped(), config: agent.config() };
      if (spill && all.includes(r)) {
        try {
          result.spill = shared ? spillLink(spill) : spillName(spill);
          shared = true;
        } catch (e) {
          failed(e);
        }
      }
      await setState(db, `run.result.${r.id}`, JSON.stringify(result));
    }
    await sweep();
  };
  busy = sweep().catch((e) => log.warn("cannot remove old results of ctagent --once", { error: e })).finally(
    () => busy = undefined,
  );
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
  /** Most change records per run this process prints (default all). */
  keepChanges?: number;
}): Promise<RunResult | undefined> {
  const { db } = opts;
  const keep = opts.keepChanges ?? Infinity;
  const req: RunRequest = {
    id: crypto.randomUUID(),
    pid: Deno.pid,
    at: Date.now(),
    keepChanges: Number.isFinite(keep) ? keep : null,
  };
  const request = `run.request.${req.id}` as const, answer = `run.result.${req.id}` as const;
  await setState(db, request, JSON.stringify(req));
  // The daemon's event loop can be busy for a while (a big baseline commits in one statement).
  const takeBy = performance.now() + (opts.takeMs ?? 60_000); // elapsed time: the wall clock may be set
  try {
    for (let i = 0;; i++) {
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
      opts.signal?.throwIfAborted();
      const result = await getState(db, answer);
      if (result) {
        await deleteState(db, answer);
        return JSON.parse(result) as RunResult;
      }
      if (i % 5 === 4 && opts.daemonGone()) return undefined;
      if (performance.now() > takeBy && await getState(db, request) !== undefined) {
        throw new DaemonNotAnswering(
          `it did not take the request within ${(opts.takeMs ?? 60_000) / 1000} s`,
        );
      }
    }
  } finally {
    await deleteState(db, request); // not taken: nobody is to run it later
  }
}
