// Run by mod_test.ts inside a network namespace of its own (`unshare -n`), so nothing else on this machine opens or
// closes a socket between the collector's read and ss's: opens listeners of every kind, and prints as JSON what
// the collector and `ss -ltnupH` see, then one run's changes after a listener opens and after it closes.
import { join } from "node:path";
import dgram from "node:dgram";
import { openDb } from "../../../../db/open.ts";
import { liveHost } from "../../../host/mod.ts";
import { memoryLogger } from "../../../log.ts";
import { settingsSchema } from "../../../config/dcr.ts";
import { runCollector } from "../../../pipeline/run.ts";
import ports from "../mod.ts";

const udp = async (type: "udp4" | "udp6", address: string) => {
  const s = dgram.createSocket(type);
  await new Promise<void>((r) => s.bind(0, address, r));
  return s;
};

const tcp4 = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const tcpAny6 = Deno.listen({ hostname: "::", port: 0 });
const udp4 = await udp("udp4", "0.0.0.0");
const udp6 = await udp("udp6", "::1");
// A TCP connection (ESTABLISHED on both sides) is never a listener.
const client = await Deno.connect({ hostname: "127.0.0.1", port: (tcp4.addr as Deno.NetAddr).port });
const served = await tcp4.accept();
// Another program, with two sockets on one port (SO_REUSEPORT, as servers with workers do): one item; and a
// connect()ed UDP socket (a client's: never listed). Deno's node:dgram connects in userland, so Python's.
const python = new Deno.Command("python3", {
  args: [
    "-c",
    [
      "import socket, sys",
      "ss = [socket.socket() for _ in range(2)]",
      "[s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1) for s in ss]",
      "ss[0].bind(('127.0.0.1', 0)); ss[1].bind(('127.0.0.1', ss[0].getsockname()[1]))",
      "[s.listen() for s in ss]",
      "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
      `u.connect(('127.0.0.1', ${udp4.address().port}))`,
      "print(ss[0].getsockname()[1], u.getsockname()[1], flush=True)",
      "sys.stdin.read()",
    ].join("\n"),
  ],
  stdin: "piped",
  stdout: "piped",
}).spawn();
const reader = python.stdout.getReader();
const [pythonPort, udpClientPort] = new TextDecoder().decode((await reader.read()).value).trim().split(" ")
  .map(Number);

const collected = await ports.collect(settingsSchema("linux").parse({}), {
  host: liveHost(),
  signal: new AbortController().signal,
  log: memoryLogger("debug"),
});
const ss = new TextDecoder().decode((await new Deno.Command("ss", { args: ["-ltnupH"] }).output()).stdout);

// Added, then Removed, through the pipeline and a store of its own.
const dir = await Deno.makeTempDir({ prefix: "ctagent-ports-" });
const opened = await openDb(join(dir, "state.db"));
const run = async () =>
  (await runCollector({
    ...opened,
    collector: ports,
    settings: settingsSchema("linux").parse({}),
    host: liveHost({ hostname: "testhost" }),
    log: memoryLogger("debug"),
    signal: new AbortController().signal,
  })).changes.map((c) => [c.ChangeCategory, c.Endpoint, c.Protocol, c.Process]);
const baseline = await run();
const opening = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const afterOpen = await run();
const openedPort = (opening.addr as Deno.NetAddr).port;
opening.close();
const afterClose = await run();
const unchanged = await run();
await opened.close();
await Deno.remove(dir, { recursive: true });

console.log(JSON.stringify({
  collected,
  ss,
  pid: Deno.pid,
  pythonPid: python.pid,
  pythonPort,
  clientPort: (client.localAddr as Deno.NetAddr).port,
  udpClientPort,
  openedPort,
  baseline,
  afterOpen,
  afterClose,
  unchanged,
}));
client.close();
served.close();
tcp4.close();
tcpAny6.close();
udp4.close();
udp6.close();
reader.releaseLock();
await python.stdin.close();
await python.status;
