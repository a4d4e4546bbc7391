// Structured logs: one line per event on stderr (logfmt), good for journald and grep.
export type Level = "debug" | "info" | "warn" | "error";
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

function fmt(v: unknown): string {
  const s = v instanceof Error ? v.message : typeof v === "string" ? v : JSON.stringify(v) ?? String(v);
  return /^[\w.:/@+-]+$/.test(s) ? s : JSON.stringify(s);
}

/** A logfmt line: `time=… level=… msg="…" key=value`. */
export function formatLine(
  level: Level,
  msg: string,
  fields: Record<string, unknown>,
  now = new Date(),
): string {
  let line = `time=${now.toISOString()} level=${level} msg=${JSON.stringify(msg)}`;
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) line += ` ${k}=${fmt(v)}`;
  return line;
}

export function createLogger(
  opts: { level?: Level; write?: (line: string) => void; fields?: Record<string, unknown> } = {},
): Logger {
  const min = order[opts.level ?? "info"];
  const write = opts.write ?? ((line: string) => console.error(line));
  const base = opts.fields ?? {};
  const at = (level: Level) => (msg: string, fields: Record<string, unknown> = {}) => {
    if (order[level] >= min) write(formatLine(level, msg, { ...base, ...fields }));
  };
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (fields) => createLogger({ ...opts, fields: { ...base, ...fields } }),
  };
}

/** A logger that keeps lines in memory, for tests. */
export function memoryLogger(level: Level = "debug"): Logger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(createLogger({ level, write: (l) => lines.push(l) }), { lines });
}
