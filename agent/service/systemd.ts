// The hardened systemd unit that runs ctagent as a service: pure text generation, no I/O.

export const UNIT_NAME = "ctagent.service";
/** Where the unit lives (under the installer's root). */
export const UNIT_PATH = `/etc/systemd/system/${UNIT_NAME}`;
/** Where `service install` copies the executable. */
export const BIN_PATH = "/usr/local/bin/ctagent";
/** systemd's StateDirectory=ctagent: the database, kept across upgrades and uninstalls. */
export const STATE_DIR = "/var/lib/ctagent";

/**
 * One ExecStart word, quoted for systemd: `%` is a specifier and `$` an expansion, so both are doubled;
 * words with spaces, quotes or backslashes are double-quoted with C escapes.
 */
export function quoteExecWord(word: string): string {
  if (word === "") return '""';
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f\x7f]/.test(word)) {
    throw new RangeError(`Cannot put a control character in ExecStart: ${JSON.stringify(word)}`);
  }
  const escaped = word.replaceAll("%", "%%").replaceAll("$", "$$$$");
  if (!/[\s"'\\;]/.test(escaped)) return escaped;
  return `"${escaped.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/** One `Environment=` assignment: `%` doubled (specifiers); `$` is literal there, unlike in ExecStart. */
export function quoteEnvironment(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new RangeError(`Not an environment variable name: ${JSON.stringify(name)}`);
  }
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f\x7f]/.test(value)) {
    throw new RangeError(`Cannot put a control character in ${name}: ${JSON.stringify(value)}`);
  }
  const word = `${name}=${value}`.replaceAll("%", "%%");
  return /[\s"'\\]/.test(word) ? `"${word.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"` : word;
}

export interface UnitOptions {
  /** The program and its arguments, absolute program path first. */
  execStart: string[];
  /** Version of the installing program, written in the header comment. */
  version: string;
  /** Extra environment, e.g. DENO_DIR when the unit runs `deno run`. */
  environment?: Record<string, string>;
}

/**
 * The unit. The agent must read the whole machine (package databases, unit files, /etc, and whatever a DCR
 * tracks, /home and /root included) but writes only its state directory. So: the file system is
 * read-only (ProtectSystem=strict, ProtectHome=read-only, not =yes, which would hide home directories), root
 * keeps only the capability to read any file (CAP_DAC_READ_SEARCH), and the rest of the kernel is closed.
 * Left out on purpose: PrivateTmp (a DCR may track /tmp), MemoryDenyWriteExecute (the V8 JIT writes code),
 * IPAddressDeny (a forward receiver may be remote), SystemCallFilter (not exercised under systemd here).
 */
export function systemdUnit(opts: UnitOptions): string {
  if (!opts.execStart.length || !opts.execStart[0].startsWith("/")) {
    throw new TypeError(
      `ExecStart needs an absolute program path, got ${JSON.stringify(opts.execStart[0] ?? "")}`,
    );
  }
  const env = Object.entries({ NO_COLOR: "1", ...opts.environment })
    .map(([k, v]) => `Environment=${quoteEnvironment(k, v)}`);
  return `# Written by \`ctagent service install\` (ctagent ${opts.version}); \`ctagent service uninstall\` removes it.
[Unit]
Description=ctagent change tracking and inventory agent
After=network-online.target
Wants=network-online.target

[Service]
Type=exec
ExecStart=${opts.execStart.map(quoteExecWord).join(" ")}
Restart=on-failure
RestartSec=5s
TimeoutStopSec=30s
${env.join("\n")}
# ${STATE_DIR}: the database, kept across upgrades (it migrates itself) and uninstalls
StateDirectory=ctagent
StateDirectoryMode=0700
CacheDirectory=ctagent
UMask=0077

# Reads everything, writes only its state directory
User=root
CapabilityBoundingSet=CAP_DAC_READ_SEARCH
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=read-only
PrivateDevices=yes
PrivateMounts=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
RemoveIPC=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
SystemCallArchitectures=native

[Install]
WantedBy=multi-user.target
`;
}

/** The ExecStart words a unit holds (for `service status`), undefined when it has none. */
export function unitExecStart(unit: string): string | undefined {
  return unit.match(/^ExecStart=(.*)$/m)?.[1];
}
