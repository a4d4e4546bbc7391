// The `--once` mode: every enabled collector once, what it prints, the mirrors, and best-effort delivery.
import type { Begun, Collector } from "../collectors/types.ts";
import { chooseEntry, parseDcrDocument } from "../config/document.ts";
import { type ConfigInForce, readDcrFile, resolveConfig, withLocalSettings } from "../config/load.ts";
import type { Host } from "../host/mod.ts";
import type { Logger } from "../log.ts";
import { EXIT } from "../exit_codes.ts";
import { heapCollector } from "../heap.ts";
import {
  beginRuns,
  onceExitCode,
  onceJson,
  type OnceResult,
  onceText,
  PRINTED_CHANGES,
  runOnce,
} from "../once.ts";
import { amaFetch, type AmaOptions, deliverOnce, recordFields } from "../ama/mod.ts";
import { writeMirrors } from "../pipeline/mirrors.ts";
import type { OpenedDb } from "../../db/open.ts";
import { ChangeSpill, removeSpills } from "../../db/change_spill.ts";
import { RESULT_KEPT_MS, type RunResult } from "../run_requests.ts";
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { Cli } from "./args.ts";
import type { Io } from "./io.ts";

/**
 * A script that names a DCR wants that DCR: an invalid one stops `--once` (exit 17) rather than running another.
 * Returns the exit code when it stops, undefined when the DCR is good.
 */
export async function checkOnceDcr(cli: Cli, io: Io, host: Host): Promise<number | undefined> {
  if (!cli.dcr) return undefined;
  const { raw, problem } = await readDcrFile(cli.dcr);
  const problems = raw === undefined
    ? [problem!]
    : chooseEntry(parseDcrDocument(raw, host.os), host.os).problems;
  if (problems.length) {
    io.err(
      `ctagent: DCR ${cli.dcr} is invalid:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join("\n")}`,
    );
    return EXIT.INVALID_DCR;
  }
  return undefined;
}

/** The change records `--once` keeps per run: the text lists the first by key and counts the rest; --json all. */
export function onceKeepChanges(cli: Pick<Cli, "json">): number {
  return cli.json ? Infinity : PRINTED_CHANGES;
}

interface OnceDeps {
  io: Io;
  opened: OpenedDb;
  collectors: readonly Collector[];
  host: Host;
  log: Logger;
  dataDir: string;
  /** Aborts at a stop signal: the run in flight ends aborted, the rest is skipped (exit 22). */
  stop: AbortSignal;
}

/** Runs every enabled collector once, prints the result, writes the mirrors, delivers; returns the exit code. */
export async function runOnceMode(cli: Cli, d: OnceDeps): Promise<number> {
  // What the last runs said their next can begin before their turn (a rescan's walk: its listings read ahead)
  // begins now, while the DCR is read and the runs before start.
  const begun = await beginRuns(d.opened.db, d.collectors, d.host, d.log);
  try {
    return await onceWith(cli, d, begun);
  } finally {
    for (const b of begun.values()) b.stop();
  }
}

async function onceWith(cli: Cli, d: OnceDeps, begun: ReadonlyMap<string, Begun>): Promise<number> {
  const { io, opened, collectors, host, log, dataDir, stop } = d;
  const ama: AmaOptions = { ...cli.ama, os: host.os };
  const resolved = await resolveConfig({
    db: opened.db,
    os: host.os,
    log,
    dcrFile: cli.dcr,
    fetchAma: amaFetch(ama, log),
    signal: stop,
  });
  const config = withLocalSettings(resolved.config, cli.local);
  // --json prints every change record: they wait on disk, not in memory (db/change_spill.ts). One left by a
  // --once killed long ago goes first.
  let spill: ChangeSpill | undefined;
  if (cli.json) {
    removeSpills(dataDir, new Set(), RESULT_KEPT_MS);
    try {
      spill = ChangeSpill.create(dataDir);
    } catch (e) {
      io.err(`ctagent: ${(e as Error).message}`);
      return EXIT.DATABASE;
    }
  }
  let res: OnceResult;
  try {
    res = await runOnce({
      db: opened.db,
      raw: opened.raw,
      collectors,
      config,
      host,
      log,
      signal: stop,
      outboxMax: cli.outboxMax,
      fields: recordFields(ama),
      collectorSettings: cli.collectorSettings,
      mirrorDir: dataDir,
      keepChanges: spill ? 0 : onceKeepChanges(cli),
      spill,
      heap: heapCollector(),
      begun,
    });
    await printOnce(cli, io, opened, collectors, host, { ...res, config });
  } finally {
    spill?.remove();
  }
  if (stop.aborted) {
    // Stopped: what ran is stored and printed; no mirrors, no delivery (the daemon or the next run does it).
    io.err(`ctagent: ${(stop.reason as Error)?.message ?? "stopped"}; the run in flight was aborted`);
    return EXIT.ABORTED;
  }
  try {
    await writeMirrors({
      db: opened.db,
      dir: dataDir,
      os: host.os,
      only: res.summaries.map((s) => s.collector),
      // Unchanged, or put in place by the run itself: written only if missing.
      unchanged: res.summaries.filter((s) => s.itemsWritten === 0 || s.mirrored).map((s) => s.collector),
    });
  } catch (e) {
    io.err(`ctagent: warning: cannot write the JSON mirrors in ${dataDir}: ${(e as Error).message}`);
  }
  // Delivery is best effort here (SPEC §7.14): its problems are warnings, the exit code reports changes.
  const sent = await deliverOnce({
    db: opened.db,
    raw: opened.raw,
    log,
    config,
    ama,
    timeoutMs: cli.deliverTimeoutMs,
    signal: stop,
  });
  if (sent.warning) io.err(`ctagent: warning: ${sent.warning}`);
  // Stopped while delivering: every run finished, so the exit code still reports the changes (SPEC §7.14).
  return res.exitCode;
}

/**
 * What `--once` prints of the daemon's answer (run_requests.ts): with --json, the change records from the spill
 * file the daemon wrote for this process, removed once printed.
 */
export async function printAnswer(
  cli: Cli,
  io: Io,
  d: { opened: OpenedDb; collectors: readonly Collector[]; host: Host; dataDir: string },
  result: RunResult,
): Promise<number> {
  // Every change record, or an error: a run whose records are neither in the answer nor in a spill it can read.
  const short = result.summaries.filter((s) =>
    (result.spill === undefined || s.spillRun === undefined) &&
    s.counts.added + s.counts.removed + s.counts.modified > s.changes.length
  );
  const path = result.spill === undefined ? undefined : join(d.dataDir, result.spill);
  let spill: ChangeSpill | undefined;
  try {
    if (cli.json && short.length) {
      io.err(
        `ctagent: the daemon could not keep the change records of ${
          short.map((s) => s.collector).join(", ")
        } for --json: see its log`,
      );
      return EXIT.DATABASE;
    }
    spill = path === undefined ? undefined : ChangeSpill.open(path);
    return await printOnce(cli, io, d.opened, d.collectors, d.host, { ...result, spill });
  } catch (e) {
    io.err(`ctagent: ${(e as Error).message}`);
    return EXIT.DATABASE;
  } finally {
    spill?.close();
    if (path !== undefined) rmSync(path, { force: true });
  }
}

/** What `--once` prints (the summary or JSON, and the database's failures on stderr); returns its exit code. */
export async function printOnce(
  cli: Cli,
  io: Io,
  opened: OpenedDb,
  collectors: readonly Collector[],
  host: Host,
  r: Omit<OnceResult, "exitCode"> & { config: ConfigInForce },
): Promise<number> {
  const res = { ...r, exitCode: onceExitCode(r.summaries) };
  if (cli.json) await io.outPieces(onceJson(res, { db: opened.db, collectors, config: r.config, host }));
  else io.out(onceText(res, { collectors, config: r.config, host }));
  for (const s of res.summaries) if (s.storage) io.err(`ctagent: ${s.collector}: ${s.error}: ${s.storage}`);
  return res.exitCode;
}
