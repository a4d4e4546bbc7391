// parseProcNet() and the address text, against lines in the kernel's format and glibc's own inet_ntop.
import assert from "node:assert/strict";
import { formatIpv6, ipv4FromProc, ipv6FromProc, parseProcNet } from "./proc_net.ts";

const TCP_HEADER =
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
const tcpLine = (sl: number, local: string, remote: string, st: string, uid: number, inode: number) =>
  `  ${sl}: ${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000 ${uid}        0 ${inode} 1 ` +
  `0000000090db45db 100 0 0 10 0\n`;

Deno.test("parseProcNet() keeps TCP sockets in LISTEN only: never a connection, client or server side", () => {
  const text = TCP_HEADER +
    tcpLine(0, "00000000:0016", "00000000:0000", "0A", 0, 1312) + // 0.0.0.0:22 LISTEN
    tcpLine(1, "0100007F:1F90", "00000000:0000", "0A", 33, 2001) + // 127.0.0.1:8080 LISTEN
    tcpLine(2, "0100007F:BE4A", "0100007F:1F90", "01", 1000, 2002) + // a client's ESTABLISHED socket
    tcpLine(3, "0100007F:1F90", "0100007F:BE4A", "01", 33, 2003) + // the server's side of it
    tcpLine(4, "0100007F:DFC0", "0100007F:B48F", "06", 0, 0); // TIME_WAIT
  assert.deepEqual(parseProcNet(text, "tcp"), [
    { protocol: "tcp", address: "0.0.0.0", port: 22, uid: 0, inode: 1312 },
    { protocol: "tcp", address: "127.0.0.1", port: 8080, uid: 33, inode: 2001 },
  ]);
});

Deno.test("parseProcNet() keeps bound unconnected UDP sockets; connected (client) and unbound ones are not listening", () => {
  const header =
    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n";
  const line = (sl: number, local: string, remote: string, st: string, inode: number) =>
    `  ${sl}: ${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000   101        0 ${inode} 2 ` +
    `0000000000000000 0\n`;
  const text = header +
    line(0, "3500007F:0035", "00000000:0000", "07", 10) + // 127.0.0.53:53, bound
    line(1, "0F02000A:0044", "00000000:0000", "07", 11) + // 10.0.2.15:68
    line(2, "0F02000A:D431", "08080808:0035", "01", 12) + // a resolver's connect()ed socket
    line(3, "00000000:0000", "00000000:0000", "07", 13); // never bound
  assert.deepEqual(parseProcNet(text, "udp").map((s) => [s.address, s.port, s.inode]), [
    ["127.0.0.53", 53, 10],
    ["10.0.2.15", 68, 11],
  ]);
});

Deno.test("parseProcNet() reads IPv6 tables word by word (little-endian words)", () => {
  const text = TCP_HEADER +
    tcpLine(0, "00000000000000000000000000000000:0016", "00000000000000000000000000000000:0000", "0A", 0, 5) +
    tcpLine(1, "00000000000000000000000001000000:0277", "00000000000000000000000000000000:0000", "0A", 0, 6) +
    tcpLine(2, "0000000000000000FFFF00000100007F:1F90", "00000000000000000000000000000000:0000", "0A", 0, 7) +
    tcpLine(3, "B80D0120000000000000000001000000:01BB", "00000000000000000000000000000000:0000", "0A", 0, 8);
  assert.deepEqual(parseProcNet(text, "tcp6").map((s) => `${s.address} ${s.port}`), [
    ":: 22",
    "::1 631",
    "::ffff:127.0.0.1 8080",
    "2001:db8::1 443",
  ]);
});

Deno.test("parseProcNet() throws on a line not in the kernel's shape, naming the table, line and text", () => {
  assert.throws(
    () => parseProcNet(TCP_HEADER + "  0: 00000000:0016 00000000:0000 0A\n", "tcp"),
    /Cannot parse \/proc\/net\/tcp line 2: expected .*"0: 00000000:0016 00000000:0000 0A"/,
  );
  assert.throws(
    () => parseProcNet(TCP_HEADER + tcpLine(0, "0000000:0016", "00000000:0000", "0A", 0, 1), "tcp"),
    /tcp line 2: address "0000000" is not 8 hex digits/,
  );
  assert.throws(
    () => parseProcNet(TCP_HEADER + tcpLine(0, "00000000:16", "00000000:0000", "0A", 0, 1), "tcp"),
    /port "16" is not four hex digits/,
  );
  assert.deepEqual(parseProcNet(TCP_HEADER, "tcp"), [], "a table with no sockets");
});

Deno.test("ipv4FromProc() and ipv6FromProc() refuse text of the wrong length", () => {
  assert.equal(ipv4FromProc("0100007F"), "127.0.0.1");
  assert.equal(ipv4FromProc("0100007"), null);
  assert.equal(ipv6FromProc("00"), null);
  assert.equal(ipv6FromProc("G".repeat(32)), null);
});

/** Addresses with runs of zero words of every length and place, and the mapped/compatible IPv4 forms. */
function sampleAddresses(): number[][] {
  let seed = 0x2545f491;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const out: number[][] = [];
  for (let n = 0; n < 400; n++) {
    const words = Array.from({ length: 8 }, () => rand() < 0.5 ? 0 : Math.floor(rand() * 65536));
    if (n % 10 === 0) words.splice(0, 6, 0, 0, 0, 0, 0, 0xffff);
    if (n % 10 === 1) words.splice(0, 6, 0, 0, 0, 0, 0, 0);
    if (n % 10 === 2) words.splice(0, 7, 0, 0, 0, 0, 0, 0, 0);
    out.push(words.flatMap((w) => [w >> 8, w & 255]));
  }
  out.push(new Array(16).fill(0));
  return out;
}

Deno.test("formatIpv6() writes every address as glibc's inet_ntop does (python3's socket.inet_ntop asked)", async () => {
  const addresses = sampleAddresses();
  const script = "import socket,sys\nfor l in sys.stdin:\n" +
    "  print(socket.inet_ntop(socket.AF_INET6, bytes.fromhex(l.strip())))\n";
  const child = new Deno.Command("python3", { args: ["-c", script], stdin: "piped", stdout: "piped" })
    .spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(
    addresses.map((b) => b.map((x) => x.toString(16).padStart(2, "0")).join("")).join("\n") + "\n",
  ));
  await w.close();
  const out = await child.output();
  assert.ok(out.success, "python3 ran");
  const theirs = new TextDecoder().decode(out.stdout).trim().split("\n");
  assert.equal(theirs.length, addresses.length);
  assert.deepEqual(addresses.map(formatIpv6), theirs);
});
