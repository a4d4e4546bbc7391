// Which processes hold which sockets: each /proc/<pid>/fd link `socket:[inode]`, with the process's name,
// executable and user.
import type { Host } from "../../host/mod.ts";
import { isMissing } from "../../host/mod.ts";

/** A process that holds a socket. Fields it would not give (it ended while read) are null. */
export interface Owner {
  pid: number;
  /** /proc/<pid>/comm: the name ss and ps show. */
  comm: string | null;
  /** Where /proc/<pid>/exe points. */
  exe: string | null;
  /** The effective uid (/proc/<pid>/status `Uid:`, second field), as ps's USER shows. */
  uid: number | null;
}

export interface OwnerScan {
  /** The processes holding each socket asked for, in pid order. */
  byInode: Map<number, Owner[]>;
  /** How many processes' open files could not be listed (not gone: refused), and the first reason. */
  unreadable: number;
  firstError?: string;
}

/** `socket:[1234]` → 1234; any other link target (a file, a pipe, `anon_inode:…`) → null. */
export function socketInode(link: string): number | null {
  const m = /^socket:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : null;
}

/** The effective uid of a /proc/<pid>/status text, or null when it has no well-formed `Uid:` line. */
export function effectiveUid(status: string): number | null {
  const m = /^Uid:\s+\d+\s+(\d+)/m.exec(status);
  return m ? Number(m[1]) : null;
}

/**
 * Scans every process's open files for the sockets in `wanted`. A process that ends while it is read is
 * skipped (its sockets went with it); one whose files are refused is counted in `unreadable`, so a socket
 * without an owner can tell "none" from "not known".
 */
export async function scanOwners(
  host: Host,
  wanted: ReadonlySet<number>,
  tick: () => Promise<void>,
): Promise<OwnerScan> {
  const scan: OwnerScan = { byInode: new Map(), unreadable: 0 };
  if (!wanted.size) return scan;
  const pids = host.readDirSync("/proc").map((e) => e.name).filter((n) => /^\d+$/.test(n)).map(Number)
    .sort((a, b) => a - b);
  for (const pid of pids) {
    await tick();
    let fds: string[];
    try {
      fds = host.readDirSync(`/proc/${pid}/fd`).map((e) => e.name);
    } catch (e) {
      if (!isMissing(e)) {
        scan.unreadable++;
        scan.firstError ??= `/proc/${pid}/fd: ${(e as Error).message}`;
      }
      continue;
    }
    let owner: Owner | undefined;
    for (const fd of fds) {
      let inode: number | null;
      try {
        inode = socketInode(host.readLinkSync(`/proc/${pid}/fd/${fd}`));
      } catch {
        continue; // closed since the listing
      }
      if (inode === null || !wanted.has(inode)) continue;
      owner ??= describe(host, pid);
      const list = scan.byInode.get(inode) ?? [];
      if (!list.includes(owner)) list.push(owner);
      scan.byInode.set(inode, list);
    }
  }
  return scan;
}

function describe(host: Host, pid: number): Owner {
  const tryRead = <T>(read: () => T): T | null => {
    try {
      return read();
    } catch {
      return null;
    }
  };
  return {
    pid,
    comm: tryRead(() => host.readTextSync(`/proc/${pid}/comm`).replace(/\n$/, "")),
    exe: tryRead(() => host.readLinkSync(`/proc/${pid}/exe`)),
    uid: tryRead(() => effectiveUid(host.readTextSync(`/proc/${pid}/status`))),
  };
}
