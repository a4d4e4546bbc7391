// The command line: which mode runs (parsing is cli/args.ts, each mode its own module in cli/), the one process
// of a data directory, the state database opened, and the exit code.
import { join } from "node:path";
import { COLLECTORS } from "./collectors/mod.ts";
import type { Collector } from "./collectors/types.ts";
import { EXIT } from "./exit_codes.ts";
import { listenForStop, type StopSignals } from "./stop_signals.ts";
import { liveHost } from "./host/mod.ts";
import { imageComputerName } from "./host/computer_name.ts";
import { createLogger, type Logger } from "./log.ts";
import { type Claim, claimState, onceViaDaemon } from "./state_owner.ts";
import { describeHolder, readHolder } from "./state_lock.ts";
import { DB_FILE, defaultDataDir } from "./paths.ts";
import { VERSION, versionLine } from "./version.ts";
import { liveServiceDeps, serviceCommand } from "./service/mod.ts";
import { DatabaseError, moveDatabaseAside, openDb, type OpenedDb } from "../db/open.ts";
import { storageProblem } from "../db/errors.ts";
import { pageUrl } from "../ui/page_flags.ts";
import { type Cli, HELP, parseCli, UsageError } from "./cli/args.ts";
import { type Io, realIo } from "./cli/io.ts";
import { dcrCheck } from "./cli/dcr_check.ts";
import { checkOnceDcr, onceKeepChanges, printAnswer, runOnceMode } from "./cli/once.ts";
import { READ_COMMANDS, runReadMode } from "./cli/read.ts";
import { runDaemon, waitForSignal } from "./cli/daemon.ts";
import { verifyFile } from "./history.ts";

export type { Cli, Io };
export { parseCli };

export interface MainDeps {
  io?: Io;
  collectors?: readonly Collector[];
  /** Resolves when the daemon should stop (signals); tests pass their own. */
  untilStopped?: (log: Logger) => Promise<void>;
  /** Aborts `--once` (the stop signals by default); tests pass their own. */
  stopSignal?: AbortSignal;
}

/** Runs the command line; returns the exit code. */
export async function main(args: string[], deps: MainDeps = {}): Promise<number> {
  const io = deps.io ?? realIo;
  // `deno task start -- --no-ui` hands the separator through: what follows it is still ours.
  if (args[0] === "--") args = args.slice(1);
  // its own flags (--purge, --no-start, -- agent flags): parsed by the service module
  if (args[0] === "service") {
    return serviceCommand(args.slice(1), { ...liveServiceDeps(VERSION), out: io.out, err: io.err });
  }
  let cli: Cli;
  try {
    cli = parseCli(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(`ctagent: ${e.message}\nRun 'ctagent --help' for usage.`);
    return EXIT.USAGE;
  }
  if (cli.command === "help") return io.out(HELP), EXIT.OK;
  if (cli.command === "version") return io.out(versionLine()), EXIT.OK;

  if (cli.os && cli.command !== "dcr-check" && !cli.root) {
    io.err(`ctagent: --os ${cli.os} needs --root DIR (the mounted image of that OS to inventory)`);
    return EXIT.USAGE;
  }
  // With --root, --os says what the image is: a Windows disk is inventoried from its hives on any OS.
  const host = liveHost({ root: cli.root, os: cli.command === "dcr-check" ? undefined : cli.os });
  const log = createLogger({
    level: cli.verbose ? "debug" : cli.command === "once" ? "warn" : "info",
    write: io.err,
  });
  if (cli.command === "dcr-check") return dcrCheck(cli, io, host.os);
  if (cli.command === "verify" && cli.chainFile && !cli.dataDir) {
    return verifyFile(cli.chainFile, undefined, cli.json, io);
  }
  if (cli.command === "page-url") {
    return pageUrl(cli.dataDir ?? defaultDataDir(host.os, io.env, host.isRoot), cli.listen, cli.page, io);
  }
  if (cli.root) {
    // An image's records name the machine it is, not the one reading it (SPEC §7.20).
    try {
      const name = await imageComputerName(host);
      if (name) host.hostname = name; // otherwise this machine's name, as it is at each run
    } catch (e) {
      log.warn("cannot read the image's computer name; records name this machine", {
        root: cli.root,
        error: e,
      });
    }
  }

  if (cli.command === "once") {
    const bad = await checkOnceDcr(cli, io, host);
    if (bad !== undefined) return bad;
  }
  const dataDir = cli.dataDir ?? defaultDataDir(host.os, io.env, host.isRoot);
  // One process at a time collects and delivers for a data directory (status only reads).
  const claim: Claim = {
    mode: cli.command === "once" ? "once" : "daemon",
    dataDir,
    root: cli.root,
    dcr: cli.dcr,
    os: host.os,
  };
  // verify and export only read the history (verify records its result): no claim either.
  const reader = READ_COMMANDS.includes(cli.command);
  const claimed = reader ? undefined : await claimState(claim, log);
  if (claimed && "refused" in claimed) {
    io.err(`ctagent: ${claimed.refused}`);
    return EXIT.DATABASE;
  }
  let lock = claimed && "lock" in claimed ? claimed.lock : undefined;
  const dbPath = join(dataDir, DB_FILE);
  if (cli.resetState) {
    if (!lock) {
      io.err(`ctagent: --reset-state: ${describeHolder(readHolder(dataDir))} uses ${dataDir}; stop it first`);
      return EXIT.DATABASE;
    }
    try {
      const aside = moveDatabaseAside(dbPath);
      if (aside) {
        io.err(`ctagent: moved ${dbPath} aside to ${aside}; starting a new state (this run is a baseline)`);
      }
    } catch (e) {
      lock.release();
      io.err(`ctagent: --reset-state: cannot move ${dbPath} aside: ${(e as Error).message}`);
      return EXIT.DATABASE;
    }
  }
  let opened;
  let ownStop: StopSignals | undefined;
  try {
    opened = await openState(dbPath, cli.command, !(claimed && "daemon" in claimed), log);
  } catch (e) {
    lock?.release();
    io.err(`ctagent: ${(e as Error).message}`);
    return EXIT.DATABASE;
  }
  try {
    const collectors = deps.collectors ?? COLLECTORS;
    if (READ_COMMANDS.includes(cli.command)) return await runReadMode(cli, io, opened, host);
    // --once stops at SIGTERM, SIGINT or Ctrl-Break (exit 22); the daemon listens in runDaemon.
    const stop = cli.command === "once"
      ? deps.stopSignal ?? (ownStop = listenForStop(log)).signal
      : new AbortController().signal;
    if (claimed && "daemon" in claimed) {
      const asked = await onceViaDaemon({
        db: opened.db,
        log,
        claim,
        daemon: claimed.daemon,
        signal: stop,
        keepChanges: onceKeepChanges(cli),
      });
      if ("refused" in asked) {
        io.err(`ctagent: ${asked.refused}`);
        return EXIT.DATABASE;
      }
      if ("result" in asked) {
        return await printAnswer(cli, io, { opened, collectors, host, dataDir: claim.dataDir }, asked.result);
      }
      lock = asked.lock; // the daemon went away: this process runs the collectors itself
    }
    if (cli.command === "once") {
      return await runOnceMode(cli, { io, opened, collectors, host, log, dataDir, stop });
    }
    return await runDaemon(cli, {
      dataDir,
      opened,
      lock: lock!,
      host,
      log,
      collectors,
      io,
      until: deps.untilStopped ?? waitForSignal,
    });
  } catch (e) {
    if (ownStop?.signal.aborted || deps.stopSignal?.aborted) {
      io.err(`ctagent: ${(e as Error).message}`);
      return EXIT.ABORTED;
    }
    const problem = storageProblem(e);
    if (e instanceof DatabaseError || problem) {
      io.err(
        `ctagent: state database ${opened.path}: ${(e as Error).message}${
          problem ? `: ${problem.advice}` : ""
        }`,
      );
      return EXIT.DATABASE;
    }
    io.err(`ctagent: internal error: ${(e as Error).stack ?? e}`);
    return EXIT.INTERNAL;
  } finally {
    ownStop?.dispose();
    await opened.close();
    lock?.release();
  }
}

/**
 * Opens the state database for `command`. `status` only reads: where this user cannot write (a read-only data
 * directory, a full disk) it still reads what is there.
 */
async function openState(
  path: string,
  command: Cli["command"],
  migrate: boolean,
  log: Logger,
): Promise<OpenedDb> {
  try {
    return await openDb(path, { migrate, version: VERSION });
  } catch (e) {
    // Nothing to write, or no room to (its -wal and -shm files): status reads what is there.
    const kind = storageProblem(e)?.kind;
    const readable = kind === "readonly" || kind === "cantopen" || kind === "full" || kind === "io";
    if (!READ_COMMANDS.includes(command) || !readable) throw e;
    log.debug("the data directory cannot be written; reading it as it is", { path, error: e });
    return await openDb(path, { readOnly: true, version: VERSION });
  }
}
