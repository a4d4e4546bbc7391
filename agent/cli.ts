// The command line: flags, subcommands (`dcr check`, `status`), and what each run mode prints and returns.
import { parseArgs } from "node:util";
import { join } from "node:path";
import { COLLECTORS } from "./collectors/mod.ts";
import type { Collector, CollectorSettings } from "./collectors/types.ts";
import type { Platform } from "./platform.ts";
import { chooseEntry, EXTENSION_NAME, parseDcrDocument } from "./config/document.ts";
import {
  type ConfigInForce,
  type LocalSettings,
  readDcrFile,
  resolveConfig,
  withLocalSettings,
} from "./config/load.ts";
import { EXIT } from "./exit_codes.ts";
import { collectorSettingsOf, configFileArgs } from "./config/agent_file.ts";
import { type Host, liveHost } from "./host/mod.ts";
import { imageComputerName } from "./host/computer_name.ts";
import { createLogger, type Logger } from "./log.ts";
import { onceExitCode, onceJson, type OnceResult, onceText, runOnce } from "./once.ts";
import { type Claim, claimState, onceViaDaemon, skippedBy } from "./state_owner.ts";
import { describeHolder, readHolder, type StateLock } from "./state_lock.ts";
import { serveRunRequests } from "./run_requests.ts";
import { watchDatabaseFile, writeStateBack } from "./data_dir_watch.ts";
import { DB_FILE, defaultDataDir } from "./paths.ts";
import { DEFAULT_OUTBOX_MAX } from "./pipeline/run.ts";
import type { RecordFields } from "./pipeline/records.ts";
import { DEFAULT_RETENTION_DAYS } from "./pipeline/retention.ts";
import { readStatus, statusText } from "./status.ts";
import { exportHistory, parseSince, verifyDatabase, verifyFile } from "./history.ts";
import { VERSION, versionLine } from "./version.ts";
import { liveServiceDeps, serviceCommand } from "./service/mod.ts";
import {
  amaFetch,
  type AmaOptions,
  checkAmaOptions,
  deliverOnce,
  recordFields,
  writeMirrors,
} from "./ama/mod.ts";
import { DatabaseError, moveDatabaseAside, openDb, type OpenedDb } from "../db/open.ts";
import { storageProblem } from "../db/errors.ts";
import { type PageFlags, pageFlags, pageUrl } from "../ui/page_flags.ts";

export const DEFAULT_LISTEN = "127.0.0.1:8470";
export const DEFAULT_DELIVER_TIMEOUT_S = 5;

export const HELP = `ctagent: Change Tracking & Inventory agent

Usage:
  ctagent [options]              run the agent (collectors on the DCR's schedule, and the local page)
  ctagent --once [--json]        run every enabled collector once, print a summary, exit
  ctagent dcr check FILE         validate a DCR, print the normalized settings (--os linux|windows, --json)
  ctagent status [--json]        what the last runs did, the DCR in force, the outbox, the history chain
  ctagent verify [--json]        check the history's hash chain link by link; name the first broken one
  ctagent verify --file FILE     check an export offline (with --data-dir: against that database too)
  ctagent export [--out FILE] [--since T]
                                 write the history as a file that verifies itself (stdout without --out);
                                 T: ISO 8601 (2026-01-31, 2026-01-31T12:00Z), epoch ms, or 7d, 24h, 30m ago
  ctagent page-url [--rotate]    the address that signs a browser in to the local page (needs read access
                                 to the page token in the data directory: root for the system agent);
                                 --rotate makes a new token, which ends every session
  ctagent service install|uninstall|status
                                 run at boot: a hardened systemd unit, or a Windows boot task
                                 (see ctagent service --help)

Options:
  --once                 one pass of every enabled collector, then exit
  --json                 machine-readable output (--once, status, dcr check, verify)
  --dcr FILE             take the DCR from FILE (re-read when it changes) instead of AMA
  --data-dir DIR         where the state database lives (default: /var/lib/ctagent as root,
                         $XDG_STATE_HOME/ctagent or ~/.local/state/ctagent otherwise,
                         %ProgramData%\\ctagent on Windows)
  --listen HOST:PORT     address of the local page (default ${DEFAULT_LISTEN}); a non-loopback address
                         needs --tls-cert and --tls-key, or --insecure-listen
  --no-ui                do not serve the local page
  --tls-cert FILE        serve the page over HTTPS with this certificate (PEM) ...
  --tls-key FILE         ... and its private key (PEM)
  --insecure-listen      allow a non-loopback --listen without TLS (the sign-in crosses the network in clear)
  --no-auth              no sign-in to the page: every local user can read it. Throwaway test machines only
  --capture-restricted PATH
                         capture (and show) the content of PATH, or of files under PATH/, even though not
                         every user may read it; a secret-bearing name (shadow, *.key, ...) must be the
                         file's own path (repeatable; as the DCR's fileInfo captureRestricted does)
  --root DIR             read the machine under DIR (a mounted disk image or a test tree)
  --reset-state          move the state database aside (renamed, kept) and start a new one: the next run is
                         a baseline. For a database ctagent refuses (not its own, damaged, from a newer one)
  --retention-days N     keep N days of change history (default ${DEFAULT_RETENTION_DAYS})
  --outbox-max N         most records kept for delivery; beyond it the oldest are dropped and counted
                         (default ${DEFAULT_OUTBOX_MAX})
  --forward URL          send records to a fluentd forward receiver (fluentd, fluent-bit, Vector) instead of
                         AMA, with acks: tcp://HOST:PORT, unix:///path or @abstract
  --forward-fields la|full
                         what --forward sends of each record: full (default) every field ctagent has,
                         la only the Log Analytics columns AMA gets
  --ama-config ENDPOINT  where to ask AMA for the DCR (repeatable; default: AMA's config socket or pipe)
  --ama-data ENDPOINT    where to send records to AMA (default: the ChangeTracking data socket or pipes)
  --no-ama               do not talk to AMA (config comes from --dcr, last good or built-in)
  --config FILE          read settings from FILE: a JSON object of these long flags and their values,
                         e.g. {"forward": "tcp://127.0.0.1:24224", "no-ui": true}; flags given here win
  --deliver-timeout S    (--once) wait at most S seconds to deliver what the run produced (default ${DEFAULT_DELIVER_TIMEOUT_S})
  --os linux|windows     with --root: the OS of the image (a Windows disk is read from its hives);
                         with dcr check: the OS a bare extensionSettings object is checked for
  -v, --verbose          debug logging
  -h, --help             this help
  -V, --version          version, commit and build date

Exit codes (--once):
  0   nothing changed
  1   something was added      } added together when several kinds of change happened
  2   something was removed    } (e.g. 5 = added and modified), as AIDE and Tripwire do
  4   something was modified   }
  16  bad command line
  17  invalid DCR (--dcr FILE, dcr check)
  18  a collector failed (the others' results are still stored and printed)
  19  the state database cannot be opened or written
  20  internal error
  21  verify: the history's hash chain, or the export, is broken
`;

const OPTIONS = {
  once: { type: "boolean" },
  json: { type: "boolean" },
  dcr: { type: "string" },
  "data-dir": { type: "string" },
  listen: { type: "string" },
  "no-ui": { type: "boolean" },
  "reset-state": { type: "boolean" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "insecure-listen": { type: "boolean" },
  "no-auth": { type: "boolean" },
  "capture-restricted": { type: "string", multiple: true },
  rotate: { type: "boolean" },
  root: { type: "string" },
  "retention-days": { type: "string" },
  "outbox-max": { type: "string" },
  forward: { type: "string" },
  "forward-fields": { type: "string" },
  "ama-config": { type: "string", multiple: true },
  "ama-data": { type: "string" },
  "no-ama": { type: "boolean" },
  "deliver-timeout": { type: "string" },
  os: { type: "string" },
  config: { type: "string" },
  verbose: { type: "boolean", short: "v" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
  file: { type: "string" },
  out: { type: "string" },
  since: { type: "string" },
} as const;

export interface Io {
  out(text: string): void;
  err(text: string): void;
  env(name: string): string | undefined;
}

export const realIo: Io = {
  out: (t) => console.log(t),
  err: (t) => console.error(t),
  env: (k) => Deno.env.get(k),
};

export class UsageError extends Error {
  override name = "UsageError";
}

function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

/** "did you mean --data-dir?" for a mistyped flag. */
export function hintFor(flag: string): string {
  const bare = flag.replace(/^-+/, "").split("=")[0];
  const best =
    Object.keys(OPTIONS).map((o) => [o, levenshtein(bare, o)] as const).sort((a, b) => a[1] - b[1])[0];
  return best && best[1] <= Math.max(2, Math.floor(bare.length / 3)) ? ` (did you mean --${best[0]}?)` : "";
}

export interface Cli {
  command: "run" | "once" | "dcr-check" | "status" | "page-url" | "verify" | "export" | "help" | "version";
  json: boolean;
  dcr?: string;
  dataDir?: string;
  listen: { hostname: string; port: number };
  ui: boolean;
  /** The page's sign-in, TLS and non-loopback consent (ui/page_flags.ts). */
  page: PageFlags;
  /** ctagent's own settings added to the DCR in force. */
  local: LocalSettings;
  root?: string;
  retentionDays: number;
  outboxMax: number;
  /** AMA / forward endpoints; `os` is filled in with the host's. */
  ama: Omit<AmaOptions, "os">;
  deliverTimeoutMs: number;
  os?: Platform;
  verbose: boolean;
  file?: string;
  /** `verify --file`: the export to check. */
  chainFile?: string;
  /** `export --out`, `export --since` (epoch ms). */
  out?: string;
  since?: number;
  /** `--reset-state`: move the database aside before opening. */
  resetState: boolean;
  /** The `collectors` settings of the --config file (collectors the DCR does not schedule). */
  collectorSettings: CollectorSettings;
}

function positiveInt(flag: string, v: string | undefined, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(`--${flag}: expected a positive whole number, got ${JSON.stringify(v)}`);
  }
  return n;
}

export function parseListen(v: string): { hostname: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new UsageError(
      `--listen: expected HOST:PORT (e.g. 127.0.0.1:8470 or [::1]:8470), got ${JSON.stringify(v)}`,
    );
  }
  return { hostname: m[1] ?? m[2], port };
}

function absolutePaths(flag: string, paths: string[] = []): string[] {
  for (const p of paths) {
    if (!/^(\/|[A-Za-z]:[\\/]|\\\\)/.test(p)) {
      throw new UsageError(`--${flag}: expected an absolute path, got ${JSON.stringify(p)}`);
    }
  }
  return paths;
}

function amaFlags(
  v: {
    forward?: string;
    "forward-fields"?: string;
    "ama-config"?: string[];
    "ama-data"?: string;
    "no-ama"?: boolean;
  },
): Cli["ama"] {
  const fields = v["forward-fields"];
  if (fields !== undefined && fields !== "la" && fields !== "full") {
    throw new UsageError(`--forward-fields: expected la or full, got ${JSON.stringify(fields)}`);
  }
  if (fields !== undefined && !v.forward) throw new UsageError("--forward-fields needs --forward URL");
  const ama = {
    forward: v.forward,
    forwardFields: fields as RecordFields | undefined,
    configEndpoints: v["ama-config"],
    dataEndpoint: v["ama-data"],
    noAma: !!v["no-ama"],
  };
  const problem = checkAmaOptions({ ...ama, os: "linux" });
  if (problem) throw new UsageError(problem);
  return ama;
}

/** Parses the command line; throws UsageError with a hint for anything it does not know. */
export function parseCli(args: string[]): Cli {
  let parsed;
  let collectorSettings: CollectorSettings = {};
  // --config FILE: the file's settings go first, so flags on the command line win.
  const at = args.findIndex((a) => a === "--config" || a.startsWith("--config="));
  if (at >= 0) {
    const file = args[at].startsWith("--config=") ? args[at].slice("--config=".length) : args[at + 1];
    if (!file) throw new UsageError("--config: expected a FILE");
    let text: string;
    try {
      text = Deno.readTextFileSync(file);
    } catch (e) {
      throw new UsageError(`--config: cannot read ${file}: ${(e as Error).message}`);
    }
    try {
      args = [...configFileArgs(text, file, OPTIONS), ...args];
      const own = COLLECTORS.flatMap((c) => c.schedule.dcr === null ? [c.schedule.setting] : []);
      collectorSettings = collectorSettingsOf(text, file, own);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    const msg = (e as Error).message;
    const flag = /'([^']+)'/.exec(msg)?.[1] ?? "";
    if ((e as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      throw new UsageError(`unknown flag ${flag}${hintFor(flag)}`);
    }
    throw new UsageError(msg);
  }
  const v = parsed.values;
  const pos = parsed.positionals;
  let command: Cli["command"] = v.once ? "once" : "run";
  let file: string | undefined;
  if (pos[0] === "dcr") {
    if (pos[1] !== "check" || !pos[2] || pos.length > 3) {
      throw new UsageError("usage: ctagent dcr check FILE");
    }
    command = "dcr-check";
    file = pos[2];
  } else if (pos[0] === "status" || pos[0] === "page-url" || pos[0] === "verify" || pos[0] === "export") {
    if (pos.length > 1) throw new UsageError(`${pos[0]} takes no arguments, got ${JSON.stringify(pos[1])}`);
    command = pos[0];
  } else if (pos.length) {
    throw new UsageError(
      `unknown command ${
        JSON.stringify(pos[0])
      } (commands: dcr check FILE, status, page-url, verify, export, service; see --help)`,
    );
  }
  if (v.rotate && command !== "page-url") throw new UsageError("--rotate goes with page-url");
  if (v.file !== undefined && command !== "verify") throw new UsageError("--file goes with verify");
  if ((v.out !== undefined || v.since !== undefined) && command !== "export") {
    throw new UsageError(`--${v.out !== undefined ? "out" : "since"} goes with export`);
  }
  if (v["reset-state"] && command !== "run" && command !== "once") {
    throw new UsageError("--reset-state goes with --once or the daemon (it moves the state database aside)");
  }
  if (v.help) command = "help";
  else if (v.version) command = "version";
  if (v.os !== undefined && v.os !== "linux" && v.os !== "windows") {
    throw new UsageError(`--os: expected linux or windows, got ${JSON.stringify(v.os)}`);
  }
  const listen = parseListen(v.listen ?? DEFAULT_LISTEN);
  let since: number | undefined;
  try {
    since = v.since === undefined ? undefined : parseSince(v.since, Date.now());
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return {
    command,
    file,
    json: !!v.json,
    dcr: v.dcr,
    dataDir: v["data-dir"],
    listen,
    ui: !v["no-ui"],
    page: pageFlags(v, listen, command === "run", (m) => new UsageError(m)),
    local: { captureRestrictedPaths: absolutePaths("capture-restricted", v["capture-restricted"]) },
    root: v.root,
    retentionDays: positiveInt("retention-days", v["retention-days"], DEFAULT_RETENTION_DAYS),
    outboxMax: positiveInt("outbox-max", v["outbox-max"], DEFAULT_OUTBOX_MAX),
    ama: amaFlags(v),
    deliverTimeoutMs: positiveInt("deliver-timeout", v["deliver-timeout"], DEFAULT_DELIVER_TIMEOUT_S) * 1000,
    os: v.os as Platform | undefined,
    verbose: !!v.verbose,
    resetState: !!v["reset-state"],
    collectorSettings,
    chainFile: v.file,
    out: v.out,
    since,
  };
}

/** `dcr check FILE`: every CT configuration in the file, normalized, or every problem with its JSON path. */
export async function dcrCheck(cli: Cli, io: Io, os: Platform): Promise<number> {
  const { raw, problem } = await readDcrFile(cli.file!);
  if (raw === undefined) {
    io.err(`ctagent: ${problem!.message}`);
    return EXIT.INVALID_DCR;
  }
  const doc = parseDcrDocument(raw, cli.os ?? os);
  const problems = [...doc.problems, ...doc.entries.flatMap((e) => e.problems)];
  const warnings = [...doc.warnings, ...doc.entries.flatMap((e) => e.warnings)];
  for (const o of ["linux", "windows"] as const) {
    const mine = doc.entries.filter((e) => e.os === o);
    if (mine.length > 1) {
      warnings.push(...chooseEntry(doc, o).warnings.filter((w) => w.includes("configurations: using")));
    }
  }
  const valid = problems.length === 0;
  if (cli.json) {
    io.out(JSON.stringify(
      {
        file: cli.file,
        form: doc.form ?? null,
        valid,
        problems,
        warnings,
        configurations: doc.entries.map((e) => ({
          extensionName: EXTENSION_NAME[e.os],
          id: e.id,
          path: e.path,
          valid: e.problems.length === 0,
          settings: e.settings ?? null,
          outputStreams: e.outputStreams,
        })),
      },
      null,
      2,
    ));
  } else {
    io.out(
      `${cli.file}: ${
        doc.form ? `${doc.form} form` : "unrecognised"
      }, ${doc.entries.length} Change Tracking configuration(s)`,
    );
    for (const e of doc.entries) {
      io.out(`\n${EXTENSION_NAME[e.os]} ${e.id} (${e.problems.length ? "INVALID" : "valid"})`);
      if (e.settings) io.out(JSON.stringify(e.settings, null, 2));
    }
    for (const w of warnings) io.err(`warning: ${w}`);
    if (!valid) {
      io.err(`\n${problems.length} problem(s):`);
      for (const p of problems) io.err(`  ${p.path}: ${p.message}`);
    }
  }
  return valid ? EXIT.OK : EXIT.INVALID_DCR;
}

export interface MainDeps {
  io?: Io;
  collectors?: readonly Collector[];
  /** Resolves when the daemon should stop (signals); tests pass their own. */
  untilStopped?: (log: Logger) => Promise<void>;
}

function waitForSignal(log: Logger): Promise<void> {
  return new Promise((resolve) => {
    const signals: Deno.Signal[] = Deno.build.os === "windows"
      ? ["SIGINT", "SIGBREAK"]
      : ["SIGINT", "SIGTERM"];
    const handler = () => {
      log.info("stopping");
      for (const s of signals) Deno.removeSignalListener(s, handler);
      resolve();
    };
    for (const s of signals) Deno.addSignalListener(s, handler);
  });
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
      host.hostname = await imageComputerName(host) ?? host.hostname;
    } catch (e) {
      log.warn("cannot read the image's computer name; records name this machine", {
        root: cli.root,
        error: e,
      });
    }
  }

  if (cli.command === "once" && cli.dcr) {
    // A script that names a DCR wants that DCR: an invalid one stops --once rather than running another.
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
  const reader = cli.command === "status" || cli.command === "verify" || cli.command === "export";
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
  try {
    opened = await openState(dbPath, cli.command, !(claimed && "daemon" in claimed), log);
  } catch (e) {
    lock?.release();
    io.err(`ctagent: ${(e as Error).message}`);
    return EXIT.DATABASE;
  }
  try {
    const collectors = deps.collectors ?? COLLECTORS;
    if (cli.command === "status") {
      const s = await readStatus(opened.db);
      io.out(cli.json ? JSON.stringify(s, null, 2) : statusText(s));
      return EXIT.OK;
    }
    if (cli.command === "verify") {
      return cli.chainFile
        ? verifyFile(cli.chainFile, opened, cli.json, io)
        : await verifyDatabase(opened, cli.json, io);
    }
    if (cli.command === "export") {
      return exportHistory(opened, { out: cli.out, since: cli.since, computer: host.hostname }, io);
    }
    if (claimed && "daemon" in claimed) {
      const asked = await onceViaDaemon({ db: opened.db, log, claim, daemon: claimed.daemon });
      if ("refused" in asked) {
        io.err(`ctagent: ${asked.refused}`);
        return EXIT.DATABASE;
      }
      if ("result" in asked) return printOnce(cli, io, opened, collectors, host, asked.result);
      lock = asked.lock; // the daemon went away: this process runs the collectors itself
    }
    if (cli.command === "once") {
      const ama: AmaOptions = { ...cli.ama, os: host.os };
      const resolved = await resolveConfig({
        db: opened.db,
        os: host.os,
        log,
        dcrFile: cli.dcr,
        fetchAma: amaFetch(ama, log),
      });
      const config = withLocalSettings(resolved.config, cli.local);
      const res = await runOnce({
        db: opened.db,
        raw: opened.raw,
        collectors,
        config,
        host,
        log,
        signal: new AbortController().signal,
        outboxMax: cli.outboxMax,
        fields: recordFields(ama),
        collectorSettings: cli.collectorSettings,
      });
      printOnce(cli, io, opened, collectors, host, { ...res, config });
      try {
        await writeMirrors({
          db: opened.db,
          dir: dataDir,
          os: host.os,
          only: res.summaries.map((s) => s.collector),
          unchanged: res.summaries.filter((s) => s.itemsWritten === 0).map((s) => s.collector),
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
      });
      if (sent.warning) io.err(`ctagent: warning: ${sent.warning}`);
      return res.exitCode;
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
    const reads = command === "status" || command === "verify" || command === "export";
    if (!reads || !(kind === "readonly" || kind === "cantopen" || kind === "full" || kind === "io")) throw e;
    log.debug("the data directory cannot be written; reading it as it is", { path, error: e });
    return await openDb(path, { readOnly: true, version: VERSION });
  }
}

/** What `--once` prints (the summary or JSON, and the database's failures on stderr); returns its exit code. */
function printOnce(
  cli: Cli,
  io: Io,
  opened: OpenedDb,
  collectors: readonly Collector[],
  host: Host,
  r: Omit<OnceResult, "exitCode"> & { config: ConfigInForce },
): number {
  const res = { ...r, exitCode: onceExitCode(r.summaries) };
  io.out(
    cli.json
      ? JSON.stringify(onceJson(res, { raw: opened.raw, collectors, config: r.config, host }))
      : onceText(res, { collectors, config: r.config, host }),
  );
  for (const s of res.summaries) if (s.storage) io.err(`ctagent: ${s.collector}: ${s.error}: ${s.storage}`);
  return res.exitCode;
}

async function runDaemon(
  cli: Cli,
  d: {
    dataDir: string;
    opened: OpenedDb;
    /** The state lock this daemon holds for its whole life. */
    lock: StateLock;
    host: ReturnType<typeof liveHost>;
    log: Logger;
    collectors: readonly Collector[];
    io: Io;
    until: (log: Logger) => Promise<void>;
  },
): Promise<number> {
  const { startAgent } = await import("./agent.ts");
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
  });
  let ui: { url: string; stop(): Promise<void> } | undefined;
  if (cli.ui) {
    const { startUi } = await import("../ui/server.ts");
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
    agent: { ...agent, skipped: () => skippedBy(agent.scheduler.status(), d.host.os) },
  });
  const file = watchDatabaseFile(d.opened.path);
  await Promise.race([d.until(d.log), file.changed]);
  file.stop();
  await stopServing();
  await ui?.stop();
  await agent.stop();
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
