// /etc/anacrontab as Debian's anacron 2.3 reads it (readtab.c): environment assignments and jobs that run every
// N days (or @monthly, @yearly) after a delay; a line it cannot read is skipped by anacron, an error item here.
import { readOrNull } from "./files.ts";
import { type SourceContext, type TaskItem, taskKey, type TaskRead, type TaskSource } from "./types.ts";

export const ANACRONTAB = "/etc/anacrontab";

export type AnacronLine =
  | { kind: "env"; line: number; name: string; value: string }
  | {
    kind: "job";
    line: number;
    /** Days, `@monthly`, `@yearly`, or another `@word`, which anacron complains of but runs at no set period. */
    period: number | string;
    /** Minutes after anacron starts. */
    delay: number;
    /** The job identifier (names its timestamp file). */
    ident: string;
    command: string;
    /** The assignments in force (NAME=value, in file order). */
    env: string[];
    schedule: string;
  }
  | { kind: "error"; line: number; text: string; error: string };

/**
 * read_tab_line: logical lines, a backslash before a newline joining the next line with a space; anacron drops
 * every other backslash too. Each with the physical line it starts on.
 */
function logicalLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let cur = "", start = 1, physical = 1, prev = "";
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text[i] : null;
    if ((c === "\n" && prev !== "\\") || c === null) {
      if (prev !== "") cur += prev;
      if (c !== null || cur !== "") out.push({ line: start, text: cur });
      cur = "";
      prev = "";
      physical++;
      start = physical;
      continue;
    }
    if (prev !== "\\" && prev !== "" && prev !== "\n") cur += prev;
    else if (prev === "\n") cur += " ";
    if (c === "\n") physical++;
    prev = c;
  }
  return out;
}

/** strtol into an int, or -1 when out of range (conv2int). */
function conv2int(digits: string): number {
  const n = BigInt(digits);
  return n > 2147483647n ? -1 : Number(n);
}

/** The named periods anacron knows. */
const NAMED = ["@monthly", "@yearly"];

/** Reads an anacrontab as anacron does (parse_tab_line), every line accounted for. */
export function parseAnacrontab(text: string): AnacronLine[] {
  const out: AnacronLine[] = [];
  const env: string[] = [];
  for (const { line, text: l } of logicalLines(text)) {
    if (/^[ \t]*($|#)/s.test(l)) continue;
    let m = /^[ \t]*([^ \t=]+)[ \t]*=(.*)$/s.exec(l);
    if (m) {
      env.push(`${m[1]}=${m[2]}`);
      out.push({ kind: "env", line, name: m[1], value: m[2] });
      continue;
    }
    // A job: a period in days, or a named one (anacron compares its first 7 characters only).
    m = /^[ \t]*([0-9]+|@[^ \t]+)[ \t]+([0-9]+)[ \t]+([^ \t/]+)[ \t]+([^ \t].*)$/s.exec(l);
    const [, periods, delays, ident, command] = m ?? [];
    const period = !m
      ? -1
      : periods[0] !== "@"
      ? conv2int(periods)
      : NAMED.find((n) => periods.startsWith(n.slice(0, 7))) ?? periods;
    const delay = m ? conv2int(delays) : -1;
    if (!m || period === -1 || delay < 0) {
      out.push({ kind: "error", line, text: l, error: m ? "number out of range" : "invalid syntax" });
      continue;
    }
    out.push({
      kind: "job",
      line,
      period,
      delay,
      ident,
      command,
      env: [...env],
      schedule: `${periods} ${delays}`,
    });
  }
  return out;
}

/** When an anacron job runs, in words. */
export function anacronWhen(period: number | string, delay: number): string {
  const every = typeof period === "number"
    ? `every ${period} day${period === 1 ? "" : "s"}`
    : period === "@monthly" || period === "@yearly"
    ? period.slice(1)
    : `at no set period (anacron knows no ${period}, complains, and runs it anyway)`;
  return `${every}, ${delay} min after anacron starts`;
}

export const anacron: TaskSource = {
  kind: "anacron",
  platforms: ["linux"],
  watches: () => [{ path: ANACRONTAB }],
  async read({ host }: SourceContext): Promise<TaskRead> {
    const out: TaskRead = { items: [], unseen: [], warnings: [] };
    let content: Uint8Array | null;
    try {
      content = await readOrNull(host, ANACRONTAB);
    } catch (e) {
      out.unseen.push(taskKey({ Kind: "anacron", Task: `${ANACRONTAB}: ` }));
      out.warnings.push((e as Error).message);
      return out;
    }
    if (!content) return out;
    for (const l of parseAnacrontab(new TextDecoder().decode(content))) {
      if (l.kind === "env") continue;
      const base = { Kind: "anacron" as const, Source: ANACRONTAB, Line: l.line, User: "root" };
      const item: TaskItem = l.kind === "job"
        ? {
          ...base,
          Task: `${ANACRONTAB}: ${l.ident}`,
          Schedule: l.schedule,
          When: anacronWhen(l.period, l.delay),
          Command: l.command,
          Environment: l.env.length ? l.env.join("\n") : null,
          Enabled: true,
          Reason: null,
        }
        : {
          ...base,
          Task: `${ANACRONTAB}: ${l.text.trim()}`,
          Schedule: null,
          Command: null,
          Enabled: false,
          Reason: `anacron skips line ${l.line}: ${l.error}`,
          error: `line ${l.line}: ${l.error}`,
        };
      out.items.push(item);
    }
    return out;
  },
};
