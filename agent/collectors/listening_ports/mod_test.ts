// The listening_ports collector: a fixture /proc tree read with --root (items exact; a restart is no change, another
// program is), this machine's kernel against `ss -ltnup` in a network namespace of its own (with a listener opened,
// Added, and closed, Removed), and --once, --forward, --config and the page end to end.
import assert from "node:assert/strict";
import { join } from "node:path";
import { type EventTime, FluentServer } from "@fluent-org/logger";
import { openDb } from "../../../db/open.ts";
import { liveHost } from "../../host/mod.ts";
import { memoryLogger } from "../../log.ts";
import { settingsSchema } from "../../config/dcr.ts";
import { runCollector } from "../../pipeline/run.ts";
import { main } from "../../cli.ts";
import { DB_FILE } from "../../paths.ts";
import { capture, collectorPage } from "../../../test/e2e_helpers.ts";
import { startFakeAma } from "../../../test/fake_ama.ts";
import { COLLECTORS } from "../mod.ts";
import type { PortItem } from "./item.ts";
import { portItems } from "./linux.ts";
import ports from "./mod.ts";

const settings = settingsSchema("linux").parse({});

const line = (sl: number, local: string, st: string, uid: number, inode: number) =>
  `  ${sl}: ${local} ${"0".repeat(local.length - 5)}:0000 ${st} 00000000:00000000 00:00000000 00000000 ` +
  `${uid}        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;
const HEADER =
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

interface Proc {
  pid: number;
  comm: string;
  exe: string;
  uid: number;
  sockets: number[];
}

/** Writes a machine tree: /proc/net tables, processes with their fd links, and /etc/passwd. */
async function writeMachine(root: string, tables: Record<string, string>, procs: Proc[]): Promise<void> {
  await Deno.mkdir(join(root, "proc/net"), { recursive: true });
  await Deno.mkdir(join(root, "etc"), { recursive: true });
  for (const [name, lines] of Object.entries(tables)) {
    await Deno.writeTextFile(join(root, "proc/net", name), HEADER + lines);
  }
  for (const p of procs) {
    const dir = join(root, "proc", String(p.pid));
    await Deno.mkdir(join(dir, "fd"), { recursive: true });
    await Deno.writeTextFile(join(dir, "comm"), p.comm + "\n");
    await Deno.writeTextFile(
      join(dir, "status"),
      `Name:\t${p.comm}\nUid:\t0\t${p.uid}\t${p.uid}\t${p.uid}\n`,
    );
    await Deno.symlink(p.exe, join(dir, "exe"));
    await Deno.symlink("/dev/null", join(dir, "fd", "0"));
    await Deno.symlink("pipe:[77]", join(dir, "fd", "1"));
    for (const [i, inode] of p.sockets.entries()) {
      await Deno.symlink(`socket:[${inode}]`, join(dir, "fd", String(i + 3)));
    }
  }
  await Deno.writeTextFile(
    join(root, "etc/passwd"),
    "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n" +
      "postgres:x:105:110::/var/lib/postgresql:/bin/bash\n",
  );
}

const TABLES = {
  tcp: line(0, "00000000:0016", "0A", 0, 100) + // 0.0.0.0:22
    line(1, "0100007F:1538", "0A", 105, 101) + // 127.0.0.1:5432
    line(2, "00000000:0050", "0A", 0, 102) + // 0.0.0.0:80, two sockets (SO_REUSEPORT)
    line(3, "00000000:0050", "0A", 33, 103) +
    line(4, "0F02000A:0016", "01", 0, 106), // a connection to sshd
  tcp6: line(0, "00000000000000000000000000000000:0016", "0A", 0, 104), // [::]:22
  udp: line(0, "3500007F:0035", "07", 101, 105), // 127.0.0.53:53, its process not visible
  // no udp6: a kernel without IPv6 UDP, or a table not readable
};
const PROCS: Proc[] = [
  { pid: 300, comm: "sshd", exe: "/usr/sbin/sshd", uid: 0, sockets: [100, 104] },
  { pid: 400, comm: "postgres", exe: "/usr/lib/postgresql/15/bin/postgres", uid: 105, sockets: [101] },
  { pid: 500, comm: "nginx", exe: "/usr/sbin/nginx", uid: 0, sockets: [102, 103] },
  { pid: 501, comm: "nginx", exe: "/usr/sbin/nginx", uid: 33, sockets: [103] },
  { pid: 502, comm: "cat", exe: "/usr/bin/cat", uid: 0, sockets: [] },
];

const collect = async (root: string) =>
  await ports.collect(settings, {
    host: liveHost({ root, hostname: "fixture" }),
    signal: new AbortController().signal,
    log: memoryLogger("debug"),
  });

Deno.test("listening_ports reads a fixture /proc tree with --root: listeners and bound UDP sockets with their owners", async () => {
  const root = await Deno.makeTempDir({ prefix: "ctagent-ports-" });
  try {
    await writeMachine(root, TABLES, PROCS);
    const got = await collect(root);
    const owned = (Process: string, Executable: string, User: string, Pids: string) => ({
      Process,
      Executable,
      User,
      Pid: Number(Pids.split(",")[0]),
      Pids,
    });
    const none = { Process: null, Executable: null, User: null, Pid: null, Pids: null };
    assert.deepEqual(got.items, [
      {
        Protocol: "tcp",
        Address: "0.0.0.0",
        Port: 22,
        Endpoint: "0.0.0.0:22",
        ...owned("sshd", "/usr/sbin/sshd", "root", "300"),
      },
      {
        Protocol: "tcp",
        Address: "127.0.0.1",
        Port: 5432,
        Endpoint: "127.0.0.1:5432",
        ...owned("postgres", "/usr/lib/postgresql/15/bin/postgres", "postgres", "400"),
      },
      {
        Protocol: "tcp",
        Address: "0.0.0.0",
        Port: 80,
        Endpoint: "0.0.0.0:80",
        ...owned("nginx", "/usr/sbin/nginx", "root, www-data", "500, 501"),
      },
      {
        Protocol: "tcp6",
        Address: "::",
        Port: 22,
        Endpoint: "[::]:22",
        ...owned("sshd", "/usr/sbin/sshd", "root", "300"),
      },
      { Protocol: "udp", Address: "127.0.0.53", Port: 53, Endpoint: "127.0.0.53:53", ...none },
    ]);
    assert.deepEqual(got.unseen, ["udp6|"], "a table not there is not known, never empty");
    assert.deepEqual(got.warnings, []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("listening_ports: a restart with a new pid is no change; another executable on the port is one Modified; a closed port one Removed", async () => {
  const root = await Deno.makeTempDir({ prefix: "ctagent-ports-" });
  const opened = await openDb(join(root, "state.db"));
  const run = async () =>
    (await runCollector({
      ...opened,
      collector: ports,
      settings,
      host: liveHost({ root, hostname: "fixture" }),
      log: memoryLogger("debug"),
      signal: new AbortController().signal,
    })).changes.map((c) => [c.ChangeCategory, c.Protocol, c.Endpoint, c.FieldsChanged ?? ""]);
  try {
    await writeMachine(root, TABLES, PROCS);
    assert.deepEqual(await run(), [], "baseline");
    // sshd restarted: new pid, new socket inodes.
    await Deno.remove(join(root, "proc"), { recursive: true });
    const restarted = PROCS.map((p) => p.pid === 300 ? { ...p, pid: 310, sockets: [200, 204] } : p);
    const tables = {
      ...TABLES,
      tcp: TABLES.tcp.replace(" 0 100 1 ", " 0 200 1 "),
      tcp6: TABLES.tcp6.replace(" 104 ", " 204 "),
    };
    await writeMachine(root, tables, restarted);
    assert.deepEqual(await run(), [], "a new pid is not a change");
    // Another program took postgres's port.
    await Deno.remove(join(root, "proc"), { recursive: true });
    const swapped = restarted.map((p) =>
      p.pid === 400 ? { ...p, pid: 410, exe: "/usr/local/bin/pgbouncer", comm: "pgbouncer" } : p
    );
    await writeMachine(root, tables, swapped);
    assert.deepEqual(await run(), [["Modified", "tcp", "127.0.0.1:5432", "Executable, Process"]]);
    // The UDP socket closed.
    await Deno.remove(join(root, "proc"), { recursive: true });
    await writeMachine(root, { ...tables, udp: "" }, swapped);
    assert.deepEqual(await run(), [["Removed", "udp", "127.0.0.53:53", ""]]);
    assert.deepEqual(await run(), []);
  } finally {
    await opened.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("portItems(): a socket without an owner while some processes' files were refused says so, and is still an item", () => {
  const socket = { protocol: "tcp" as const, address: "0.0.0.0", port: 22, uid: 0, inode: 9 };
  const refused = { byInode: new Map(), unreadable: 3, firstError: "/proc/1/fd: Permission denied" };
  const [item] = portItems([socket], refused, String);
  assert.ok(!("error" in item), "an error item would never be reported Added");
  assert.equal(
    item.OwnerNote,
    "owner not known: some processes' open files could not be read (3 this run, e.g. /proc/1/fd: Permission denied)",
  );
  assert.ok(ports.volatile.includes("OwnerNote"), "a count that varies is no change");
  const [known] = portItems([socket], { byInode: new Map(), unreadable: 0 }, String);
  assert.equal(known.OwnerNote, undefined, "every process read: nobody this machine shows holds it");
});

const onPath = (tool: string) =>
  new Deno.Command("sh", { args: ["-c", `command -v ${tool}`], stdout: "null" }).outputSync().success;
const NETNS_SKIP = Deno.uid() === 0 && ["unshare", "ip", "ss", "python3"].every(onPath)
  ? ""
  : " (SKIPPED: needs root, unshare, ip (iproute2), ss and python3)";

/** `ss -ltnupH` as items' keys, each with its process names and pids. */
function parseSs(text: string): Map<string, { names: string[]; pids: number[] }> {
  const out = new Map<string, { names: string[]; pids: number[] }>();
  for (const row of text.split("\n").filter((l) => l.trim())) {
    const [netid, , , , local, , ...rest] = row.trim().split(/\s+/);
    const colon = local.lastIndexOf(":");
    // ss writes IPv6 in brackets, `*` for `::` on a socket that takes IPv4 too, and `%dev` for a bound device.
    let address = local.slice(0, colon).replace(/%.*$/, "");
    const v6 = address.startsWith("[") || address === "*";
    address = address === "*" ? "::" : address.replace(/^\[|\]$/g, "");
    const key = `${netid}${v6 ? "6" : ""}|${address}|${Number(local.slice(colon + 1))}`;
    const entry = out.get(key) ?? { names: [], pids: [] };
    for (const m of rest.join(" ").matchAll(/\("([^"]*)",pid=(\d+),fd=\d+\)/g)) {
      if (!entry.names.includes(m[1])) entry.names.push(m[1]);
      if (!entry.pids.includes(Number(m[2]))) entry.pids.push(Number(m[2]));
    }
    out.set(key, entry);
  }
  for (const e of out.values()) e.names.sort(), e.pids.sort((a, b) => a - b);
  return out;
}

Deno.test({
  name:
    "listening_ports equals ss -ltnup on this machine's kernel (a network namespace of its own), with a listener opened (Added) and closed (Removed)" +
    NETNS_SKIP,
  ignore: !!NETNS_SKIP,
  async fn() {
    const script = new URL("./testdata/netns_run.ts", import.meta.url).pathname;
    const out = await new Deno.Command("unshare", {
      args: ["-n", "sh", "-c", 'ip link set lo up && exec "$0" run -A "$1"', Deno.execPath(), script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const r = JSON.parse(new TextDecoder().decode(out.stdout));
    const items: PortItem[] = r.collected.items;
    const ours = new Map(items.map((i) => [
      ports.key(i),
      { names: i.Process?.split(", ") ?? [], pids: i.Pids?.split(", ").map(Number) ?? [] },
    ]));
    assert.deepEqual(ours, parseSs(r.ss), `ss -ltnup said:\n${r.ss}`);
    // What the namespace holds: Deno's four listeners and Python's two sockets on one port, one item.
    assert.equal(items.length, 5);
    const python = items.find((i) => i.Port === r.pythonPort)!;
    assert.deepEqual([python.Protocol, python.Process, python.Pids], ["tcp", "python3", String(r.pythonPid)]);
    assert.match(python.Executable ?? "", /python3/);
    assert.equal(
      items.find((i) => i.Protocol === "tcp6")?.Executable,
      Deno.execPath(),
      "deno's own executable",
    );
    assert.ok(!items.some((i) => i.Port === r.clientPort), "a TCP client's socket is no listener");
    assert.ok(!items.some((i) => i.Port === r.udpClientPort), "a connect()ed UDP socket is no listener");
    assert.deepEqual(r.collected.unseen, []);
    assert.deepEqual(r.baseline, []);
    assert.deepEqual(r.afterOpen, [["Added", `127.0.0.1:${r.openedPort}`, "tcp", "deno"]]);
    assert.deepEqual(r.afterClose, [["Removed", `127.0.0.1:${r.openedPort}`, "tcp", "deno"]]);
    assert.deepEqual(r.unchanged, []);
  },
});

/**
 * A `--config` file that switches off the other collectors ctagent's settings switch on (this root has no tree for
 * them), and this one too when `off`.
 */
async function ownSettings(dir: string, off = false): Promise<string[]> {
  const others = COLLECTORS.filter((c) => c.schedule.dcr === null && (off || c.name !== "listening_ports"));
  const file = join(dir, off ? "off.json" : "agent.json");
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      collectors: Object.fromEntries(
        others.map((c) => [c.schedule.dcr === null ? c.schedule.setting : c.name, { enabled: false }]),
      ),
    }),
  );
  return ["--config", file];
}

Deno.test("--once: listening ports go to --json, a --forward endpoint and the page on ctagent's own streams, never to AMA; --config switches them off", async () => {
  const root = await Deno.makeTempDir({ prefix: "ctagent-ports-" });
  await writeMachine(root, TABLES, PROCS);
  const data = join(root, "data");
  const ama = await startFakeAma({
    settings: { enableSoftware: false, enableServices: false, enableFiles: false },
  });
  const server = new FluentServer({ listenOptions: { port: 0, host: "127.0.0.1" } });
  const got: [string, EventTime, Record<string, unknown>][] = [];
  server.on("entry", (tag, time, record) => got.push([tag, time, record]));
  await server.listen();
  const once = async (args: string[]) => {
    const io = capture();
    const own = args.includes("--config") ? [] : await ownSettings(root);
    const code = await main(["--once", "--data-dir", data, "--root", root, "--no-ui", ...own, ...args], {
      io,
    });
    return { code, out: io.outText(), err: io.errText() };
  };
  try {
    const first = await once([
      "--ama-config",
      ama.configEndpoint!,
      "--ama-data",
      ama.dataEndpoints[0],
      "--json",
    ]);
    assert.equal(first.code, 0, first.err);
    const doc = JSON.parse(first.out);
    assert.deepEqual(
      doc.inventory.listening_ports.map((
        r: Record<string, unknown>,
      ) => [r.ConfigDataType, r.Endpoint, r.Process]),
      [
        // In key order; a null field is no column of a record.
        ["ListeningPorts", "[::]:22", "sshd"],
        ["ListeningPorts", "0.0.0.0:22", "sshd"],
        ["ListeningPorts", "0.0.0.0:80", "nginx"],
        ["ListeningPorts", "127.0.0.1:5432", "postgres"],
        ["ListeningPorts", "127.0.0.53:53", undefined],
      ],
    );
    assert.deepEqual(
      ama.received.filter((e) =>
        e.record.ConfigDataType === "ListeningPorts" || e.record.ConfigChangeType === "ListeningPorts"
      ),
      [],
      "AMA's tables have no such type",
    );

    // A new listener: one Added, forwarded.
    await Deno.writeTextFile(join(root, "proc/net/tcp"), line(9, "00000000:1F90", "0A", 0, 900), {
      append: true,
    });
    const forward = ["--no-ama", "--forward", `tcp://127.0.0.1:${server.port}`];
    const second = await once(forward);
    assert.equal(second.code, 1, second.out + second.err); // exit bit: something was Added
    const changes = got.filter(([tag]) => tag === "ctagent:CTAGENT_CHANGE").map((
      [, , r],
    ) => [r.ChangeCategory, r.Endpoint]);
    assert.deepEqual(changes, [["Added", "0.0.0.0:8080"]]);
    assert.deepEqual([...new Set(got.map(([tag]) => tag))].sort(), [
      "ctagent:CTAGENT_CHANGE",
      "ctagent:CTAGENT_DATA",
    ]);

    // The page shows the inventory through the spec.
    const opened = await openDb(join(data, DB_FILE)); // the database the --once runs above wrote
    const log = memoryLogger("debug");
    const host = liveHost({ root, hostname: "fixture" });
    const page = await collectorPage({ opened, collector: ports, settings, host, log });
    try {
      const rows =
        JSON.parse(await page.get("/api/inventory/listening_ports?limit=50&filter.Process=nginx")).rows;
      assert.deepEqual(rows.map((x: { key: string; data: PortItem }) => [x.key, x.data.User]), [
        ["tcp|0.0.0.0|80", "root, www-data"],
      ]);
    } finally {
      await page.stop();
      await opened.close();
    }

    const off = await once([...forward, ...await ownSettings(root, true)]);
    assert.match(off.out, /listening_ports\s+skipped\s+disabled by ctagent's settings/);
  } finally {
    await server.close();
    await ama.close();
    await Deno.remove(root, { recursive: true });
  }
});
