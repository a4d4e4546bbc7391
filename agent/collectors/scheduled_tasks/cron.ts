// Crontab syntax as Debian's cron 3.0pl1 reads it (entry.c, env.c, user.c): environment lines, the five time
// fields (ranges, steps, names, lists), @specials, the user field of system crontabs; pure functions, no I/O.

/** The longest command cron keeps (MAX_COMMAND − 1 bytes): a longer one is "command too long". */
const MAX_COMMAND = 1000;
/** The longest environment line and number cron reads (MAX_ENVSTR, MAX_TEMPSTR). */
const MAX_ENVSTR = 1000;
/** cron stops, ignoring the crontab, once an entry ends past this line (MAX_TAB_LINES + NHEADER_LINES + 2). */
const MAX_LINE = 10000 + 3 + 2;
const EOF = -1;

/** When a cron job runs, as cron holds it after parsing. */
export interface CronTimes {
  minute: number[];
  hour: number[];
  dayOfMonth: number[];
  month: number[];
  /** 0–6, Sunday 0 (cron's 7 folded in). */
  dayOfWeek: number[];
  /**
   * Whether the day-of-month or day-of-week field started with `*` (`*`, `*\/2`): then a day must match both
   * fields, otherwise either (cron's DOM_STAR/DOW_STAR rule).
   */
  bothDays: boolean;
}

export type CronLine =
  | { kind: "env"; line: number; name: string; value: string }
  | {
    kind: "job";
    line: number;
    /** The line as written. */
    text: string;
    /** The time fields as written, blanks between them made one space (`*\/5 * * * 1-5`, `@daily`). */
    schedule: string;
    /** null for @reboot. */
    times: CronTimes | null;
    /** The user field of a system crontab (/etc/crontab, /etc/cron.d); null in a user's crontab. */
    user: string | null;
    command: string;
    /** The crontab's environment assignments in force for this job (NAME=value, in cron's order). */
    env: string[];
  }
  | { kind: "error"; line: number; text: string; error: string };

export interface ParsedCrontab {
  lines: CronLine[];
  /** Why cron ignores the whole file without a bad entry (no newline at its end, too long), or null. */
  ignored: string | null;
}

const isBlank = (c: number) => c === 0x20 || c === 0x09;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isAlnum = (c: number) => isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
/** C's isspace in the C locale. */
const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/** A crontab read one character at a time with cron's line counting (get_char, unget_char). */
class Stream {
  pos = 0;
  line = 1;
  constructor(readonly text: string) {}
  get(): number {
    if (this.pos >= this.text.length) {
      this.pos = this.text.length + 1; // past the end: an unget of EOF puts nothing back
      return EOF;
    }
    const c = this.text.charCodeAt(this.pos++);
    if (c === 0x0a) this.line++;
    return c;
  }
  unget(c: number): void {
    if (c === EOF) return;
    this.pos--;
    if (c === 0x0a) this.line--;
  }
  /** get_string: up to a terminator (returned, consumed), keeping at most `size - 1` characters. */
  string(size: number, terms: string): { text: string; ch: number } {
    let text = "", ch: number;
    while ((ch = this.get()) !== EOF && !terms.includes(String.fromCharCode(ch))) {
      if (size > 1) {
        text += String.fromCharCode(ch);
        size--;
      }
    }
    return { text, ch };
  }
  /** skip_comments: past blank lines and lines whose first non-blank is `#`. */
  skipComments(): void {
    let ch = EOF;
    while ((ch = this.get()) !== EOF) {
      while (isBlank(ch)) ch = this.get();
      if (ch === EOF) break;
      if (ch !== 0x0a && ch !== 0x23) break;
      while (ch !== 0x0a && ch !== EOF) ch = this.get();
    }
    this.unget(ch);
  }
}

const NAMEI = 0, NAME = 1, EQ1 = 2, EQ2 = 3, VALUEI = 4, VALUE = 5, FINI = 6, ERROR = 7;

/** env.c load_env's test of one line: `NAME=value` (either may be quoted), or null when it is not one. */
export function parseEnvLine(envstr: string): { name: string; value: string } | null {
  let name = "", val = "";
  let state = NAMEI;
  let quote = "";
  let toVal = false;
  let i = 0;
  const add = (ch: string) => toVal ? (val += ch) : (name += ch);
  while (state !== ERROR && i < envstr.length) {
    const c = envstr[i];
    switch (state) {
      case NAMEI:
      case VALUEI:
      case NAME:
      case VALUE: {
        if (state === NAMEI || state === VALUEI) {
          if (envstr[i] === "'" || envstr[i] === '"') quote = envstr[i++];
          state++;
          if (i >= envstr.length) continue;
        }
        const d = envstr[i];
        if (quote) {
          if (d === quote) {
            state++;
            i++;
            break;
          }
          if (state === NAME && d === "=") {
            state = ERROR;
            break;
          }
        } else if (state === NAME) {
          if (isSpace(d.charCodeAt(0))) {
            i++;
            state++;
            break;
          }
          if (d === "=") {
            state++;
            break;
          }
        }
        add(d);
        i++;
        break;
      }
      case EQ1:
        if (c === "=") {
          state++;
          toVal = true;
          quote = "";
        } else if (!isSpace(c.charCodeAt(0))) state = ERROR;
        i++;
        break;
      case EQ2:
      case FINI:
        if (isSpace(c.charCodeAt(0))) i++;
        else state++;
        break;
    }
  }
  if (state !== FINI && !(state === VALUE && !quote)) return null;
  // strdtb, then one pair of matching outer quotes goes.
  val = val.replace(/[\t\n\v\f\r ]+$/, "");
  if (val.length >= 2 && (val[0] === "'" || val[0] === '"') && val[val.length - 1] === val[0]) {
    val = val.slice(1, -1);
  }
  if (name.length + 1 + val.length >= MAX_ENVSTR - 1) return null;
  return { name, value: val };
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/** get_number: a name of `names` or digits; EOF when neither. */
function getNumber(
  s: Stream,
  ch: number,
  low: number,
  names: readonly string[] | null,
): { n: number; ch: number } {
  let temp = "";
  let digits = true;
  while (isAlnum(ch)) {
    if (temp.length + 1 >= MAX_ENVSTR) return { n: 0, ch: EOF };
    temp += String.fromCharCode(ch);
    if (!isDigit(ch)) digits = false;
    ch = s.get();
  }
  if (!temp) return { n: 0, ch: EOF };
  const named = names?.indexOf(temp.toLowerCase()) ?? -1;
  if (named >= 0) return { n: named + low, ch };
  if (digits) return { n: atoi(temp), ch };
  return { n: 0, ch: EOF };
}

/** C's atoi on glibc: strtol clamped to the range of a long, then cut to an int (`4294967296` is 0). */
function atoi(digits: string): number {
  const LONG_MAX = (1n << 63n) - 1n;
  const n = BigInt(digits);
  return Number(BigInt.asIntN(32, n > LONG_MAX ? LONG_MAX : n));
}

/** get_range: `*`, `N`, `N-M`, each with an optional `/step` (not after a lone number). */
function getRange(
  s: Stream,
  bits: Set<number>,
  low: number,
  high: number,
  names: readonly string[] | null,
  ch: number,
): number {
  let n1: number, n2: number, step = 1;
  if (ch === 0x2a) {
    n1 = low;
    n2 = high;
    ch = s.get();
    if (ch === EOF) return EOF;
  } else {
    let r = getNumber(s, ch, low, names);
    if (r.ch === EOF) return EOF;
    n1 = r.n;
    ch = r.ch;
    if (ch !== 0x2d) {
      if (ch === 0x2f) return EOF; // a step after a single number
      if (n1 < low || n1 > high) return EOF;
      bits.add(n1);
      return ch;
    }
    ch = s.get();
    if (ch === EOF) return EOF;
    r = getNumber(s, ch, low, names);
    if (r.ch === EOF) return EOF;
    n2 = r.n;
    ch = r.ch;
  }
  if (ch === 0x2f) {
    ch = s.get();
    if (ch === EOF) return EOF;
    const r = getNumber(s, ch, 0, null);
    if (r.ch === EOF || r.n <= 0) return EOF;
    step = r.n;
    ch = r.ch;
  }
  if (n1 < low || n1 > high || n2 < low || n2 > high) return EOF;
  for (let i = n1; i <= n2; i += step) bits.add(i); // a range backwards sets nothing
  return ch;
}

/** get_list: ranges separated by commas; whatever follows up to a blank is skipped, then the blanks. */
function getList(
  s: Stream,
  low: number,
  high: number,
  names: readonly string[] | null,
  ch: number,
): { bits: Set<number>; ch: number } {
  const bits = new Set<number>();
  for (;;) {
    ch = getRange(s, bits, low, high, names, ch);
    if (ch === 0x2c) ch = s.get();
    else break;
  }
  while (ch !== 0x09 && ch !== 0x20 && ch !== 0x0a && ch !== EOF) ch = s.get();
  while (isBlank(ch)) ch = s.get();
  return { bits, ch };
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const SPECIALS: Record<string, CronTimes | null> = Object.assign(Object.create(null), {
  reboot: null,
  yearly: {
    minute: [0],
    hour: [0],
    dayOfMonth: [1],
    month: [1],
    dayOfWeek: range(0, 6),
    bothDays: true,
  },
  monthly: {
    minute: [0],
    hour: [0],
    dayOfMonth: [1],
    month: range(1, 12),
    dayOfWeek: range(0, 6),
    bothDays: true,
  },
  weekly: {
    minute: [0],
    hour: [0],
    dayOfMonth: range(1, 31),
    month: range(1, 12),
    dayOfWeek: [0],
    bothDays: true,
  },
  daily: {
    minute: [0],
    hour: [0],
    dayOfMonth: range(1, 31),
    month: range(1, 12),
    dayOfWeek: range(0, 6),
    bothDays: false,
  },
  hourly: {
    minute: [0],
    hour: range(0, 23),
    dayOfMonth: range(1, 31),
    month: range(1, 12),
    dayOfWeek: range(0, 6),
    bothDays: false,
  },
});
SPECIALS.annually = SPECIALS.yearly;
SPECIALS.midnight = SPECIALS.daily;

/** One entry (load_entry), from the current position; the error names what cron would say. */
function loadEntry(
  s: Stream,
  system: boolean,
  users: ReadonlySet<string> | null,
): { times: CronTimes | null; schedule: string; user: string | null; command: string } | { error: string } {
  s.skipComments();
  const start = s.pos;
  let ch = s.get();
  // cron stops reading the file at a bad entry; reading on (to list every line) starts at the next line.
  const fail = (error: string) => {
    if (s.pos <= s.text.length && s.text.charCodeAt(s.pos - 1) !== 0x0a) {
      while ((ch = s.get()) !== EOF && ch !== 0x0a);
    }
    return { error };
  };
  let times: CronTimes | null;
  if (ch === 0x40) {
    const w = s.string(MAX_COMMAND, " \t\n");
    ch = w.ch;
    if (!(w.text in SPECIALS)) return fail("bad time specifier");
    times = SPECIALS[w.text];
  } else {
    const fields: [string, number, number, readonly string[] | null][] = [
      ["minute", 0, 59, null],
      ["hour", 0, 23, null],
      ["day-of-month", 1, 31, null],
      ["month", 1, 12, MONTHS],
      ["day-of-week", 0, 7, DAYS],
    ];
    const sets: Set<number>[] = [];
    const stars: boolean[] = [];
    for (const [what, low, high, names] of fields) {
      stars.push(ch === 0x2a);
      const l = getList(s, low, high, names, ch);
      ch = l.ch;
      if (ch === EOF) return fail(`bad ${what}`);
      sets.push(l.bits);
    }
    const dow = sets[4];
    if (dow.has(7)) dow.add(0); // Sunday is 0 and 7
    dow.delete(7);
    const sorted = (x: Set<number>) => [...x].sort((a, b) => a - b);
    times = {
      minute: sorted(sets[0]),
      hour: sorted(sets[1]),
      dayOfMonth: sorted(sets[2]),
      month: sorted(sets[3]),
      dayOfWeek: sorted(dow),
      bothDays: stars[2] || stars[4],
    };
  }
  while (isBlank(ch)) ch = s.get();
  s.unget(ch);
  const schedule = s.text.slice(start, Math.min(s.pos, s.text.length)).trim().replace(/[ \t]+/g, " ");
  let user: string | null = null;
  if (system) {
    const u = s.string(MAX_COMMAND, " \t");
    ch = u.ch;
    if (ch === EOF) return fail("bad command");
    user = u.text;
    if (users && !users.has(text(user))) return fail("bad username");
  } else if (ch === 0x2a) {
    return fail("bad command");
  }
  const c = s.string(MAX_COMMAND, "\n");
  ch = c.ch;
  if (c.text.length >= MAX_COMMAND - 1) return fail("command too long");
  if (ch === EOF) return fail("bad command");
  return { times, schedule, user, command: c.text };
}

/** The text of the line `line` (1-based) of `text`. */
function lineText(text: string, line: number): string {
  let at = 0;
  for (let i = 1; i < line; i++) at = text.indexOf("\n", at) + 1;
  const end = text.indexOf("\n", at);
  return text.slice(at, end < 0 ? text.length : end);
}

/** Bytes as a string of one character per byte, so lengths and limits count bytes as cron does. */
function binary(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return out;
}

/** A string of bytes (see `binary`) back to text (UTF-8; bytes that are not become U+FFFD). */
function text(bin: string): string {
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

/**
 * Reads a crontab as cron does: environment lines and entries, each entry with the environment in force. A bad
 * entry is an `error` line (cron then ignores the whole file: see `cronIgnores`), and reading goes on at the
 * next line so every line is accounted for. `system` crontabs (/etc/crontab, /etc/cron.d) have a user field,
 * which must be one of `opts.users` when given.
 */
export function parseCrontab(
  content: Uint8Array | string,
  opts: { system: boolean; users?: ReadonlySet<string> | null },
): ParsedCrontab {
  const bin = binary(typeof content === "string" ? new TextEncoder().encode(content) : content);
  const s = new Stream(bin);
  const lines: CronLine[] = [];
  const env: string[] = [];
  let ignored: string | null = null;
  for (;;) {
    const filepos = s.pos, fileline = s.line;
    s.skipComments();
    const at = s.line;
    const got = s.string(MAX_ENVSTR - 1, "\n");
    if (got.ch === EOF) {
      if (got.text !== "") ignored = "the file does not end with a newline";
      break;
    }
    const assignment = parseEnvLine(got.text);
    if (assignment) {
      const i = env.findIndex((e) => e.slice(0, e.indexOf("=")) === assignment.name);
      const entry = `${assignment.name}=${assignment.value}`;
      if (i >= 0) env[i] = entry;
      else env.push(entry);
      lines.push({ kind: "env", line: at, name: text(assignment.name), value: text(assignment.value) });
    } else {
      s.pos = filepos;
      s.line = fileline;
      const e = loadEntry(s, opts.system, opts.users ?? null);
      const raw = text(lineText(bin, at));
      if ("error" in e) lines.push({ kind: "error", line: at, text: raw, error: e.error });
      else {
        lines.push({
          kind: "job",
          line: at,
          text: raw,
          schedule: text(e.schedule),
          times: e.times,
          user: e.user === null ? null : text(e.user),
          command: text(e.command),
          env: env.map(text),
        });
      }
    }
    if (s.line >= MAX_LINE && ignored === null) ignored = "it is longer than 10000 lines";
    if (s.pos > bin.length) break;
  }
  return { lines, ignored };
}

/** Why cron ignores the whole crontab (its first bad entry, or what `parseCrontab` found), or null. */
export function cronIgnores(parsed: ParsedCrontab): string | null {
  const bad = parsed.lines.find((l) => l.kind === "error");
  if (bad) return `line ${bad.line}: ${bad.error}`;
  return parsed.ignored;
}

/** `0-5,10` from a set of numbers, `*` when it holds all of low..high, `none` when empty. */
function setText(values: readonly number[], low: number, high: number): string {
  if (values.length === 0) return "none";
  if (values.length === high - low + 1) return "*";
  const parts: string[] = [];
  for (let i = 0; i < values.length;) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j] + 1) j++;
    parts.push(j > i ? `${values[i]}-${values[j]}` : `${values[i]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/**
 * When a job runs, the same text for the same times however they are written (`*\/15 9-17 * * mon-fri` is
 * `0,15,30,45 9-17 * * 1-5`): numbers, Sunday 0, and the day rule cron applies. When both day fields are
 * restricted cron runs on days matching either, unless one of them was written starting with `*` (`*\/2`):
 * then both must match, which the text says.
 */
export function cronWhen(times: CronTimes | null): string {
  if (!times) return "@reboot";
  let dom = setText(times.dayOfMonth, 1, 31), dow = setText(times.dayOfWeek, 0, 6);
  let rule = "";
  if (!times.bothDays && (dom === "*" || dow === "*")) dom = dow = "*"; // either field, one of them every day
  else if (times.bothDays && dom !== "*" && dow !== "*") rule = " (day of month and day of week both match)";
  return `${setText(times.minute, 0, 59)} ${setText(times.hour, 0, 23)} ${dom} ${
    setText(times.month, 1, 12)
  } ${dow}${rule}`;
}

const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Whether the times ever come: each field has a value, and some day of a chosen month is a chosen day
 * (every month has every weekday, and each date falls on every weekday over the years).
 */
export function cronEverRuns(t: CronTimes | null): boolean {
  if (!t) return true;
  if (!t.minute.length || !t.hour.length || !t.month.length) return false;
  const someDate = t.month.some((m) => t.dayOfMonth.some((d) => d <= MONTH_DAYS[m - 1]));
  return t.bothDays ? someDate && t.dayOfWeek.length > 0 : someDate || t.dayOfWeek.length > 0;
}
