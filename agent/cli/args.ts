// The command line's words: flags (also from a --config file), subcommands, the help text, and hints for a
// mistyped flag. What each mode does is in its own module beside this one.
import { parseArgs } from "node:util";
import { COLLECTORS } from "../collectors/mod.ts";
import type { CollectorSettings } from "../collectors/types.ts";
import type { Platform } from "../platform.ts";
import type { LocalSettings } from "../config/load.ts";
import { collectorSettingsOf, configFileArgs } from "../config/agent_file.ts";
import { DEFAULT_OUTBOX_MAX } from "../pipeline/run.ts";
import type { RecordFields } from "../pipeline/records.ts";
import { DEFAULT_RETENTION_DAYS } from "../pipeline/retention.ts";
import { parseSince } from "../history.ts";
import { type AmaOptions, checkAmaOptions } from "../ama/mod.ts";
import { type PageFlags, pageFlags } from "../../ui/page_flags.ts";
import { DEFAULT_LISTEN, type Listen, parseListen } from "../../ui/security.ts";

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
  --no-realtime          only the scheduled scans: no watching of what the collectors read (fanotify, inotify,
                         the registry) between them, so no changes within seconds and no process attribution
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
  22  stopped by SIGTERM, SIGINT (Ctrl-C) or Ctrl-Break: the run in flight is recorded as aborted, nothing
      of it stored (the daemon, stopped so, exits 0; a second signal stops either at once)
`;

const OPTIONS = {
  once: { type: "boolean" },
  json: { type: "boolean" },
  dcr: { type: "string" },
  "data-dir": { type: "string" },
  listen: { type: "string" },
  "no-ui": { type: "boolean" },
  "no-realtime": { type: "boolean" },
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
  listen: Listen;
  ui: boolean;
  /** Realtime re-collection between the scheduled scans (off with --no-realtime). */
  realtime: boolean;
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
  let listen;
  try {
    listen = parseListen(v.listen ?? DEFAULT_LISTEN);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
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
    realtime: !v["no-realtime"],
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
