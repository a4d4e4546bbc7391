// SIGTERM and SIGINT stop `--once` and the daemon within 2 s while a run is busy (issue 16, issue 17): the real
// process, made busy in each way a run can be (a big dpkg database, an rpm or systemctl that never answers),
// signalled and timed; the aborted run is recorded and nothing of it is stored.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { EXIT } from "../agent/exit_codes.ts";
import { dcrCollectorsOnly, onlyDcr, spawnCli, withTempDir } from "./helpers.ts";
import { named, sharedHive, skipReason } from "../agent/host/registry/testdata/hives.ts";

/** The bound the issue sets, from the signal to the process gone. */
const STOP_MS = 2000;

/** A dpkg status file of `n` packages, none with a file list: a big read (parse, then two stats a package). */
function bigDpkgStatus(n: number): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    parts.push(
      `Package: pkg${i}\nStatus: install ok installed\nVersion: 1.${i}-1\nArchitecture: amd64\n` +
        `Installed-Size: ${i % 5000}\nMaintainer: Nobody <nobody@example.org>\nDescription: package ${i}\n` +
        ` a longer description line that dpkg keeps\n`,
    );
  }
  return parts.join("\n");
}

/** Kills what stuckTool left behind when a test failed before ctagent did. */
function killLeftover(marker: string) {
  try {
    Deno.kill(Number(Deno.readTextFileSync(marker)), "SIGKILL");
  } catch {
    // gone, or never started
  }
}

/** A program that ignores SIGTERM and SIGINT and never answers; it writes its pid to `marker` when started. */
async function stuckTool(dir: string, name: string, marker: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/${name}`,
    `#!/bin/sh\ntrap '' TERM INT\necho $$ > ${marker}.tmp && mv ${marker}.tmp ${marker}\nexec sleep 600\n`,
    { mode: 0o755 },
  );
}

function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

interface Stopped {
  code: number;
  /** From the signal to the process's exit. */
  ms: number;
  stderr: string;
}

/**
 * Starts ctagent with `args`, waits until `busy` says the run is under way, sends `signal`, and times the
 * process until it has exited.
 */
async function stopWhileBusy(
  args: string[],
  opts: {
    busy: (stderr: () => string) => Promise<boolean> | boolean;
    signal?: Deno.Signal;
    env?: Record<string, string>;
    /** Wraps the command (e.g. in a mount namespace). */
    wrap?: string[];
  },
): Promise<Stopped> {
  const p = spawnCli(args, opts);
  const deadline = Date.now() + 60_000;
  try {
    while (!(await opts.busy(p.stderr))) {
      if (Date.now() > deadline) throw new Error(`never got busy:\n${p.stderr()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } catch (e) {
    p.child.kill("SIGKILL");
    await p.done();
    throw e;
  }
  const sent = performance.now();
  p.child.kill(opts.signal ?? "SIGTERM");
  // The exit, not the end of its stderr, is what is timed.
  const status = await p.child.status;
  const ms = Math.round(performance.now() - sent);
  await p.done();
  return { code: status.code, ms, stderr: p.stderr() };
}

/** The runs the database holds, and what it stored for `collector`. */
function stored(dataDir: string, collector: string) {
  const db = new DatabaseSync(`${dataDir}/ctagent.db`, { readOnly: true });
  try {
    const count = (sql: string) => Number((db.prepare(sql).get(collector) as { n: number }).n);
    return {
      runs: db.prepare("SELECT collector, status, error FROM runs ORDER BY id").all() as {
        collector: string;
        status: string;
        error: string | null;
      }[],
      items: count("SELECT count(*) AS n FROM items WHERE collector = ?"),
      changes: count("SELECT count(*) AS n FROM changes WHERE collector = ?"),
      outbox: Number((db.prepare("SELECT count(*) AS n FROM outbox").get() as { n: number }).n),
      integrity: (db.prepare("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check,
    };
  } finally {
    db.close();
  }
}

/** The aborted run is recorded, nothing of it stored, the database sound. */
function assertAbortedCleanly(dataDir: string, collector: string, r: Stopped) {
  const s = stored(dataDir, collector);
  const mine = s.runs.filter((x) => x.collector === collector);
  assert.equal(mine.at(-1)?.status, "aborted", `${JSON.stringify(s.runs)}\n${r.stderr}`);
  assert.deepEqual([s.items, s.changes, s.outbox], [0, 0, 0], "nothing of the aborted run stored");
  assert.equal(s.integrity, "ok");
}

const started = (name: string) => (err: () => string) => err().includes(`${name} run started`);
const markerWritten = (marker: string) => () => {
  try {
    return Deno.statSync(marker).isFile;
  } catch {
    return false;
  }
};

async function dpkgRoot(dir: string, packages: number): Promise<string[]> {
  await Deno.mkdir(`${dir}/root/var/lib/dpkg`, { recursive: true });
  await Deno.writeTextFile(`${dir}/root/var/lib/dpkg/status`, bigDpkgStatus(packages));
  await Deno.writeTextFile(`${dir}/dcr.json`, onlyDcr(["software"]));
  return [
    "--no-ama",
    "--root",
    `${dir}/root`,
    "--dcr",
    `${dir}/dcr.json`,
    "--data-dir",
    `${dir}/data`,
    ...dcrCollectorsOnly(dir),
  ];
}

async function rpmRoot(
  dir: string,
): Promise<{ args: string[]; env: Record<string, string>; marker: string }> {
  await Deno.mkdir(`${dir}/root/var/lib/rpm`, { recursive: true });
  await Deno.writeTextFile(`${dir}/root/var/lib/rpm/rpmdb.sqlite`, "");
  await Deno.writeTextFile(`${dir}/dcr.json`, onlyDcr(["software"]));
  const marker = `${dir}/rpm.pid`;
  await stuckTool(`${dir}/bin`, "rpm", marker);
  return {
    args: [
      "--no-ama",
      "--root",
      `${dir}/root`,
      "--dcr",
      `${dir}/dcr.json`,
      "--data-dir",
      `${dir}/data`,
      ...dcrCollectorsOnly(dir),
    ],
    env: { PATH: `${dir}/bin:${Deno.env.get("PATH")}` },
    marker,
  };
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`--once stops on ${signal} within 2 s while reading a big dpkg database: exit 22, the run aborted`, () =>
    withTempDir(async (dir) => {
      const args = await dpkgRoot(dir, 100_000);
      const r = await stopWhileBusy(["--once", "-v", ...args], { busy: started("software"), signal });
      assert.equal(r.code, EXIT.ABORTED, r.stderr);
      assert.ok(r.ms <= STOP_MS, `stopped ${r.ms} ms after ${signal}:\n${r.stderr}`);
      assert.match(r.stderr, /aborted/);
      assertAbortedCleanly(`${dir}/data`, "software", r);
      console.log(`--once, big dpkg read, ${signal}: stopped in ${r.ms} ms`);
    }));
}

Deno.test("--once stops on SIGTERM within 2 s while rpm never answers (and ignores SIGTERM): rpm is killed", () =>
  withTempDir(async (dir) => {
    const { args, env, marker } = await rpmRoot(dir);
    try {
      const r = await stopWhileBusy(["--once", ...args], { busy: markerWritten(marker), env });
      assert.equal(r.code, EXIT.ABORTED, r.stderr);
      assert.ok(r.ms <= STOP_MS, `stopped ${r.ms} ms after SIGTERM:\n${r.stderr}`);
      const pid = Number(Deno.readTextFileSync(marker));
      assert.ok(!alive(pid), `rpm (pid ${pid}) still runs after ctagent stopped`);
      assertAbortedCleanly(`${dir}/data`, "software", r);
      console.log(`--once, rpm exec, SIGTERM: stopped in ${r.ms} ms`);
    } finally {
      killLeftover(marker);
    }
  }));

Deno.test({
  name:
    "--once stops on SIGTERM within 2 s while systemctl never answers (systemd running, in a mount namespace)",
  ignore: Deno.uid() !== 0,
  fn: () =>
    withTempDir(async (dir) => {
      const marker = `${dir}/systemctl.pid`;
      await stuckTool(`${dir}/bin`, "systemctl", marker);
      await Deno.writeTextFile(`${dir}/dcr.json`, onlyDcr(["services"]));
      // /run/systemd/system says systemd runs; made in a private mount namespace, so no one else sees it.
      const wrap = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        'mount -t tmpfs ctagent-test /run/systemd && mkdir /run/systemd/system && exec "$@"',
        "--",
      ];
      try {
        const r = await stopWhileBusy(
          [
            "--once",
            "--no-ama",
            "--dcr",
            `${dir}/dcr.json`,
            "--data-dir",
            `${dir}/data`,
            ...dcrCollectorsOnly(dir),
          ],
          { busy: markerWritten(marker), env: { PATH: `${dir}/bin:${Deno.env.get("PATH")}` }, wrap },
        );
        assert.equal(r.code, EXIT.ABORTED, r.stderr);
        assert.ok(r.ms <= STOP_MS, `stopped ${r.ms} ms after SIGTERM:\n${r.stderr}`);
        assert.ok(!alive(Number(Deno.readTextFileSync(marker))), "systemctl still runs");
        assertAbortedCleanly(`${dir}/data`, "services", r);
        console.log(`--once, systemctl exec, SIGTERM: stopped in ${r.ms} ms`);
      } finally {
        killLeftover(marker);
      }
    }),
});

Deno.test("the daemon (page served) stops on SIGTERM within 2 s while reading a big dpkg database: exit 0, the run aborted", () =>
  withTempDir(async (dir) => {
    const args = await dpkgRoot(dir, 100_000);
    const r = await stopWhileBusy(["--listen", "127.0.0.1:0", "-v", ...args], { busy: started("software") });
    assert.equal(r.code, EXIT.OK, r.stderr);
    assert.ok(r.ms <= STOP_MS, `stopped ${r.ms} ms after SIGTERM:\n${r.stderr}`);
    assert.match(r.stderr, /software run aborted/);
    assertAbortedCleanly(`${dir}/data`, "software", r);
    console.log(`daemon, big dpkg read, SIGTERM: stopped in ${r.ms} ms`);
  }));

Deno.test("the daemon stops on SIGTERM within 2 s while rpm never answers: rpm is killed, the run aborted", () =>
  withTempDir(async (dir) => {
    const { args, env, marker } = await rpmRoot(dir);
    try {
      const r = await stopWhileBusy(["--no-ui", ...args], { busy: markerWritten(marker), env });
      assert.equal(r.code, EXIT.OK, r.stderr);
      assert.ok(r.ms <= STOP_MS, `stopped ${r.ms} ms after SIGTERM:\n${r.stderr}`);
      assert.ok(!alive(Number(Deno.readTextFileSync(marker))), "rpm still runs");
      assertAbortedCleanly(`${dir}/data`, "software", r);
      console.log(`daemon, rpm exec, SIGTERM: stopped in ${r.ms} ms`);
    } finally {
      killLeftover(marker);
    }
  }));

const skipHives = skipReason({ xz: true });

Deno.test({
  name: named(
    "--once stops on SIGTERM within 2 s while walking a whole real SYSTEM hive (--root --os windows)",
    skipHives,
  ),
  ignore: !!skipHives,
  fn: () =>
    withTempDir(async (dir) => {
      const config = `${dir}/root/Windows/System32/config`;
      await Deno.mkdir(config, { recursive: true });
      await Deno.copyFile(await sharedHive("SYSTEM_win7sp1_x86.xz"), `${config}/SYSTEM`);
      // 110,117 values; the same tree spelled six ways is six walks of it (the items are the same).
      const spellings = [
        "HKEY_LOCAL_MACHINE\\SYSTEM",
        "HKLM\\SYSTEM",
        "hklm\\system",
        "HKLM\\System",
        "HKLM\\SYSTEM\\",
        "HKLM\\\\SYSTEM",
      ];
      await Deno.writeTextFile(
        `${dir}/dcr.json`,
        onlyDcr(["registry"], {
          registrySettings: {
            registryInfo: spellings.map((keyName, i) => ({
              name: `r${i}`,
              enabled: true,
              recurse: true,
              keyName,
            })),
          },
        }),
      );
      const args = [
        "--root",
        `${dir}/root`,
        "--os",
        "windows",
        "--dcr",
        `${dir}/dcr.json`,
        "--data-dir",
        `${dir}/data`,
        ...dcrCollectorsOnly(dir),
      ];
      let startedAt = 0;
      const r = await stopWhileBusy(["--once", "--no-ama", "-v", ...args], {
        // Inside the walk: the hive is loaded within a few hundred ms of the run's start.
        busy: (err) => started("registry")(err) && (startedAt ||= Date.now()) + 700 < Date.now(),
      });
      assert.equal(r.code, EXIT.ABORTED, r.stderr);
      assert.ok(r.ms <= STOP_MS, `stopped ${r.ms} ms after SIGTERM:\n${r.stderr}`);
      assertAbortedCleanly(`${dir}/data`, "registry", r);
      console.log(`--once, registry walk, SIGTERM: stopped in ${r.ms} ms`);
    }),
});

Deno.test("the daemon stops on SIGTERM within 2 s while AMA has stopped reading; the undelivered records stay", () =>
  withTempDir(async (dir) => {
    // An AMA data socket that takes the connection and never reads: the sender's write waits on it.
    const path = `\0ctagent-stalled-${crypto.randomUUID()}`;
    const listener = Deno.listen({ transport: "unix", path });
    const held: Deno.Conn[] = [];
    const accepting = (async () => {
      for await (const c of listener) held.push(c);
    })();
    try {
      const args = await dpkgRoot(dir, 5_000);
      const amaArgs = args.filter((a) => a !== "--no-ama");
      const r = await stopWhileBusy(
        ["--no-ui", "--ama-config", "@ctagent-no-such-config", "--ama-data", `@${path.slice(1)}`, ...amaArgs],
        { busy: () => held.length > 0 && Deno.statSync(`${dir}/data/ctagent.db`).isFile },
      );
      assert.equal(r.code, EXIT.OK, r.stderr);
      assert.ok(r.ms <= STOP_MS, `stopped ${r.ms} ms after SIGTERM:\n${r.stderr}`);
      const db = new DatabaseSync(`${dir}/data/ctagent.db`, { readOnly: true });
      const left = Number((db.prepare("SELECT count(*) AS n FROM outbox").get() as { n: number }).n);
      const delivered = Number(
        (db.prepare("SELECT value FROM state WHERE key = 'outbox.delivered'").get() as
          | { value: string }
          | undefined)
          ?.value ?? 0,
      );
      db.close();
      // The baseline's inventory: 5,000 records, none read by the peer, none counted delivered, all kept.
      assert.deepEqual([left, delivered], [5000, 0]);
      console.log(`daemon, AMA not reading, SIGTERM: stopped in ${r.ms} ms, ${left} records kept`);
    } finally {
      listener.close();
      for (const c of held) c.close();
      await accepting.catch(() => {});
    }
  }));

/** A files rule over a 1 TB sparse file (zeros to hash for many minutes) and a few thousand small files. */
async function busyFilesDcr(dir: string): Promise<string[]> {
  await Deno.mkdir(`${dir}/tree/small`, { recursive: true });
  using huge = await Deno.open(`${dir}/tree/huge.img`, { create: true, write: true });
  await huge.truncate(2 ** 40);
  for (let i = 0; i < 3000; i++) await Deno.writeTextFile(`${dir}/tree/small/f${i}`, `${i}\n`);
  await Deno.writeTextFile(
    `${dir}/dcr.json`,
    onlyDcr(["files"], {
      fileSettings: {
        maxHashBytes: 2 ** 41,
        fileInfo: [{ name: "t", destinationPath: `${dir}/tree`, recurse: true }],
      },
    }),
  );
  return ["--no-ama", "--dcr", `${dir}/dcr.json`, "--data-dir", `${dir}/data`, ...dcrCollectorsOnly(dir)];
}

/** The files run started a second ago: the hash pool is inside the huge file. */
const hashing = () => {
  let at = 0;
  return (err: () => string) => started("files")(err) && (at ||= Date.now()) + 1000 < Date.now();
};

Deno.test("--once stops on SIGTERM within 2 s while hashing a 1 TB file (files run): exit 22, the run aborted", () =>
  withTempDir(async (dir) => {
    const args = await busyFilesDcr(dir);
    const r = await stopWhileBusy(["--once", "-v", ...args], { busy: hashing() });
    assert.equal(r.code, EXIT.ABORTED, r.stderr);
    assert.ok(r.ms <= STOP_MS, `stopped ${r.ms} ms after SIGTERM:\n${r.stderr}`);
    assertAbortedCleanly(`${dir}/data`, "files", r);
    console.log(`--once, files run (1 TB file hashing), SIGTERM: stopped in ${r.ms} ms`);
  }));

Deno.test("the daemon stops on SIGTERM within 2 s while hashing a 1 TB file (files run): exit 0, the run aborted", () =>
  withTempDir(async (dir) => {
    const args = await busyFilesDcr(dir);
    const r = await stopWhileBusy(["--no-ui", "-v", ...args], { busy: hashing() });
    assert.equal(r.code, EXIT.OK, r.stderr);
    assert.ok(r.ms <= STOP_MS, `stopped ${r.ms} ms after SIGTERM:\n${r.stderr}`);
    assertAbortedCleanly(`${dir}/data`, "files", r);
    console.log(`daemon, files run (1 TB file hashing), SIGTERM: stopped in ${r.ms} ms`);
  }));
