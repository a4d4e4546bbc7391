// Where a process's CPU goes, by thread (Linux /proc): ctagent's main thread, its hash workers, V8's helper
// threads (concurrent marking, sweeping, compiling) and the rest. Sampled while the process runs, as threads end
// before it does: each thread counts as last seen, so up to one interval of a thread that ended may be missed.
import { readdirSync, readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";

/** Clock ticks per second of /proc's times (USER_HZ). */
export const TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/**
 * The name and CPU ticks (user + system) of one /proc/PID/task/TID/stat line. The name is in parentheses and may
 * itself hold spaces and parentheses: the fields after it start after the last ")".
 */
export function parseTaskStat(text: string): { name: string; ticks: number } {
  const open = text.indexOf("("), close = text.lastIndexOf(")");
  if (open < 0 || close < open) throw new Error(`not a task stat line: ${JSON.stringify(text.slice(0, 80))}`);
  // After the name: state (field 3), ..., utime (field 14), stime (field 15).
  const rest = text.slice(close + 2).split(" ");
  const utime = Number(rest[11]), stime = Number(rest[12]);
  if (!Number.isInteger(utime) || !Number.isInteger(stime)) {
    throw new Error(`no CPU times in task stat line: ${JSON.stringify(text.slice(0, 80))}`);
  }
  return { name: text.slice(open + 1, close), ticks: utime + stime };
}

export interface ThreadCpu {
  /** The process's first thread: the agent's event loop (walk, items, SQLite). */
  main_cpu_s: number;
  /** Deno Workers (named worker-N): the hash workers in a scan. */
  workers_cpu_s: number;
  /** V8's platform threads: the garbage collector's concurrent work and background compiles. */
  v8_helpers_cpu_s: number;
  other_cpu_s: number;
}

/** The CPU seconds of threads by kind, from each thread's ticks (tid → name and ticks) and the process id. */
export function byKind(pid: number, threads: Map<number, { name: string; ticks: number }>): ThreadCpu {
  const out: ThreadCpu = { main_cpu_s: 0, workers_cpu_s: 0, v8_helpers_cpu_s: 0, other_cpu_s: 0 };
  for (const [tid, t] of threads) {
    const s = t.ticks / TICKS;
    if (tid === pid) out.main_cpu_s += s;
    else if (/^worker-\d+$/.test(t.name)) out.workers_cpu_s += s;
    else if (t.name.startsWith("V8 ")) out.v8_helpers_cpu_s += s;
    else out.other_cpu_s += s;
  }
  for (const k of Object.keys(out) as (keyof ThreadCpu)[]) out[k] = Math.round(out[k] * 100) / 100;
  return out;
}

/** Reads every thread of `pid` into `seen` (a thread gone meanwhile is skipped); false once the process is gone. */
export function sampleThreads(pid: number, seen: Map<number, { name: string; ticks: number }>): boolean {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return false;
  }
  for (const tid of tids) {
    try {
      seen.set(Number(tid), parseTaskStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8")));
    } catch {
      // Ended between the listing and the read: it counts as last seen.
    }
  }
  return true;
}
