// Linux's listening ports: the kernel's socket tables under /proc/net, their owners through /proc/<pid>/fd.
import type { Host } from "../../host/mod.ts";
import { isMissing } from "../../host/mod.ts";
import { loadAccounts } from "../../host/accounts.ts";
import { breather } from "../../breathe.ts";
import type { Collected } from "../types.ts";
import type { PortItem } from "./item.ts";
import { type ListeningSocket, parseProcNet, PROTOCOLS } from "./proc_net.ts";
import { type Owner, type OwnerScan, scanOwners } from "./owners.ts";

/** The natural key: protocol, address and port (never the pid, which a restart changes). */
export function portKey(i: Pick<PortItem, "Protocol" | "Address" | "Port">): string {
  return `${i.Protocol}|${i.Address}|${i.Port}`;
}

/** `0.0.0.0:22`, `[::]:22`: the address and port as ss writes them. */
export function endpoint(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Distinct values (nulls left out), sorted, `, ` between them; null when there are none. */
export const joinSorted = (values: (string | null)[]): string | null => {
  const set = [...new Set(values.filter((v): v is string => v !== null))].sort();
  return set.length ? set.join(", ") : null;
};

/**
 * One item per protocol, address and port. Several sockets may share one (SO_REUSEPORT: each worker its own
 * socket): their owners are joined. A socket whose owner is not found while some processes' files could not be
 * read (an agent without CAP_SYS_PTRACE cannot read other root processes' fds) says so in OwnerNote: the port is
 * still reported, Added and Removed as it opens and closes.
 */
export function portItems(
  sockets: readonly ListeningSocket[],
  owners: OwnerScan,
  userName: (uid: number) => string,
): PortItem[] {
  const byKey = new Map<string, { socket: ListeningSocket; owners: Owner[] }>();
  for (const s of sockets) {
    const key = portKey({ Protocol: s.protocol, Address: s.address, Port: s.port });
    const entry = byKey.get(key) ?? { socket: s, owners: [] };
    for (const o of owners.byInode.get(s.inode) ?? []) if (!entry.owners.includes(o)) entry.owners.push(o);
    byKey.set(key, entry);
  }
  const items: PortItem[] = [];
  for (const { socket: s, owners: held } of byKey.values()) {
    held.sort((a, b) => a.pid - b.pid);
    const item: PortItem = {
      Protocol: s.protocol,
      Address: s.address,
      Port: s.port,
      Endpoint: endpoint(s.address, s.port),
      Process: joinSorted(held.map((o) => o.comm)),
      Executable: joinSorted(held.map((o) => o.exe)),
      User: joinSorted(held.map((o) => o.uid === null ? null : userName(o.uid))),
      Pid: held[0]?.pid ?? null,
      Pids: held.length ? held.map((o) => o.pid).join(", ") : null,
    };
    if (!held.length && owners.unreadable) {
      // Never diffed (the spec's volatile): how many processes were refused varies from run to run.
      item.OwnerNote = "owner not known: some processes' open files could not be read (" +
        `${owners.unreadable} this run, e.g. ${owners.firstError})`;
    }
    items.push(item);
  }
  return items;
}

/** Reads the listening ports of the machine under `host` (the live one: its kernel's own tables). */
export async function readLinuxPorts(host: Host, signal: AbortSignal): Promise<Collected<PortItem>> {
  const sockets: ListeningSocket[] = [];
  const unseen: string[] = [];
  const warnings: string[] = [];
  for (const protocol of PROTOCOLS) {
    signal.throwIfAborted();
    const path = `/proc/net/${protocol}`;
    let text: string;
    try {
      text = await host.readText(path);
    } catch (e) {
      // A table that is not there (a disk image has no running kernel; IPv6 switched off) or not readable: its
      // ports are not known, never gone.
      unseen.push(`${protocol}|`);
      if (!isMissing(e)) warnings.push(`cannot read ${path}: ${(e as Error).message}`);
      continue;
    }
    sockets.push(...parseProcNet(text, protocol));
  }
  const owners = await scanOwners(host, new Set(sockets.map((s) => s.inode)), breather(signal));
  let names = new Map<number, string>();
  if (owners.byInode.size) {
    const accounts = await loadAccounts(host);
    names = accounts.users;
    // Only user names are wanted here: /etc/group's absence is no news for this collector.
    if (accounts.userIds === null) {
      warnings.push(...accounts.warnings.filter((w) => w.includes("/etc/passwd")));
    }
  }
  const items = portItems(sockets, owners, (uid) => names.get(uid) ?? String(uid));
  return { items, unseen, warnings };
}
