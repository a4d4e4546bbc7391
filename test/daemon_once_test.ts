// The daemon and `--once` on one data directory: one process collects and delivers; --once asks the daemon.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startFakeAma } from "./fake_ama.ts";
import { capture, stanza, tree } from "./e2e_helpers.ts";
import { dcrCollectorsOnly } from "./helpers.ts";
import { main } from "../agent/cli.ts";
import { openDb } from "../db/open.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Whether the database at `path` holds a run (the daemon is up and handles signals by then). */
async function ran(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
  } catch {
    return false;
  }
  const o = await openDb(path);
  try {
    return !!(await o.db.selectFrom("runs").select("id").limit(1).executeTakeFirst());
  } finally {
    await o.close();
  }
}

/**
 * Starts `ctagent` (the daemon) as its own process; resolves once `ready` holds. Without realtime: these tests
 * change what the daemon collects and ask for a run with --once, which realtime would have beaten to it
 * (test/realtime_cli_test.ts tests the daemon with realtime).
 */
async function daemon(args: string[], ready: () => Promise<boolean>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "--no-ui", "--no-realtime", ...args],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const deadline = Date.now() + 30_000;
  while (!(await ready())) {
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the daemon did not get ready: ${await stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    async stop() {
      child.kill("SIGTERM");
      const s = await child.status;
      return { code: s.code, stderr: await stderr };
    },
  };
}

Deno.test("daemon and --once on one data directory: --once asks the daemon, every record is delivered exactly once", async () => {
  const t = tree();
  const dcr = join(t.dir, "dcr.json");
  Deno.writeTextFileSync(
    dcr,
    JSON.stringify({
      enableSoftware: true,
      enableServices: false,
      enableFiles: false,
      enableRegistry: false,
      // Only the first run and the --once requests may collect: a scheduled run of the daemon between a
      // round's write and its --once would take that round's changes, and --once would rightly find none.
      softwareSettings: { softwareCollectionFrequency: 3600 },
    }),
  );
  const sink = `@ctagent-once-daemon-${crypto.randomUUID()}`;
  // A --forward endpoint gets full records (RecordId included): not rows AMA's tables take, so not validated.
  const ama = await startFakeAma({ config: false, data: [sink], validate: false });
  const common = [
    "--data-dir",
    t.data,
    "--root",
    t.root,
    "--dcr",
    dcr,
    "--forward",
    sink,
    "--no-ama",
    ...dcrCollectorsOnly(t.dir),
  ];
  const names: string[] = [];
  const write = () => t.write(names.map((n) => stanza(n, "1")).join(""));
  for (let i = 0; i < 3000; i++) names.push(`base${i}`);
  write();

  const d = await daemon(common, () => Promise.resolve(ama.received.length >= 3000));
  try {
    const added: string[] = [];
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 500; i++) added.push(`r${round}-${i}`);
      names.push(...added.slice(-500));
      write();
      const io = capture();
      const code = await main(["--once", "--json", ...common], { io });
      const out = JSON.parse(io.outText());
      assert.equal(code, 1, io.errText());
      assert.deepEqual(
        out.changes.map((c: Record<string, string>) => `${c.ChangeCategory} ${c.SoftwareName}`).sort(),
        added.slice(-500).map((n) => `Added ${n}`).sort(),
        "--once reports this round's changes",
      );
      assert.equal(out.inventory.software.length, names.length);
      // The records came through a file the daemon wrote for this --once, which removed it once printed.
      assert.deepEqual([...Deno.readDirSync(t.data)].filter((e) => e.name.startsWith("once-")), []);
    }
    // Nothing more to find: --once says so, through the daemon.
    const io = capture();
    assert.equal(await main(["--once", ...common], { io }), 0, io.errText());
    assert.match(io.outText(), /No changes/);

    // Every record arrives once: 3000 + 4 × 500 inventory records, 2000 change records.
    await ama.waitFor(3000 + 2000 + 2000, 30_000);
    await new Promise((r) => setTimeout(r, 1500));
    const ids = ama.received.map((e) => e.record.RecordId);
    assert.equal(ids.length, new Set(ids).size, `${ids.length - new Set(ids).size} records arrived twice`);
    const changes = ama.received.filter((e) => e.record.ChangeCategory);
    assert.deepEqual(changes.map((e) => e.record.SoftwareName).sort(), added.sort());
  } finally {
    const s = await d.stop();
    assert.equal(s.code, 0, s.stderr);
    await ama.close();
    await Deno.remove(t.dir, { recursive: true });
  }
});

Deno.test("--once next to a daemon that collects another machine says so clearly (exit 19), and a second daemon too", async () => {
  const t = tree();
  t.write(stanza("a", "1"));
  const dcr = join(t.dir, "dcr.json");
  Deno.writeTextFileSync(
    dcr,
    JSON.stringify({ enableSoftware: true, enableFiles: false, enableServices: false }),
  );
  const common = ["--data-dir", t.data, "--dcr", dcr, "--no-ama"];
  const d = await daemon([...common, "--root", t.root], () => ran(join(t.data, "ctagent.db")));
  try {
    const io = capture();
    assert.equal(await main(["--once", ...common, "--root", t.dir], { io }), 19);
    assert.match(io.errText(), /daemon \(pid \d+, since [^)]*\) holds the state in /);
    assert.ok(io.errText().includes(t.data), io.errText());
    assert.match(io.errText(), /--root/);

    const second = capture();
    assert.equal(await main([...common, "--root", t.root, "--no-ui"], { io: second }), 19);
    assert.match(second.errText(), /another ctagent daemon \(pid \d+\) already runs with /);
  } finally {
    const s = await d.stop();
    assert.equal(s.code, 0, s.stderr);
    await Deno.remove(t.dir, { recursive: true });
  }
});

Deno.test("two --once at once on one data directory: the second waits its turn, one baseline, then an empty rescan", async () => {
  const t = tree();
  t.write(Array.from({ length: 20_000 }, (_, i) => stanza(`p${i}`, "1")).join(""));
  const dcr = join(t.dir, "dcr.json");
  Deno.writeTextFileSync(
    dcr,
    JSON.stringify({ enableSoftware: true, enableFiles: false, enableServices: false }),
  );
  const once = () =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        MAIN,
        "--once",
        "--no-ama",
        "--data-dir",
        t.data,
        "--root",
        t.root,
        "--dcr",
        dcr,
        ...dcrCollectorsOnly(t.dir),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
  const outs = await Promise.all([once(), once()]);
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  assert.deepEqual(outs.map((o) => o.code), [0, 0], outs.map((o) => text(o.stderr)).join("\n"));
  assert.equal(outs.filter((o) => /waiting for ctagent --once \(pid \d+/.test(text(o.stderr))).length, 1);
  const o = await openDb(join(t.data, "ctagent.db"));
  const runs = await o.db.selectFrom("runs").select("status").orderBy("id").execute();
  assert.deepEqual(runs.map((r) => r.status), ["baseline", "ok"]);
  await o.close();
  await Deno.remove(t.dir, { recursive: true });
});
