// Realtime on this machine's kernel: the agent watching a tree (fanotify as root, inotify without it) records
// exactly the changes a scan records, each with the process that made it; a flooded queue loses nothing; a dpkg
// install under --root re-reads the packages, attributed to dpkg; so do an account and a cron line added.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startAgent } from "../agent/agent.ts";
import { liveHost } from "../agent/host/mod.ts";
import { memoryLogger } from "../agent/log.ts";
import { openDb, type OpenedDb } from "../db/open.ts";
import { filesCollector } from "../agent/collectors/files/mod.ts";
import { softwareCollector } from "../agent/collectors/software/mod.ts";
import { usersCollector } from "../agent/collectors/users/mod.ts";
import { scheduledTasksCollector } from "../agent/collectors/scheduled_tasks/mod.ts";
import type { Collector } from "../agent/collectors/types.ts";
import { runCollector } from "../agent/pipeline/run.ts";
import type { Backend } from "../agent/host/watch/types.ts";
import { onlyDcr } from "./helpers.ts";

const linux = Deno.build.os === "linux";
const root = linux && Deno.uid() === 0;
const HAVE_DPKG = linux && new Deno.Command("dpkg-deb", { args: ["--version"] }).outputSync().success;

type Row = {
  key: string;
  category: string;
  fields_changed: string;
  previous: string | null;
  current: string | null;
};

/** Polls `what` until it holds; a timeout says `say` and what `state` tells then (the agent's log, its watches). */
async function until(
  what: () => Promise<boolean> | boolean,
  ms = 15_000,
  say = "the condition",
  state?: () => string,
) {
  const end = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${say}${state ? `\n${state()}` : ""}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * The kernel objects behind this process's descriptors that are no file (inotify, fanotify, eventfd): a watcher's
 * descriptor closed by someone else (test modules share the process) is gone from here, or another object's now.
 */
function anonInodes(): string {
  const links: string[] = [];
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      const l = Deno.readLinkSync(`/proc/self/fd/${e.name}`);
      if (l.startsWith("anon_inode:")) links.push(`${e.name} ${l}`);
    } catch { /* closed while listed */ }
  }
  return links.join(", ");
}

/** Runs `script` in a Deno child process of its own that lingers after it (so /proc still names it). */
async function child(script: string): Promise<number> {
  const p = new Deno.Command(Deno.execPath(), {
    args: ["eval", `${script}; console.log("done"); await new Promise((r) => setTimeout(r, 2000));`],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  // Wait until the script did its work (it prints), not for the lingering.
  const reader = p.stdout.getReader();
  const { value } = await reader.read();
  assert.match(new TextDecoder().decode(value), /done/);
  reader.releaseLock();
  void p.stdout.cancel();
  void p.status;
  return p.pid;
}

/** The agent with realtime on one collector, and a second database that only scans, side by side. */
async function world(collector: Collector, dcr: string, prefer: Backend[], hostRoot?: string) {
  const dir = await Deno.makeTempDir({ prefix: "ctagent-rt-data-" });
  await Deno.writeTextFile(join(dir, "dcr.json"), dcr);
  const opened = await openDb(join(dir, "state.db"));
  const host = liveHost({ root: hostRoot });
  const log = memoryLogger("info");
  const agent = await startAgent({
    opened,
    host,
    log,
    collectors: [collector],
    dcrFile: join(dir, "dcr.json"),
    realtime: { prefer, quietMs: 50, maxWaitMs: 200, stateMs: 50 },
  });
  // The baseline, then the watches stand.
  await agent.runNow();
  const scanner = await openDb(":memory:");
  const settings = agent.config().settings;
  const scan = () =>
    runCollector({
      db: scanner.db,
      raw: scanner.raw,
      collector,
      settings,
      host,
      log: memoryLogger(),
      signal: new AbortController().signal,
    });
  await scan();
  const rows = async (o: OpenedDb, after = 0): Promise<(Row & { id: number; origin: string | null })[]> =>
    await o.db.selectFrom("changes").select([
      "id",
      "key",
      "category",
      "fields_changed",
      "previous",
      "current",
      "origin",
    ])
      .where("id", ">", after).orderBy("key").orderBy("id").execute();
  return {
    dir,
    agent,
    opened,
    scanner,
    scan,
    log,
    rows,
    async stop() {
      await agent.stop();
      await opened.close();
      await scanner.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

const strip = (r: Row): Row => ({
  key: r.key,
  category: r.category,
  fields_changed: r.fields_changed,
  previous: r.previous,
  current: r.current,
});

/**
 * A scheduled run of the world's collector finds nothing, and realtime counts nothing it missed. A failure names
 * what the run found and the items stored with an error before it (an item first read with an error is Added
 * once it reads: in the suite, a descriptor another thread closed under a realtime run's hashing did that).
 */
async function nothingMissed(w: Awaited<ReturnType<typeof world>>) {
  const unread = await w.opened.db.selectFrom("items").select(["key", "error"]).where("error", "is not", null)
    .limit(5).execute();
  const before = Math.max(0, ...(await w.rows(w.opened)).map((r) => r.id));
  const [whole] = await w.agent.runNow();
  const found = (await w.rows(w.opened, before)).slice(0, 5).map((r) => `${r.category} ${r.key}`);
  assert.deepEqual(
    [whole.counts.added, whole.counts.removed, whole.counts.modified],
    [0, 0, 0],
    `the scheduled run found ${found.join(", ")}; stored with an error before it: ${
      unread.map((r) => `${r.key}: ${r.error}`).join("; ") || "none"
    }`,
  );
  assert.equal(w.agent.realtime().collectors[0].missed, 0);
}

for (const backend of ["fanotify", "inotify"] as const) {
  Deno.test({
    name:
      `realtime (${backend}): modify, create, delete, rename and chmod give exactly the changes a scan gives${
        backend === "fanotify" ? ", each naming the process that made it" : ", without attribution"
      }${!linux || (backend === "fanotify" && !root) ? " (SKIPPED: needs Linux and root)" : ""}`,
    ignore: !linux || (backend === "fanotify" && !root),
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const tree = await Deno.makeTempDir({ prefix: "ctagent-rt-tree-" });
      await Deno.mkdir(join(tree, "sub"));
      for (const f of ["a.conf", "b.conf", "c.conf", "sub/d.conf"]) {
        await Deno.writeTextFile(join(tree, f), f);
      }
      const dcr = onlyDcr(["files"], {
        fileSettings: { fileInfo: [{ name: "t", destinationPath: tree, recurse: true, type: "*" }] },
      });
      const w = await world(filesCollector(), dcr, [backend]);
      try {
        assert.deepEqual(w.agent.realtime().collectors.map((c) => [c.name, c.modes]), [["files", [backend]]]);
        const q = (p: string) => JSON.stringify(join(tree, p));
        const steps: [string, string][] = [
          ["modify", `Deno.writeTextFileSync(${q("a.conf")}, "more", { append: true })`],
          ["create", `Deno.writeTextFileSync(${q("sub/new.conf")}, "new")`],
          ["delete", `Deno.removeSync(${q("b.conf")})`],
          ["rename", `Deno.renameSync(${q("c.conf")}, ${q("sub/c2.conf")})`],
          ["chmod", `Deno.chmodSync(${q("a.conf")}, 0o600)`],
          [
            "mkdir and fill",
            `Deno.mkdirSync(${q("sub/new")}); Deno.writeTextFileSync(${q("sub/new/x")}, "x")`,
          ],
        ];
        let seen = 0, seenByScan = 0;
        for (const [what, script] of steps) {
          const before = (await w.rows(w.opened)).length;
          const pid = await child(script);
          // Realtime records it by itself, within its batching time …
          await until(
            async () => (await w.rows(w.opened)).length > before,
            15_000,
            `${what} recorded`,
            () =>
              `realtime: ${JSON.stringify(w.agent.realtime())}\nscheduler: ${
                JSON.stringify(w.agent.scheduler.status())
              }\nthe process's event descriptors: ${anonInodes()}\nlog:\n${
                w.log.lines.slice(-40).join("\n")
              }`,
          );
          await new Promise((r) => setTimeout(r, 400)); // anything else it would record
          const mine = await w.rows(w.opened, seen);
          seen = Math.max(seen, ...mine.map((r) => r.id));
          // … and a scan of the same tree records the very same changes.
          await w.scan();
          const theirs = await w.rows(w.scanner, seenByScan);
          seenByScan = Math.max(seenByScan, ...theirs.map((r) => r.id));
          assert.ok(theirs.length > 0, `${what}: the scan found it`);
          assert.deepEqual(mine.map(strip), theirs.map(strip), what);
          for (const r of mine) {
            const o = JSON.parse(r.origin!);
            if (backend === "fanotify" && what === "mkdir and fill" && r.key.endsWith("/x") && !o.ProcessId) {
              // Made before the new directory was marked: found by the scan its event led to, and no event of its
              // own named its maker (realtime never guesses one).
              assert.deepEqual(o, { DetectedBy: "fanotify" });
            } else if (backend === "fanotify") {
              assert.equal(o.DetectedBy, "fanotify");
              assert.equal(o.ProcessId, String(pid), `${what}: ${r.key} by the child`);
              assert.equal(o.ProcessPath, Deno.execPath());
              assert.equal(o.UserId, String(Deno.uid()));
              assert.match(o.ProcessCommandLine, /eval/);
            } else {
              assert.deepEqual(o, { DetectedBy: "inotify" }, `${what}: no attribution without fanotify`);
            }
          }
        }
        // The scheduled scan finds nothing realtime did not record.
        const [whole] = await w.agent.runNow();
        assert.deepEqual(whole.counts, { ...whole.counts, added: 0, removed: 0, modified: 0 });
        const status = w.agent.realtime().collectors[0];
        assert.equal(status.missed, 0);
        assert.ok(status.runs >= steps.length, `${status.runs} realtime runs`);
      } finally {
        await w.stop();
        await Deno.remove(tree, { recursive: true });
      }
    },
  });
}

Deno.test({
  name: `realtime: a flooded event queue falls back to a rescan, and nothing is lost${
    !root ? " (SKIPPED: needs Linux and root)" : ""
  }`,
  ignore: !root,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const tree = await Deno.makeTempDir({ prefix: "ctagent-rt-flood-" });
    const dcr = onlyDcr(["files"], {
      fileSettings: { fileInfo: [{ name: "t", destinationPath: tree, recurse: true }] },
    });
    const w = await world(filesCollector(), dcr, ["fanotify"]);
    try {
      // More events than the kernel queues (16384) while the agent reads none: outputSync holds its thread.
      new Deno.Command("sh", {
        args: ["-c", `cd ${tree} && for i in $(seq 1 20000); do echo $i > f$i; done`],
      })
        .outputSync();
      await until(() => w.agent.realtime().overflows > 0, 10_000, "the overflow");
      await until(
        async () =>
          Number(
            (await w.opened.db.selectFrom("items").select((eb) => eb.fn.countAll().as("n")).where(
              "collector",
              "=",
              "files",
            ).executeTakeFirstOrThrow()).n,
          ) === 20000,
        60_000,
        "every file stored",
      );
      const status = w.agent.realtime().collectors[0];
      assert.ok(status.fallbacks >= 1);
      assert.match(status.lastFallback!.why, /overflow/);
      assert.ok(w.log.lines.some((l) => l.includes("queue overflowed")));
      // The scheduled scan after it: nothing missed.
      await until(() => !w.agent.scheduler.status()[0].running);
      await nothingMissed(w);
    } finally {
      await w.stop();
      await Deno.remove(tree, { recursive: true });
    }
  },
});

Deno.test({
  name: `realtime: dpkg installing a package under --root re-reads the packages, attributed to dpkg${
    !root || !HAVE_DPKG ? " (SKIPPED: needs root and dpkg-deb)" : ""
  }`,
  ignore: !root || !HAVE_DPKG,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ctagent-rt-dpkg-" });
    const image = join(dir, "root");
    await Deno.mkdir(join(image, "var/lib"), { recursive: true });
    new Deno.Command("cp", { args: ["-a", "/var/lib/dpkg", join(image, "var/lib/dpkg")] }).outputSync();
    // A package of our own, built with dpkg-deb.
    await Deno.mkdir(join(dir, "pkg/DEBIAN"), { recursive: true });
    await Deno.mkdir(join(dir, "pkg/opt/ctagent-rt"), { recursive: true });
    await Deno.writeTextFile(join(dir, "pkg/opt/ctagent-rt/hello"), "hello\n");
    await Deno.writeTextFile(
      join(dir, "pkg/DEBIAN/control"),
      "Package: ctagent-realtime-test\nVersion: 1.0\nArchitecture: all\nMaintainer: ctagent tests <t@example.invalid>\n" +
        "Description: installed by the realtime test\n",
    );
    assert.ok(
      new Deno.Command("dpkg-deb", {
        args: ["--build", join(dir, "pkg"), join(dir, "rt.deb")],
        stdout: "null",
      })
        .outputSync().success,
    );
    const w = await world(softwareCollector(), onlyDcr(["software"]), ["fanotify"], image);
    try {
      // dpkg runs its post-invoke hook once it wrote the status file, and waits for it: held there until the
      // change is recorded, it is still alive to be named however late the agent reads the event (a loaded
      // machine); a process already gone is told by its pid only, never guessed.
      const go = join(dir, "go");
      const p = new Deno.Command("dpkg", {
        args: [
          `--root=${image}`,
          "--force-not-root",
          "--force-script-chrootless",
          `--post-invoke=while [ ! -e '${go}' ]; do sleep 0.05; done`,
          "-i",
          join(dir, "rt.deb"),
        ],
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const pid = p.pid;
      const done = p.output();
      try {
        await until(async () =>
          (await w.rows(w.opened)).some((r) => r.key.includes("ctagent-realtime-test"))
        );
      } finally {
        await Deno.writeTextFile(go, "");
      }
      const out = await done;
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      const [row] = (await w.rows(w.opened)).filter((r) => r.key.includes("ctagent-realtime-test"));
      assert.equal(row.category, "Added");
      const o = JSON.parse(row.origin!);
      assert.equal(o.ProcessId, String(pid));
      assert.equal(o.ProcessPath, "/usr/bin/dpkg");
      assert.equal(o.ProcessName, "dpkg");
      // Only dpkg's packages were looked at, and the scheduled scan finds nothing else.
      await nothingMissed(w);
    } finally {
      await w.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    `realtime: an account added to /etc/passwd and a cron line added to /etc/cron.d under --root are each one change within seconds, attributed${
      !root ? " (SKIPPED: needs Linux and root)" : ""
    }`,
  ignore: !root,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const image = await Deno.makeTempDir({ prefix: "ctagent-rt-etc-" });
    await Deno.mkdir(join(image, "etc/cron.d"), { recursive: true });
    for (const f of ["passwd", "group", "shadow"]) {
      await Deno.copyFile(join("/etc", f), join(image, "etc", f));
    }
    const cases: [Collector, string, string][] = [
      [
        usersCollector,
        `Deno.writeTextFileSync(${
          JSON.stringify(join(image, "etc/passwd"))
        }, "ctagent-rt:x:4242:4242::/home/ctagent-rt:/bin/sh\\n", { append: true })`,
        "ctagent-rt",
      ],
      [
        scheduledTasksCollector(),
        `Deno.writeTextFileSync(${
          JSON.stringify(join(image, "etc/cron.d/ctagent-rt"))
        }, "*/5 * * * * root /usr/bin/true ctagent-rt\\n")`,
        "ctagent-rt",
      ],
    ];
    for (const [collector, script, marker] of cases) {
      const w = await world(collector, onlyDcr([]), ["fanotify"], image);
      try {
        assert.deepEqual(w.agent.realtime().collectors.map((c) => c.modes), [["fanotify"]], collector.name);
        const pid = await child(script);
        const mine = () => w.rows(w.opened).then((rows) => rows.filter((r) => r.key.includes(marker)));
        await until(async () => (await mine()).length > 0, 15_000, `${collector.name}: the change recorded`);
        const [row, ...more] = await mine();
        assert.deepEqual([row.category, more.length], ["Added", 0], `${collector.name}: ${row.key}`);
        const o = JSON.parse(row.origin!);
        assert.deepEqual([o.DetectedBy, o.ProcessId], ["fanotify", String(pid)], collector.name);
        // The scheduled run finds nothing realtime did not record.
        await nothingMissed(w);
      } finally {
        await w.stop();
      }
    }
    await Deno.remove(image, { recursive: true });
  },
});
