// Shapes shared by the sources of scheduled tasks (cron, anacron, run-parts, systemd timers, at, Task Scheduler).
import type { Host } from "../../host/mod.ts";
import type { Accounts } from "../../host/accounts.ts";
import type { Platform } from "../../platform.ts";
import type { WatchPath } from "../types.ts";

/** Where a task is defined: each source has its own. */
export type TaskKind = "cron" | "anacron" | "run-parts" | "timer" | "at" | "task";

/** One scheduled job. Fields a kind does not have are absent. */
export interface TaskItem {
  [field: string]: string | number | boolean | null;
  /**
   * What the task is, unique within its kind: `/etc/crontab: cd / && run-parts …` (file and command),
   * `apt-daily.timer`, `/etc/cron.daily/man-db`, `at job 12`, `\Microsoft\Windows\Defrag\ScheduledDefrag`.
   */
  Task: string;
  Kind: TaskKind;
  /** The file that defines it (crontab, unit file, script, job file, task XML). */
  Source: string;
  /** Its line in Source, where it has one (never diffed: a line added above moves it). */
  Line: number | null;
  /** When it runs, as written (`*\/5 * * * *`, `@daily`, `OnCalendar=daily`, a Task Scheduler trigger). */
  Schedule: string | null;
  /** The user it runs as. */
  User: string | null;
  /** What it runs. */
  Command: string | null;
  /** Whether its scheduler runs it. */
  Enabled: boolean;
  /** Why it does not run (Enabled false), or null. */
  Reason: string | null;
}

/** What reading one source gives. */
export interface TaskRead {
  items: TaskItem[];
  /** Key prefixes whose items could not be seen this time (an unreadable file or directory). */
  unseen: string[];
  warnings: string[];
}

export interface SourceContext {
  host: Host;
  signal: AbortSignal;
  /** The machine's users and groups by id, read once per run. */
  accounts(): Promise<Accounts>;
}

/** One place scheduled tasks are defined. */
export interface TaskSource {
  kind: TaskKind;
  platforms: readonly Platform[];
  read(ctx: SourceContext): Promise<TaskRead>;
  /**
   * What realtime follows for it (paths on the machine read): a change there re-reads the collector. Its
   * scheduled runs read it whatever this says.
   */
  watches(host: Host): WatchPath[];
}

/** The collector's key of a task: its kind and what it is. */
export function taskKey(item: Pick<TaskItem, "Kind" | "Task">): string {
  return `${item.Kind} ${item.Task}`;
}
