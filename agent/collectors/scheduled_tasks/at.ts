// `at` jobs waiting in atd's spool (Debian /var/spool/cron/atjobs, RHEL /var/spool/at): the job file at(1) writes
// (at 3.2 at.c: `# atrun uid= gid=`, the environment, `cd DIR || {…}`, then the user's commands), as atd reads it.
import type { FileInfo } from "../../host/mod.ts";
import { listOrNull, lstatOrNull, readOrNull } from "./files.ts";
import { type SourceContext, type TaskItem, taskKey, type TaskRead, type TaskSource } from "./types.ts";

export const AT_SPOOLS = ["/var/spool/cron/atjobs", "/var/spool/at"];

/** A job file's name: queue letter, job number (5 hex digits) and run time (minutes since 1970, 8 hex digits). */
export function parseJobName(name: string): { queue: string; job: number; runAt: Date } | null {
  const m = /^(.)([0-9a-fA-F]{1,5})([0-9a-fA-F]{1,8})$/.exec(name);
  if (!m) return null;
  return { queue: m[1], job: parseInt(m[2], 16), runAt: new Date(parseInt(m[3], 16) * 60_000) };
}

const CD_END = " || {\n\t echo 'Execution directory inaccessible' >&2\n\t exit 1\n}\n";

/**
 * What a job file says: the uid it runs as, its directory and the user's commands (what at(1) appended after
 * the `cd` that ends its preamble). Null fields where the file is not in at's format.
 */
export function parseJobFile(
  text: string,
): { uid: number | null; directory: string | null; command: string | null } {
  const head = /^#!\/bin\/sh\n# atrun uid=(-?\d+) gid=-?\d+\n# mail \S+ -?\d+/.exec(text);
  const end = text.indexOf(CD_END);
  const cd = end < 0 ? -1 : text.lastIndexOf("\ncd ", end);
  return {
    uid: head ? Number(head[1]) : null,
    directory: cd < 0 ? null : unquoteDirectory(text.slice(cd + 4, end)),
    // The user's commands, without the newlines that end them (at(1) adds one).
    command: end < 0 ? null : text.slice(end + CD_END.length).replace(/\n+$/, ""),
  };
}

/** at(1) writes the directory with a backslash before each character but / and alphanumerics, a newline as `"\n"`. */
function unquoteDirectory(written: string): string {
  let out = "";
  for (let i = 0; i < written.length; i++) {
    if (written[i] === "\\") out += written[++i] ?? "";
    else if (written.startsWith('"\n"', i)) {
      out += "\n";
      i += 2;
    } else out += written[i];
  }
  return out;
}

/** Why atd will not run this job file, or null (atd.c: not yet marked executable, a uid it does not own). */
export function atdProblem(st: FileInfo, uid: number | null): string | null {
  if (!st.isFile) return "it is not a regular file";
  if (uid === null) return "it is not in at's format: atd refuses it";
  if (!((st.mode ?? 0) & 0o100)) return "at has not marked it executable yet";
  if (st.uid !== uid) return `it runs as uid ${uid} but is owned by uid ${st.uid}: atd refuses it`;
  return null;
}

export const atJobs: TaskSource = {
  kind: "at",
  platforms: ["linux"],
  watches: () => AT_SPOOLS.map((path) => ({ path, depth: 1 })),
  async read({ host, signal, accounts }: SourceContext): Promise<TaskRead> {
    const out: TaskRead = { items: [], unseen: [], warnings: [] };
    for (const spool of AT_SPOOLS) {
      let entries;
      try {
        entries = listOrNull(host, spool);
      } catch (e) {
        out.unseen.push(taskKey({ Kind: "at", Task: "" }));
        out.warnings.push((e as Error).message);
        return out;
      }
      if (!entries) continue;
      const { users } = await accounts();
      for (const e of entries) {
        signal.throwIfAborted();
        const name = parseJobName(e.name);
        // '=' marks the job atd is running now (a second link to it); other non-letters are not jobs.
        if (!name || !/^[A-Za-z]$/.test(name.queue)) continue;
        const path = `${spool}/${e.name}`;
        const item: TaskItem = {
          Task: `at job ${name.job}`,
          Kind: "at",
          Source: path,
          Line: null,
          Schedule: name.runAt.toISOString().replace(".000Z", "Z"),
          Queue: name.queue,
          User: null,
          Command: null,
          Directory: null,
          Enabled: false,
          Reason: null,
        };
        try {
          const st = lstatOrNull(host, path);
          const content = st && await readOrNull(host, path);
          if (!st || !content) continue; // run and removed meanwhile
          const job = parseJobFile(new TextDecoder().decode(content));
          item.User = job.uid === null ? null : users.get(job.uid) ?? String(job.uid);
          item.Command = job.command;
          item.Directory = job.directory;
          item.Reason = atdProblem(st, job.uid);
          item.Enabled = item.Reason === null;
        } catch (err) {
          item.error = `cannot read ${path}: ${(err as Error).message}`;
        }
        out.items.push(item);
      }
      break; // one spool per machine
    }
    return out;
  },
};
