// parseSocketTable() on real tables: bytes Windows Deno read under Wine (testdata/capture_windows.ts wrote them).
import assert from "node:assert/strict";
import { parseSocketTable, ROW_BYTES, type TableProtocol } from "./table.ts";

const testdata = new URL("./testdata/", import.meta.url);
const bytes = (name: string) => Deno.readFileSync(new URL(`${name}.bin`, testdata));
/** What the capture opened (its ports) and its pid. */
const opened: Record<"pid" | "tcp" | "tcp6" | "udp" | "udp6" | "client", number> = JSON.parse(
  Deno.readTextFileSync(new URL("opened.json", testdata)),
);
const rows = (name: string, protocol: TableProtocol) =>
  parseSocketTable(bytes(name), protocol).map((s) => ({ ...s, address: [...s.address].join(".") }));
const V6_LOOPBACK = [...Array(15).fill(0), 1].join(".");
const V6_ANY = Array(16).fill(0).join(".");

Deno.test("parseSocketTable() reads the four tables Windows Deno read under Wine, with their owning pids", () => {
  // Wine: a TCP listener's socket is held by wineserver, not by the process that opened it (only UDP sockets
  // are also in the process's own fds), so Wine's tables give TCP listeners pid 0. 0.0.0.0:2024 is a socket of
  // a Linux process of the machine the capture ran on: Wine lists the host's sockets too.
  assert.deepEqual(rows("tcp", "tcp"), [
    { protocol: "tcp", address: "0.0.0.0", scopeId: 0, port: 2024, pid: 0 },
    { protocol: "tcp", address: "127.0.0.1", scopeId: 0, port: opened.tcp, pid: 0 },
  ]);
  assert.deepEqual(rows("tcp6", "tcp6"), [
    { protocol: "tcp6", address: V6_ANY, scopeId: 0, port: opened.tcp6, pid: 0 },
  ]);
  assert.deepEqual(rows("udp", "udp"), [
    { protocol: "udp", address: "127.0.0.1", scopeId: 0, port: opened.udp, pid: opened.pid },
  ]);
  // Wine gives ::1 the scope 4096 (0x1000): what the bytes say, kept as they say it.
  assert.deepEqual(rows("udp6", "udp6"), [
    { protocol: "udp6", address: V6_LOOPBACK, scopeId: 4096, port: opened.udp6, pid: opened.pid },
  ]);
});

Deno.test("parseSocketTable() skips a TCP_TABLE_OWNER_PID_ALL table's connections (ESTABLISHED, TIME_WAIT)", () => {
  const all = bytes("tcp_all");
  const count = new DataView(all.buffer, all.byteOffset).getUint32(0, true);
  assert.ok(count > 2, `the capture has connections too (${count} rows)`);
  assert.deepEqual(rows("tcp_all", "tcp").map((s) => s.port), [2024, opened.tcp]);
});

Deno.test("parseSocketTable() throws naming the table when its rows do not fit its bytes", () => {
  const udp = bytes("udp");
  assert.throws(
    () => parseSocketTable(udp.subarray(0, udp.length - 1), "udp"),
    new RangeError("Cannot parse the Windows udp socket table (15 bytes): 1 rows of 12 bytes do not fit"),
  );
  assert.throws(
    () => parseSocketTable(new Uint8Array(2), "tcp6"),
    /tcp6 socket table \(2 bytes\): too short/,
  );
  assert.deepEqual(parseSocketTable(new Uint8Array(4), "tcp"), [], "no rows: nothing listens");
  assert.equal(bytes("udp6").length, 4 + ROW_BYTES.udp6, "one row of 28 bytes: MIB_UDP6ROW_OWNER_PID");
});
