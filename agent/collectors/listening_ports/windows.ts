// Windows' listening ports: iphlpapi's socket tables (host.sockets), each socket's process by its image path.
import type { Host, ProcessImage, TableSocket } from "../../host/mod.ts";
import type { Collected } from "../types.ts";
import type { PortItem } from "./item.ts";
import { endpoint, joinSorted, portKey } from "./linux.ts";
import { formatIpv6, PROTOCOLS } from "./proc_net.ts";

/**
 * `127.0.0.1`, `::1`, and `fe80::1%4`: a link-local address exists once per interface, so its scope (the
 * interface index) is part of it, as Windows' netstat writes it.
 */
export function tableAddress(s: Pick<TableSocket, "address" | "scopeId">): string {
  if (s.address.length === 4) return s.address.join(".");
  const text = formatIpv6([...s.address]);
  const linkLocal = s.address[0] === 0xfe && (s.address[1] & 0xc0) === 0x80;
  return linkLocal && s.scopeId ? `${text}%${s.scopeId}` : text;
}

/** `C:\Windows\System32\svchost.exe` → `svchost.exe` (what Task Manager and `netstat -b` call the process). */
const imageName = (path: string) => path.slice(path.lastIndexOf("\\") + 1);

/**
 * One item per protocol, address and port, with the processes the tables name (several on one port with
 * SO_REUSEADDR are joined): their image names, paths and users. A process whose image or user cannot be known
 * (pid 0, one that cannot be opened, a token that cannot be read) is said so in OwnerNote, never guessed; the
 * port is still reported, Added and Removed as it opens and closes.
 */
export function windowsPortItems(
  sockets: readonly TableSocket[],
  images: ReadonlyMap<number, ProcessImage>,
): PortItem[] {
  const byKey = new Map<string, { socket: TableSocket; address: string; pids: Set<number> }>();
  for (const s of sockets) {
    const address = tableAddress(s);
    const key = portKey({ Protocol: s.protocol, Address: address, Port: s.port });
    const entry = byKey.get(key) ?? { socket: s, address, pids: new Set<number>() };
    entry.pids.add(s.pid);
    byKey.set(key, entry);
  }
  return [...byKey.values()].map(({ socket: s, address, pids }) => {
    const held = [...pids].sort((a, b) => a - b);
    const paths: string[] = [];
    const users: (string | null)[] = [];
    const notes: string[] = [];
    for (const pid of held) {
      const image = images.get(pid) ?? { error: `process ${pid} was not looked up` };
      if ("error" in image) {
        notes.push(image.error);
        continue;
      }
      paths.push(image.path);
      users.push(image.user);
      if (image.userError) notes.push(image.userError);
    }
    const real = held.filter((pid) => pid !== 0);
    const item: PortItem = {
      Protocol: s.protocol,
      Address: address,
      Port: s.port,
      Endpoint: endpoint(address, s.port),
      Process: joinSorted(paths.map(imageName)),
      Executable: joinSorted(paths),
      User: joinSorted(users),
      Pid: real[0] ?? null,
      Pids: real.length ? real.join(", ") : null,
    };
    if (notes.length) item.OwnerNote = `owner not known: ${notes.join("; ")}`;
    return item;
  });
}

/**
 * Reads the listening ports of the live Windows machine. A table that cannot be read (or parsed) is unseen,
 * its ports kept, never Removed; an image (no host.sockets) has no running sockets: every table unseen.
 */
export function readWindowsPorts(host: Host, signal: AbortSignal): Collected<PortItem> {
  if (!host.sockets) return { items: [], unseen: PROTOCOLS.map((p) => `${p}|`), warnings: [] };
  const sockets: TableSocket[] = [];
  const unseen: string[] = [];
  const warnings: string[] = [];
  for (const protocol of PROTOCOLS) {
    signal.throwIfAborted();
    try {
      sockets.push(...host.sockets.listening(protocol));
    } catch (e) {
      unseen.push(`${protocol}|`);
      warnings.push(`cannot read the ${protocol} socket table: ${(e as Error).message}`);
    }
  }
  const images = new Map<number, ProcessImage>();
  for (const pid of new Set(sockets.map((s) => s.pid))) images.set(pid, host.sockets.image(pid));
  return { items: windowsPortItems(sockets, images), unseen, warnings };
}
