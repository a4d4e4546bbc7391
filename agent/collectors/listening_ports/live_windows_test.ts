// listening_ports on the running Windows machine (Windows Deno, natively or under Wine): iphlpapi's tables.
import assert from "node:assert/strict";
import { join } from "node:path";
import { named, SKIP } from "../../../test/windows/seed.ts";
import { openDb } from "../../../db/open.ts";
import { liveHost } from "../../host/mod.ts";
import { memoryLogger } from "../../log.ts";
import { settingsSchema } from "../../config/dcr.ts";
import { runCollector } from "../../pipeline/run.ts";
import type { PortItem } from "./item.ts";
import ports from "./mod.ts";

const settings = () => settingsSchema("windows").parse({});
const collect = async () =>
  (await ports.collect(settings(), {
    host: liveHost(),
    signal: new AbortController().signal,
    log: memoryLogger("debug"),
  })).items;

/** The account this test runs as (whoami's name, without the domain). */
async function me(): Promise<string> {
  const o = await new Deno.Command("whoami", { stdout: "piped", stderr: "null" }).output();
  return new TextDecoder().decode(o.stdout).trim().split("\\").pop()!;
}

/** Whether this is Wine (ntdll exports wine_get_version there, never on Windows). */
function underWine(): boolean {
  try {
    Deno.dlopen("ntdll.dll", { wine_get_version: { parameters: [], result: "pointer" } }).close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Another Windows Deno process that opens a TCP listener and a UDP socket on 127.0.0.1, closes both when told
 * (a line on stdin), and stays until its stdin ends: the test sees them opened and closed by a running process.
 * Deno.listenDatagram (not node:dgram): under Wine only a socket whose fd the process itself holds has its pid in
 * the tables (see agent/host/sockets/table_test.ts).
 */
async function opener() {
  const code = `
    const tcp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const udp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    console.log(JSON.stringify({ tcp: tcp.addr.port, udp: udp.addr.port }));
    const lines = Deno.stdin.readable.getReader();
    await lines.read();
    tcp.close();
    udp.close();
    console.log("closed");
    while (!(await lines.read()).done);
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--unstable-net", code],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const line = async () => (await out.read()).value?.trim() ?? "";
  const opened: { tcp: number; udp: number } = JSON.parse(await line());
  const stdin = child.stdin.getWriter();
  return {
    pid: child.pid,
    ...opened,
    async close() {
      await stdin.write(new TextEncoder().encode("close\n"));
      assert.equal(await line(), "closed");
    },
    async end() {
      await stdin.close();
      while (!(await out.read()).done);
      await child.status;
    },
  };
}

/** `netstat -an` rows as keys `protocol|address|port`: TCP rows in LISTENING, and UDP rows. */
async function netstat(): Promise<{ tcp: Set<string>; udp: Set<string> }> {
  const o = await new Deno.Command("netstat", { args: ["-a", "-n", "-o"] }).output();
  assert.ok(o.success, `netstat -ano failed: ${new TextDecoder().decode(o.stderr)}`);
  const found = { tcp: new Set<string>(), udp: new Set<string>() };
  for (const line of new TextDecoder().decode(o.stdout).split(/\r?\n/)) {
    const f = line.trim().split(/\s+/);
    if (f[0] !== "TCP" && f[0] !== "UDP") continue;
    if (f[0] === "TCP" && f[3] !== "LISTENING") continue;
    const m = f[1].match(/^\[?(.*?)\]?:(\d+)$/);
    assert.ok(m, `netstat's local address ${JSON.stringify(f[1])} in ${JSON.stringify(line)}`);
    const v6 = m[1].includes(":");
    const proto = f[0] === "TCP" ? "tcp" : "udp";
    found[proto].add(`${proto}${v6 ? "6" : ""}|${m[1]}|${m[2]}`);
  }
  return found;
}

Deno.test({
  name: named(
    "listening_ports reads the live tables: another process's TCP listener and UDP socket are each one Added (its pid, image and user), Removed when closed",
  ),
  ignore: !!SKIP,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ctagent-ports-" });
    const opened = await openDb(join(dir, "state.db"));
    // The machine's other sockets (Wine lists the host's too) open and close as they like: only the opener's
    // two endpoints are looked at.
    let mine: string[] = [];
    const run = async () =>
      (await runCollector({
        ...opened,
        collector: ports,
        settings: settings(),
        host: liveHost({ hostname: "testhost" }),
        log: memoryLogger("debug"),
        signal: new AbortController().signal,
      })).changes.filter((c) => mine.includes(c.Endpoint as string))
        .map((c) => [c.ChangeCategory, c.Protocol, c.Endpoint]);
    let child: Awaited<ReturnType<typeof opener>> | undefined;
    try {
      await run();
      child = await opener();
      mine = [`127.0.0.1:${child.tcp}`, `127.0.0.1:${child.udp}`];
      assert.deepEqual(await run(), [
        ["Added", "tcp", `127.0.0.1:${child.tcp}`],
        ["Added", "udp", `127.0.0.1:${child.udp}`],
      ]);

      const by = new Map((await collect()).map((i) => [`${i.Protocol}|${i.Endpoint}`, i]));
      const exe = Deno.execPath();
      assert.deepEqual(
        by.get(`udp|127.0.0.1:${child.udp}`),
        {
          Protocol: "udp",
          Address: "127.0.0.1",
          Port: child.udp,
          Endpoint: `127.0.0.1:${child.udp}`,
          Process: exe.slice(exe.lastIndexOf("\\") + 1),
          Executable: exe,
          User: await me(),
          Pid: child.pid,
          Pids: String(child.pid),
        } satisfies PortItem,
      );
      const tcp = by.get(`tcp|127.0.0.1:${child.tcp}`);
      assert.ok(tcp, `the TCP listener 127.0.0.1:${child.tcp} is listed`);
      if (underWine()) {
        // Wine: a TCP listener's unix socket is held by wineserver alone, so its tables give pid 0 for every
        // TCP listener. The item says so, never guessing an owner.
        assert.deepEqual([tcp.Pid, tcp.Process, tcp.User, tcp.OwnerNote], [
          null,
          null,
          null,
          "owner not known: the socket table names no process (pid 0)",
        ]);
      } else {
        assert.deepEqual([tcp.Pid, tcp.Executable, tcp.User, tcp.OwnerNote], [
          child.pid,
          exe,
          await me(),
          undefined,
        ]);
      }

      await child.close();
      assert.deepEqual(await run(), [
        ["Removed", "tcp", `127.0.0.1:${child.tcp}`],
        ["Removed", "udp", `127.0.0.1:${child.udp}`],
      ]);
      assert.deepEqual(await run(), []);
    } finally {
      await child?.end();
      await opened.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: named(
    "listening_ports equals netstat -ano on what netstat shows (under Wine: UDP over IPv4; no TCP listeners, no IPv6, no pids)",
  ),
  ignore: !!SKIP,
  async fn() {
    const child = await opener();
    try {
      const keys = async () => new Set((await collect()).map((i) => `${i.Protocol}|${i.Address}|${i.Port}`));
      // Each side read twice, in turn: a socket in both reads of one side was open all along, so the other
      // side's read between them must have it, whatever else opens and closes on the machine meanwhile.
      const ours1 = await keys();
      const theirs1 = await netstat();
      const ours2 = await keys();
      const theirs2 = await netstat();
      const both = <T>(a: Set<T>, b: Set<T>) => [...a].filter((k) => b.has(k)).sort();
      // Wine's netstat (8.0) prints no LISTENING rows and no IPv6 rows, and ignores -o (no PID column), so
      // TCP is compared only where it prints listeners (Windows), and pids never.
      const compared = ["udp", ...(theirs1.tcp.size || theirs2.tcp.size ? ["tcp", "tcp6", "udp6"] : [])];
      const shown = (k: string) => compared.includes(k.slice(0, k.indexOf("|")));
      const theirs = (n: { tcp: Set<string>; udp: Set<string> }) => new Set([...n.tcp, ...n.udp]);
      const missingInTheirs = both(ours1, ours2).filter((k) => shown(k) && !theirs(theirs1).has(k));
      const missingInOurs = both(theirs(theirs1), theirs(theirs2)).filter((k) => shown(k) && !ours2.has(k));
      assert.deepEqual([missingInTheirs, missingInOurs], [[], []]);
      const udp = `udp|127.0.0.1|${child.udp}`;
      assert.ok(theirs1.udp.has(udp) && ours2.has(udp), `${udp} is in both`);
      console.log(`compared ${compared.join(", ")}: ${both(ours1, ours2).filter(shown).length} sockets`);
    } finally {
      await child.end();
    }
  },
});

Deno.test({
  name: named(
    "processImage() gives a running process's image path and user, and says why for one that cannot be opened",
  ),
  ignore: !!SKIP,
  async fn() {
    const sockets = liveHost().sockets!;
    assert.deepEqual(sockets.image(Deno.pid), { path: Deno.execPath(), user: await me() });
    // Windows' pids are multiples of 4 below 2^32 - 4: this one names no process.
    assert.deepEqual(sockets.image(0xfffffffc), {
      error: "cannot open process 4294967292: Win32 error 87 (no such process)",
    });
    assert.deepEqual(sockets.image(0), { error: "the socket table names no process (pid 0)" });
  },
});
