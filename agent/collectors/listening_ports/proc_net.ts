// Parses the kernel's socket tables (/proc/net/tcp, tcp6, udp, udp6) into the sockets that wait for peers.

/** Which table a line came from: the file's name, as netstat's Proto column says it. */
export type Protocol = "tcp" | "tcp6" | "udp" | "udp6";

export const PROTOCOLS: readonly Protocol[] = ["tcp", "tcp6", "udp", "udp6"];

/** One socket that waits for peers: a TCP socket in LISTEN, or a bound, unconnected UDP socket. */
export interface ListeningSocket {
  protocol: Protocol;
  /** inet_ntop's text of the local address ("0.0.0.0", "::", "::ffff:127.0.0.1"). */
  address: string;
  port: number;
  /** The uid that opened the socket. */
  uid: number;
  /** The socket's inode: what /proc/<pid>/fd/N links to as `socket:[inode]`. */
  inode: number;
}

// The kernel's socket states (include/net/tcp_states.h), as the `st` column prints them.
const TCP_LISTEN = "0A";
// A UDP socket that is bound but not connect()ed (ss's UNCONN): one that connect()ed to a peer is a client
// (ESTABLISHED, 01) and is never listed, as `ss -l` does not list it.
const UDP_UNCONNECTED = "07";

/**
 * The sockets of one table that wait for peers. Lines that do not have the kernel's shape throw, naming the
 * table and the line: a table read in part must never pass for a table without those sockets.
 */
export function parseProcNet(text: string, protocol: Protocol): ListeningSocket[] {
  const wanted = protocol.startsWith("tcp") ? TCP_LISTEN : UDP_UNCONNECTED;
  const v6 = protocol.endsWith("6");
  const out: ListeningSocket[] = [];
  const lines = text.split("\n");
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const f = line.split(/\s+/);
    const bad = (why: string): never => {
      throw new TypeError(
        `Cannot parse /proc/net/${protocol} line ${i + 1}: ${why}: ${JSON.stringify(line)}`,
      );
    };
    if (f.length < 10 || !/^\d+:$/.test(f[0])) bad("expected `sl: local remote st … uid timeout inode`");
    const st = f[3];
    if (!/^[0-9A-F]{2}$/.test(st)) bad(`state ${JSON.stringify(st)} is not two hex digits`);
    if (st !== wanted) continue;
    const [addrHex, portHex] = f[1].split(":");
    if (!/^[0-9A-F]{4}$/.test(portHex ?? "")) bad(`port ${JSON.stringify(portHex)} is not four hex digits`);
    const port = parseInt(portHex, 16);
    // A UDP socket that was never bound has port 0: nothing can reach it.
    if (port === 0) continue;
    const uid = Number(f[7]);
    const inode = Number(f[9]);
    if (!Number.isSafeInteger(uid) || uid < 0) bad(`uid ${JSON.stringify(f[7])} is not a number`);
    if (!Number.isSafeInteger(inode) || inode < 0) bad(`inode ${JSON.stringify(f[9])} is not a number`);
    const address = v6 ? ipv6FromProc(addrHex) : ipv4FromProc(addrHex);
    if (address === null) bad(`address ${JSON.stringify(addrHex)} is not ${v6 ? 32 : 8} hex digits`);
    out.push({ protocol, address: address!, port, uid, inode });
  }
  return out;
}

/**
 * The kernel prints each 32-bit word of an address with %08X in the CPU's byte order; every CPU Deno runs Linux
 * on (x86-64, AArch64) is little-endian, so each word's bytes come reversed.
 */
function wordsToBytes(hex: string, words: number): number[] | null {
  if (hex.length !== words * 8 || !/^[0-9A-Fa-f]+$/.test(hex)) return null;
  const bytes: number[] = [];
  for (let w = 0; w < words; w++) {
    for (let b = 3; b >= 0; b--) bytes.push(parseInt(hex.slice(w * 8 + b * 2, w * 8 + b * 2 + 2), 16));
  }
  return bytes;
}

/** `0100007F` → `127.0.0.1`. */
export function ipv4FromProc(hex: string): string | null {
  return wordsToBytes(hex, 1)?.join(".") ?? null;
}

/** 32 hex digits of /proc/net/*6 → the address as inet_ntop writes it. */
export function ipv6FromProc(hex: string): string | null {
  const bytes = wordsToBytes(hex, 4);
  return bytes && formatIpv6(bytes);
}

/**
 * Sixteen bytes as glibc's inet_ntop writes them (what ss and netstat print): lower-case hex words, the
 * longest run of two or more zero words (the first of equals) as `::`, and the IPv4-mapped (::ffff:a.b.c.d)
 * and IPv4-compatible (::a.b.c.d, six zero words first) forms with a dotted tail.
 */
export function formatIpv6(bytes: readonly number[]): string {
  const words = Array.from({ length: 8 }, (_, i) => bytes[2 * i] * 256 + bytes[2 * i + 1]);
  let best = { base: -1, len: 0 };
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > best.len) best = { base: i, len: j - i };
    i = j;
  }
  if (best.len < 2) best = { base: -1, len: 0 };
  const dotted = best.base === 0 && (best.len === 6 || (best.len === 5 && words[5] === 0xffff));
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (i >= best.base && i < best.base + best.len) {
      if (i === best.base) out += ":";
      continue;
    }
    if (i !== 0) out += ":";
    if (i === 6 && dotted) {
      out += bytes.slice(12).join(".");
      break;
    }
    out += words[i].toString(16);
  }
  if (best.base !== -1 && best.base + best.len === 8) out += ":";
  return out;
}
