// Structured logs: one line per event on stderr (logfmt), good for journald and grep.
export type Level = "debug" | "info" | "warn" | "error";
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
/** syslog priorities: journald reads a leading `<N>` on a service's stderr as the line's priority. */
const priority: Record<Level, number> = { debug: 7, info: 6, warn: 4, error: 3 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/** Field names whose values never reach a log: keys, passwords, tokens, SAS signatures, connection strings. */
const SECRET_FIELD =
  /pass(word|wd|phrase)?$|secret|token|authorization|credential|api_?key|private_?key|^sig$|signature|sas|connection_?string/i;

/** Hides secrets inside a value: SAS signatures and tokens in URLs, passwords in `user:pass@` URLs. */
export function redact(text: string): string {
  return text
    .replace(/([?&](?:sig|signature|token|access_token|code|se?cret|password)=)[^&\s"]+/gi, "$1REDACTED")
    .replace(/(\b[a-z][\w+.-]*:\/\/[^\s:/@"]+:)[^\s@/"]+@/gi, "$1REDACTED@");
}

const VERBATIM = Symbol("verbatim");

/**
 * A value logged as it is, secrets and all: only for what the log exists to tell its reader (the page's
 * sign-in address, which the journal keeps for root and adm only).
 */
export function verbatim(text: string): { [VERBATIM]: string } {
  return { [VERBATIM]: text };
}

function fmt(k: string, v: unknown): string {
  if (typeof v === "object" && v !== null && VERBATIM in v) {
    const s = (v as { [VERBATIM]: string })[VERBATIM];
    return /^[\w.:/@+?=&-]+$/.test(s) ? s : JSON.stringify(s);
  }
  if (SECRET_FIELD.test(k)) return "REDACTED";
  const raw = v instanceof Error ? v.message : typeof v === "string" ? v : JSON.stringify(v) ?? String(v);
  const s = redact(raw);
  return /^[\w.:/@+-]+$/.test(s) ? s : JSON.stringify(s);
}

/**
 * A logfmt line: `time=… level=… msg="…" key=value`. For journald (`journal`): no time (the journal stamps
 * each line) and a `<N>` priority prefix, which journald strips and keeps as the entry's priority, so
 * `journalctl -u ctagent -p warning` works.
 */
export function formatLine(
  level: Level,
  msg: string,
  fields: Record<string, unknown>,
  now = new Date(),
  journal = false,
): string {
  let line = journal
    ? `<${priority[level]}>level=${level} msg=${JSON.stringify(redact(msg))}`
    : `time=${now.toISOString()} level=${level} msg=${JSON.stringify(redact(msg))}`;
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) line += ` ${k}=${fmt(k, v)}`;
  // one event, one line, whatever a value holds
  return line.replace(/[\r\n]+/g, " ");
}

/** Whether stderr goes to the journal: systemd sets JOURNAL_STREAM for a service's stdout/stderr. */
export function underJournald(env: (name: string) => string | undefined = (n) => Deno.env.get(n)): boolean {
  try {
    return /^\d+:\d+$/.test(env("JOURNAL_STREAM") ?? "");
  } catch {
    return false; // no --allow-env: then not a service we installed (its unit runs with -A)
  }
}

export function createLogger(
  opts: {
    level?: Level;
    write?: (line: string) => void;
    fields?: Record<string, unknown>;
    /** journald format (see formatLine); default: when systemd runs us with stderr on the journal. */
    journal?: boolean;
  } = {},
): Logger {
  const min = order[opts.level ?? "info"];
  const write = opts.write ?? ((line: string) => console.error(line));
  const base = opts.fields ?? {};
  const journal = opts.journal ?? underJournald();
  const at = (level: Level) => (msg: string, fields: Record<string, unknown> = {}) => {
    if (order[level] >= min) write(formatLine(level, msg, { ...base, ...fields }, new Date(), journal));
  };
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (fields) => createLogger({ ...opts, journal, fields: { ...base, ...fields } }),
  };
}

/** A logger that keeps lines in memory, for tests. */
export function memoryLogger(level: Level = "debug"): Logger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(createLogger({ level, write: (l) => lines.push(l), journal: false }), { lines });
}
