// Parses the socket tables Windows' iphlpapi fills (GetExtendedTcpTable / GetExtendedUdpTable, *_OWNER_PID).

/** Which table: TCP or UDP, IPv4 or IPv6 (the names listening_ports keys its items by, as on Linux). */
export type TableProtocol = "tcp" | "tcp6" | "udp" | "udp6";

/** One socket that waits for peers, as a row of a Windows socket table gives it. */
export interface TableSocket {
  protocol: TableProtocol;
  /** The local address's bytes (4 or 16), in network order. */
  address: Uint8Array;
  /** The IPv6 scope (interface index) of the local address; 0 for IPv4. */
  scopeId: number;
  port: number;
  /** The owning process's id; 0 when the table names none. */
  pid: number;
}

/**
 * Bytes of one row: MIB_TCPROW_OWNER_PID (state, address, port, remote address, remote port, pid),
 * MIB_TCP6ROW_OWNER_PID (address[16], scope, port, remote address[16], remote scope, remote port, state, pid),
 * MIB_UDPROW_OWNER_PID (address, port, pid), MIB_UDP6ROW_OWNER_PID (address[16], scope, port, pid). Each table
 * starts with its row count (a DWORD); rows follow at offset 4 (every field is a DWORD or bytes).
 */
export const ROW_BYTES: Record<TableProtocol, number> = { tcp: 24, tcp6: 56, udp: 12, udp6: 28 };

/** MIB_TCP_STATE_LISTEN. */
const LISTEN = 2;

/**
 * The sockets of one table that wait for peers: TCP rows in LISTEN (a TCP_TABLE_OWNER_PID_ALL table's
 * connections are skipped), UDP rows bound to a port. A table whose rows do not fit its bytes throws, naming
 * the table, its size and its row count: a table read in part must never pass for one without those sockets.
 */
export function parseSocketTable(bytes: Uint8Array, protocol: TableProtocol): TableSocket[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const where = `the Windows ${protocol} socket table (${bytes.length} bytes)`;
  if (bytes.length < 4) throw new RangeError(`Cannot parse ${where}: too short for its row count`);
  const count = view.getUint32(0, true);
  const size = ROW_BYTES[protocol];
  if (4 + count * size > bytes.length) {
    throw new RangeError(`Cannot parse ${where}: ${count} rows of ${size} bytes do not fit`);
  }
  const v6 = protocol.endsWith("6");
  // The port is a DWORD whose first two bytes hold it in network order (the other two are not defined).
  const portAt = (at: number) => bytes[at] * 256 + bytes[at + 1];
  const out: TableSocket[] = [];
  for (let i = 0; i < count; i++) {
    const at = 4 + i * size;
    let row: TableSocket;
    if (protocol === "tcp") {
      if (view.getUint32(at, true) !== LISTEN) continue;
      row = {
        protocol,
        address: bytes.slice(at + 4, at + 8),
        scopeId: 0,
        port: portAt(at + 8),
        pid: view.getUint32(at + 20, true),
      };
    } else if (protocol === "tcp6") {
      if (view.getUint32(at + 48, true) !== LISTEN) continue;
      row = {
        protocol,
        address: bytes.slice(at, at + 16),
        scopeId: view.getUint32(at + 16, true),
        port: portAt(at + 20),
        pid: view.getUint32(at + 52, true),
      };
    } else {
      const a = v6 ? 16 : 4;
      row = {
        protocol,
        address: bytes.slice(at, at + a),
        scopeId: v6 ? view.getUint32(at + 16, true) : 0,
        port: portAt(at + (v6 ? 20 : 4)),
        pid: view.getUint32(at + (v6 ? 24 : 8), true),
      };
    }
    // A UDP socket not bound to a port cannot be reached (as on Linux, never an item).
    if (row.port !== 0) out.push(row);
  }
  return out;
}
