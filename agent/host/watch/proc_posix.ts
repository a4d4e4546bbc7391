// Who made a change: a process id resolved through /proc/<pid> at once, best effort, never guessed.
import type { Origin } from "./types.ts";
import { ESRCH, sys } from "./sys_posix.ts";
import { failure } from "../files/libc_posix.ts";

/** Longest command line kept (a shell's long argument list would swell every record). */
const MAX_CMDLINE = 4096;

/** Whether the process behind `pidfd` has exited (a signal 0 to it fails with ESRCH; tried again until believed). */
function exited(pidfd: number): boolean {
  for (let attempt = 1; sys().pidfd_send_signal(pidfd, 0, null, 0) !== 0; attempt++) {
    const e = failure(attempt);
    if (e !== undefined) return e === ESRCH;
  }
  return false;
}

/** Users of this machine by uid, from /etc/passwd (read again when it changes). */
function userNames() {
  let stamp = "";
  let names = new Map<number, string>();
  return (uid: number): string | undefined => {
    try {
      const st = Deno.statSync("/etc/passwd");
      const now = `${st.mtime?.getTime()}:${st.size}:${st.ino}`;
      if (now !== stamp) {
        stamp = now;
        names = new Map();
        for (const line of Deno.readTextFileSync("/etc/passwd").split("\n")) {
          const f = line.split(":");
          if (f.length >= 3 && /^\d+$/.test(f[2])) names.set(Number(f[2]), f[0]);
        }
      }
    } catch {
      // No /etc/passwd (a minimal container): users stay numbers.
    }
    return names.get(uid);
  };
}

/** A command line as one text: arguments that need it quoted, so it reads as it was typed. */
export function commandLine(raw: string): string {
  const args = raw.replace(/\0$/, "").split("\0");
  const text = args.map((a) => /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
  return text.length > MAX_CMDLINE ? text.slice(0, MAX_CMDLINE) + "…" : text;
}

const read = (path: string): string | undefined => {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
};

/** What /proc/<pid>/status says of the fields we use (Name, PPid, the real uid). */
export function parseStatus(text: string): { name?: string; ppid?: number; uid?: number } {
  const field = (k: string) => text.match(new RegExp(`^${k}:\\s*(.*)$`, "m"))?.[1];
  const uid = field("Uid")?.split(/\s+/)[0];
  const ppid = field("PPid");
  return {
    name: field("Name"),
    ppid: ppid === undefined ? undefined : Number(ppid),
    uid: uid === undefined ? undefined : Number(uid),
  };
}

/**
 * Resolves process ids to who they are. `pidfd`, when the kernel gave one with the event, pins the process: what
 * /proc says is kept only if the process had not been reaped by the time it was read (its pid cannot have been
 * reused meanwhile); otherwise only the pid is told, with why.
 */
export function processResolver() {
  const user = userNames();
  return (pid: number, pidfd?: number): Origin => {
    if (pid <= 0) return { pid, note: "no process (the kernel made the change)" };
    if (pidfd === -1) return { pid, note: "the process had exited when the change was read" };
    const status = read(`/proc/${pid}/status`);
    if (status === undefined) return { pid, note: "the process had exited when the change was read" };
    const s = parseStatus(status);
    let exe: string | undefined;
    try {
      exe = Deno.readLinkSync(`/proc/${pid}/exe`);
    } catch {
      // A kernel thread, or a zombie: no executable to name.
    }
    const cmd = read(`/proc/${pid}/cmdline`);
    const login = Number(read(`/proc/${pid}/loginuid`)?.trim());
    const parentStatus = s.ppid ? read(`/proc/${s.ppid}/status`) : undefined;
    if (pidfd !== undefined && pidfd >= 0 && exited(pidfd)) {
      return { pid, note: "the process exited while it was being named" };
    }
    const o: Origin = { pid };
    if (exe !== undefined) o.exe = exe.replace(/ \(deleted\)$/, "");
    o.name = s.name ?? (exe ? exe.slice(exe.lastIndexOf("/") + 1) : undefined);
    if (cmd) o.cmdline = commandLine(cmd);
    if (s.uid !== undefined) {
      o.uid = s.uid;
      o.user = user(s.uid);
    }
    // The login user (loginuid) survives sudo and su: who sat at the keyboard.
    if (Number.isInteger(login) && login !== 4294967295 && login !== s.uid) {
      o.loginUser = user(login) ?? String(login);
    }
    if (s.ppid) {
      o.ppid = s.ppid;
      if (parentStatus) o.parent = parseStatus(parentStatus).name;
    }
    return o;
  };
}
