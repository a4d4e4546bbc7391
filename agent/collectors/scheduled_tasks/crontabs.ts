// The crontabs cron reads (/etc/crontab, /etc/cron.d/*, the users' spool) as items, with which of them cron
// ignores and why (Debian cron 3.0pl1 database.c and user.c: names, owners, modes, a bad entry).
import type { FileInfo } from "../../host/mod.ts";
import { cronEverRuns, cronIgnores, cronWhen, parseCrontab } from "./cron.ts";
import { listOrNull, lstatOrNull, readOrNull, statOrNull } from "./files.ts";
import { type SourceContext, type TaskItem, taskKey, type TaskRead, type TaskSource } from "./types.ts";

const SYSTEM_CRONTAB = "/etc/crontab";
const SYSTEM_DIR = "/etc/cron.d";
/** Debian's users' crontabs, and the RHEL layout (cronie), where the spool directory holds them itself. */
const DEBIAN_SPOOL = "/var/spool/cron/crontabs";
const RHEL_SPOOL = "/var/spool/cron";

/** cron reads files of /etc/cron.d whose names are only letters, digits, `_` and `-` (as run-parts). */
export const CRON_NAME = /^[A-Za-z0-9_-]+$/;

/** Why cron will not read a system crontab with this stat (`link`: of the path itself), or null. */
export function systemFileProblem(link: FileInfo, target: FileInfo): string | null {
  if (link.isSymlink && link.uid !== 0) return "it is a symlink not owned by root";
  if (target.uid !== 0) return `it is owned by uid ${target.uid}, not root`;
  if (!target.isFile) return "it is not a regular file";
  if ((target.mode ?? 0) & 0o022) return "group or others can write it";
  if (target.nlink !== 1) return "it has more than one hard link";
  return null;
}

/** Why cron will not read the crontab of user `uid` (null: not in /etc/passwd) with this stat, or null. */
export function userFileProblem(link: FileInfo, uid: number | null | undefined): string | null {
  if (uid === null) return "its user is not in /etc/passwd";
  if (link.isSymlink) return "it is a symlink (cron opens users' crontabs without following links)";
  if (uid !== undefined && link.uid !== uid && link.uid !== 0) {
    return `it is owned by uid ${link.uid}, not its user's ${uid} or root`;
  }
  if (!link.isFile) return "it is not a regular file";
  if (((link.mode ?? 0) & 0o7777) !== 0o600) {
    return `its mode is ${((link.mode ?? 0) & 0o7777).toString(8)}, not 600`;
  }
  if (link.nlink !== 1) return "it has more than one hard link";
  return null;
}

/** The items of one crontab's text: a job per entry, an error item per bad entry (environment lines are not jobs). */
export function crontabItems(
  path: string,
  content: Uint8Array,
  opts: { user: string | null; users: ReadonlySet<string> | null; skipped: string | null },
): TaskItem[] {
  const parsed = parseCrontab(content, { system: opts.user === null, users: opts.users });
  const ignored = opts.skipped ?? cronIgnores(parsed);
  const items: TaskItem[] = [];
  for (const l of parsed.lines) {
    if (l.kind === "env") continue;
    const base = { Kind: "cron" as const, Source: path, Line: l.line };
    if (l.kind === "error") {
      items.push({
        ...base,
        Task: `${path}: ${l.text.trim()}`,
        Schedule: null,
        User: opts.user,
        Command: null,
        Enabled: false,
        Reason: `cron ignores ${path}: line ${l.line}: ${l.error}`,
        error: `line ${l.line}: ${l.error}`,
      });
      continue;
    }
    const runs = cronEverRuns(l.times);
    items.push({
      ...base,
      Task: `${path}: ${l.command}`,
      Schedule: l.schedule,
      When: cronWhen(l.times),
      User: l.user ?? opts.user,
      Command: l.command,
      Environment: l.env.length ? l.env.join("\n") : null,
      Enabled: ignored === null && runs,
      Reason: ignored !== null ? `cron ignores ${path}: ${ignored}` : runs ? null : "its times never come",
    });
  }
  return items;
}

/** The crontabs: /etc/crontab, /etc/cron.d/* and every user's, each read with cron's rules. */
export const crontabs: TaskSource = {
  kind: "cron",
  platforms: ["linux"],
  // /etc/passwd too: whose spool crontab cron reads depends on which users exist.
  watches: () => [
    { path: SYSTEM_CRONTAB },
    { path: SYSTEM_DIR, depth: 1 },
    { path: RHEL_SPOOL, depth: 2 },
    { path: "/etc/passwd" },
  ],
  async read({ host, signal, accounts }: SourceContext): Promise<TaskRead> {
    const out: TaskRead = { items: [], unseen: [], warnings: [] };
    const { userIds } = await accounts();
    const users = userIds ? new Set(userIds.keys()) : null;
    if (!userIds) {
      out.warnings.push("/etc/passwd cannot be read: crontabs are read without knowing which users exist");
    }
    const failed = (prefix: string, e: unknown) => {
      out.unseen.push(taskKey({ Kind: "cron", Task: prefix }));
      out.warnings.push((e as Error).message);
    };
    const readOne = async (
      path: string,
      opts: { user: string | null; skipped: (l: FileInfo) => string | null },
    ) => {
      signal.throwIfAborted();
      try {
        const link = lstatOrNull(host, path);
        if (!link) return;
        const skipped = opts.skipped(link);
        // What cron does not open is still listed, as not run; a dangling link has nothing to list.
        const content = await readOrNull(host, path);
        if (!content) return;
        out.items.push(...crontabItems(path, content, { user: opts.user, users, skipped }));
      } catch (e) {
        failed(`${path}: `, e);
      }
    };
    const system = (path: string, nameProblem: string | null) => (link: FileInfo) => {
      if (nameProblem) return nameProblem;
      const target = statOrNull(host, path);
      return target ? systemFileProblem(link, target) : "it is a dangling symlink";
    };

    await readOne(SYSTEM_CRONTAB, { user: null, skipped: system(SYSTEM_CRONTAB, null) });
    try {
      for (const e of listOrNull(host, SYSTEM_DIR) ?? []) {
        if (e.name.startsWith(".")) continue; // cron never looks at these (nor at . and ..)
        const path = `${SYSTEM_DIR}/${e.name}`;
        const badName = CRON_NAME.test(e.name) ? null : "cron skips file names other than [A-Za-z0-9_-]";
        await readOne(path, { user: null, skipped: system(path, badName) });
      }
    } catch (e) {
      failed(`${SYSTEM_DIR}/`, e);
    }
    let debian = true;
    try {
      debian = lstatOrNull(host, DEBIAN_SPOOL) !== null;
    } catch (e) {
      failed(`${RHEL_SPOOL}/`, e); // either layout: everything under the spool is unseen
      return out;
    }
    const spool = debian ? DEBIAN_SPOOL : RHEL_SPOOL;
    try {
      for (const e of listOrNull(host, spool) ?? []) {
        if (e.name.startsWith(".") || (!debian && e.isDirectory)) continue;
        const path = `${spool}/${e.name}`;
        const uid = userIds ? (userIds.get(e.name) ?? null) : undefined;
        // cronie's own rules for its spool are not Debian's: there, only what every cron refuses counts.
        await readOne(path, {
          user: e.name,
          skipped: (link) => debian || uid === null ? userFileProblem(link, uid) : null,
        });
      }
    } catch (e) {
      failed(`${spool}/`, e);
    }
    return out;
  },
};
