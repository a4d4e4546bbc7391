// Writes the socket table bytes table_test.ts parses: run with Windows Deno (natively or under Wine), from the repo:
//   deno run -A --unstable-net agent/host/sockets/testdata/capture_windows.ts
// It opens one socket of each kind, reads the four tables as the agent does, plus a TCP_TABLE_OWNER_PID_ALL
// table that also has a connection, and writes them beside itself with what it opened (opened.json).
import { fileURLToPath } from "node:url";
import { readSocketTableBytes } from "../listening_windows.ts";

const dir = fileURLToPath(new URL(".", import.meta.url));
// Deno.listenDatagram, not node:dgram: under Wine only a socket whose fd the process itself holds has its pid in
// the tables (node:dgram's sockets come out with pid 0 there, as every TCP listener does).
const udp = (hostname: string) => Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
const tcp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const tcp6 = Deno.listen({ hostname: "::", port: 0 });
const udp4 = udp("127.0.0.1");
const udp6 = udp("::1");
const client = await Deno.connect({ hostname: "127.0.0.1", port: (tcp.addr as Deno.NetAddr).port });
const served = await tcp.accept();

for (const p of ["tcp", "tcp6", "udp", "udp6"] as const) {
  Deno.writeFileSync(`${dir}${p}.bin`, readSocketTableBytes(p));
}
const lib = Deno.dlopen("iphlpapi.dll", {
  GetExtendedTcpTable: { parameters: ["buffer", "buffer", "i32", "u32", "u32", "u32"], result: "u32" },
});
const buf = new Uint8Array(64 * 1024);
const size = new Uint32Array([buf.length]);
// AF_INET, TCP_TABLE_OWNER_PID_ALL (5): listeners and connections.
const r = lib.symbols.GetExtendedTcpTable(buf, size, 1, 2, 5, 0);
if (r !== 0) throw new Error(`GetExtendedTcpTable(AF_INET, TCP_TABLE_OWNER_PID_ALL) failed: ${r}`);
Deno.writeFileSync(`${dir}tcp_all.bin`, buf.subarray(0, size[0]));
Deno.writeTextFileSync(
  `${dir}opened.json`,
  JSON.stringify(
    {
      pid: Deno.pid,
      tcp: (tcp.addr as Deno.NetAddr).port,
      tcp6: (tcp6.addr as Deno.NetAddr).port,
      udp: (udp4.addr as Deno.NetAddr).port,
      udp6: (udp6.addr as Deno.NetAddr).port,
      client: (client.localAddr as Deno.NetAddr).port,
    },
    null,
    2,
  ) + "\n",
);
client.close();
served.close();
tcp.close();
tcp6.close();
udp4.close();
udp6.close();
