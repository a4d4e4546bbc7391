// The scripts of /etc/cron.{hourly,daily,weekly,monthly,yearly}, which cron or anacron runs with `run-parts`:
// one item per script, with its checksum (what runs changes with it) and whether run-parts runs it.
import { createHash } from "node:crypto";
import { listOrNull, readOrNull, statOrNull } from "./files.ts";
import { type SourceContext, type TaskItem, taskKey, type TaskRead, type TaskSource } from "./types.ts";
import { CRON_NAME } from "./crontabs.ts";

export const PERIODS = ["hourly", "daily", "weekly", "monthly", "yearly"] as const;
/** Scripts above this size keep no checksum (such a file in a cron directory is no script anyway). */
const MAX_HASHED = 64 * 1024 * 1024;

/**
 * Why run-parts (Debian's, without --lsbsysinit, as /etc/crontab and /etc/anacrontab call it) does not run a
 * file of this name and mode, or null.
 */
export function runPartsProblem(name: string, mode: number): string | null {
  if (!CRON_NAME.test(name)) return "run-parts skips file names other than [A-Za-z0-9_-]";
  if (!(mode & 0o111)) return "it is not executable: run-parts skips it";
  return null;
}

export const runParts: TaskSource = {
  kind: "run-parts",
  platforms: ["linux"],
  watches: () => PERIODS.map((period) => ({ path: `/etc/cron.${period}`, depth: 1 })),
  async read({ host, signal }: SourceContext): Promise<TaskRead> {
    const out: TaskRead = { items: [], unseen: [], warnings: [] };
    for (const period of PERIODS) {
      const dir = `/etc/cron.${period}`;
      try {
        for (const e of listOrNull(host, dir) ?? []) {
          signal.throwIfAborted();
          if (e.name.startsWith(".")) continue; // .placeholder: never run, never a job
          const path = `${dir}/${e.name}`;
          const item: TaskItem = {
            Task: path,
            Kind: "run-parts",
            Source: dir,
            Line: null,
            Schedule: period,
            User: "root",
            Command: path,
            Enabled: false,
            Reason: null,
            Checksum: null,
          };
          try {
            const st = statOrNull(host, path);
            if (!st || st.isDirectory) continue; // a dangling link or a directory: nothing run-parts runs
            item.Reason = st.isFile ? runPartsProblem(e.name, st.mode ?? 0) : "it is not a regular file";
            item.Enabled = item.Reason === null;
            if (st.isFile && st.size <= MAX_HASHED) {
              const content = await readOrNull(host, path);
              if (content) item.Checksum = createHash("sha256").update(content).digest("hex");
            }
          } catch (err) {
            // Listed but unreadable: kept with its last good data, never taken for gone.
            item.error = (err as Error).message;
          }
          out.items.push(item);
        }
      } catch (e) {
        out.unseen.push(taskKey({ Kind: "run-parts", Task: `${dir}/` }));
        out.warnings.push((e as Error).message);
      }
    }
    return out;
  },
};
