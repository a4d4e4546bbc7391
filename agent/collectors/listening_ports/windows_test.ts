// Windows' listening ports from socket table rows: owners joined, owners not known said so, tables not read unseen.
import assert from "node:assert/strict";
import type { Host, ProcessImage, TableProtocol, TableSocket } from "../../host/mod.ts";
import { readWindowsPorts, tableAddress, windowsPortItems } from "./windows.ts";

const v6 = (...words: number[]) => new Uint8Array(words.flatMap((w) => [w >> 8, w & 0xff]));
const row = (protocol: TableProtocol, address: Uint8Array, port: number, pid: number, scopeId = 0) => ({
  protocol,
  address,
  scopeId,
  port,
  pid,
});
const IMAGES = new Map<number, ProcessImage>([
  [0, { error: "the socket table names no process (pid 0)" }],
  [4, { error: "cannot read the image of process 4: Win32 error 31" }],
  [700, { path: "C:\\Windows\\System32\\svchost.exe", user: "NETWORK SERVICE" }],
  [900, { path: "C:\\Program Files\\nginx\\nginx.exe", user: "SYSTEM" }],
  [901, {
    path: "C:\\Program Files\\nginx\\nginx.exe",
    user: null,
    userError: "cannot read the token of process 901: Win32 error 5 (access denied)",
  }],
]);

Deno.test("windowsPortItems(): one item per protocol, address and port, owners and users joined, what is not known said so", () => {
  const items = windowsPortItems([
    row("tcp", new Uint8Array([0, 0, 0, 0]), 80, 901),
    row("tcp", new Uint8Array([0, 0, 0, 0]), 80, 900),
    row("tcp6", v6(0, 0, 0, 0, 0, 0, 0, 0), 135, 700),
    row("tcp", new Uint8Array([0, 0, 0, 0]), 445, 4),
    row("udp6", v6(0xfe80, 0, 0, 0, 0, 0, 0, 1), 546, 0, 12),
  ], IMAGES);
  assert.deepEqual(items, [
    {
      Protocol: "tcp",
      Address: "0.0.0.0",
      Port: 80,
      Endpoint: "0.0.0.0:80",
      Process: "nginx.exe",
      Executable: "C:\\Program Files\\nginx\\nginx.exe",
      User: "SYSTEM",
      Pid: 900,
      Pids: "900, 901",
      OwnerNote: "owner not known: cannot read the token of process 901: Win32 error 5 (access denied)",
    },
    {
      Protocol: "tcp6",
      Address: "::",
      Port: 135,
      Endpoint: "[::]:135",
      Process: "svchost.exe",
      Executable: "C:\\Windows\\System32\\svchost.exe",
      User: "NETWORK SERVICE",
      Pid: 700,
      Pids: "700",
    },
    {
      Protocol: "tcp",
      Address: "0.0.0.0",
      Port: 445,
      Endpoint: "0.0.0.0:445",
      Process: null,
      Executable: null,
      User: null,
      Pid: 4,
      Pids: "4",
      OwnerNote: "owner not known: cannot read the image of process 4: Win32 error 31",
    },
    {
      Protocol: "udp6",
      Address: "fe80::1%12",
      Port: 546,
      Endpoint: "[fe80::1%12]:546",
      Process: null,
      Executable: null,
      User: null,
      Pid: null,
      Pids: null,
      OwnerNote: "owner not known: the socket table names no process (pid 0)",
    },
  ]);
});

Deno.test("tableAddress(): the scope only on link-local addresses (Wine gives ::1 one too)", () => {
  assert.equal(tableAddress({ address: v6(0, 0, 0, 0, 0, 0, 0, 1), scopeId: 4096 }), "::1");
  assert.equal(
    tableAddress({ address: v6(0xfe80, 0, 0, 0, 0x1234, 0, 0, 1), scopeId: 3 }),
    "fe80::1234:0:0:1%3",
  );
  assert.equal(tableAddress({ address: new Uint8Array([192, 0, 2, 1]), scopeId: 0 }), "192.0.2.1");
});

Deno.test("readWindowsPorts(): a table that cannot be read is unseen (its ports kept), an image's are all unseen", () => {
  const signal = new AbortController().signal;
  const sockets: NonNullable<Host["sockets"]> = {
    listening: (p) => {
      if (p === "udp6") {
        throw new Error("GetExtendedUdpTable(AF_INET6, UDP_TABLE_OWNER_PID) failed: Win32 error 50");
      }
      return p === "tcp" ? [row("tcp", new Uint8Array([127, 0, 0, 1]), 8080, 700) as TableSocket] : [];
    },
    image: (pid) => IMAGES.get(pid)!,
  };
  const read = readWindowsPorts({ os: "windows", sockets } as Host, signal);
  assert.deepEqual(read.items.map((i) => [i.Endpoint, i.Process, i.User]), [
    ["127.0.0.1:8080", "svchost.exe", "NETWORK SERVICE"],
  ]);
  assert.deepEqual(read.unseen, ["udp6|"]);
  assert.deepEqual(read.warnings, [
    "cannot read the udp6 socket table: GetExtendedUdpTable(AF_INET6, UDP_TABLE_OWNER_PID) failed: Win32 error 50",
  ]);
  const image = readWindowsPorts({ os: "windows" } as Host, signal);
  assert.deepEqual(image, { items: [], unseen: ["tcp|", "tcp6|", "udp|", "udp6|"], warnings: [] });
});
