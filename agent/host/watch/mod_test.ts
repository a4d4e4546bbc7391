// The file-system watchers on this machine's kernel: fanotify (root) and inotify through the same tree layer.
import assert from "node:assert/strict";
import { join } from "node:path";
import { liveWatch } from "./mod.ts";
import type { Backend, FsWatcher, WatchEvent, WatchNotice } from "./types.ts";
import { coverage } from "./tree.ts";
import { commandLine, parseStatus } from "./proc_posix.ts";

const linux = Deno.build.os === "linux";
const root = linux && Deno.uid() === 0;

Deno.test("coverage() says how many levels below a path are still watched", () => {
  const left = coverage([{ path: "/etc/hosts", depth: 0 }, { path: "/srv/www", depth: 2 }]);
  assert.deepEqual(left("/etc/hosts"), 0);
  assert.deepEqual(left("/etc/passwd"), -1);
  assert.deepEqual(left("/etc"), -1);
  assert.deepEqual(left("/srv/www"), 2);
  assert.deepEqual(left("/srv/www/a/b"), 0);
  assert.deepEqual(left("/srv/www/a/b/c"), -1);
  assert.deepEqual(left("/srv/wwwx"), -1);
});

Deno.test("commandLine() quotes the arguments that need it; parseStatus() reads name, parent and uid", () => {
  assert.deepEqual(commandLine("vim\0/etc/nginx/nginx.conf\0"), "vim /etc/nginx/nginx.conf");
  assert.deepEqual(commandLine("sh\0-c\0echo it's\0"), `sh -c 'echo it'\\''s'`);
  assert.deepEqual(parseStatus("Name:\tvim\nPPid:\t12\nUid:\t1000\t1000\t1000\t1000\n"), {
    name: "vim",
    ppid: 12,
    uid: 1000,
  });
});

/** A watcher of `backend` whose events and notices are collected. */
function open(backend: Backend, ignore: string[] = []) {
  const events: WatchEvent[] = [];
  const notices: WatchNotice[] = [];
  const { watcher, tried } = liveWatch({ liveWindows: false }).files({
    prefer: [backend],
    onEvents: (e) => events.push(...e),
    onNotice: (n) => notices.push(n),
    ignore,
  });
  if (!watcher) throw new Error(tried.join("; "));
  return { watcher: watcher as FsWatcher, events, notices };
}

async function until(what: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs a small script in a child process of its own (so its pid and executable are known); it lingers a while. */
function child(script: string): { pid: number } {
  const p = new Deno.Command(Deno.execPath(), {
    args: ["eval", `${script}; await new Promise((r) => setTimeout(r, 1500));`],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  void p.status;
  return { pid: p.pid };
}

for (const backend of ["fanotify", "inotify"] as const) {
  Deno.test({
    name: `${backend}: writes, chmod, new directories, renames and deletes in a tree are told${
      backend === "fanotify" ? ", with the process" : ""
    }${backend === "fanotify" && !root ? " (SKIPPED: needs root)" : ""}`,
    ignore: !linux || (backend === "fanotify" && !root),
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const dir = await Deno.makeTempDir({ prefix: "ctagent-watch-" });
      try {
        await Deno.mkdir(join(dir, "tree/a"), { recursive: true });
        await Deno.writeTextFile(join(dir, "tree/a/f"), "1");
        await Deno.writeTextFile(join(dir, "other"), "x");
        const w = open(backend);
        const { failed } = w.watcher.watch([{ path: join(dir, "tree"), depth: 10 }]);
        assert.deepEqual(failed, []);
        const t = join(dir, "tree");
        // The child waits until the watcher told a new directory (it marks one before it tells it) before it
        // makes something in it: what is made before the mark is found by the scan the event leads to, not by an
        // event. A fixed pause was not enough under load.
        const q = (p: string) => JSON.stringify(join(t, p));
        const told = (p: string) => w.events.some((e) => e.path === join(t, p));
        const go = (step: string) => join(dir, `go-${step}`);
        const c = child(`
          const after = async (f) => {
            for (;;) {
              try { Deno.statSync(f); return; } catch { await new Promise((r) => setTimeout(r, 5)); }
            }
          };
          Deno.writeTextFileSync(${q("a/f")}, "2", { append: true });
          Deno.chmodSync(${q("a/f")}, 0o600);
          Deno.mkdirSync(${q("new")});
          await after(${JSON.stringify(go("new"))});
          Deno.mkdirSync(${q("new/deep")});
          await after(${JSON.stringify(go("deep"))});
          Deno.writeTextFileSync(${q("new/deep/g")}, "g");
          Deno.renameSync(${q("a/f")}, ${q("new/f2")});
          Deno.writeTextFileSync(${JSON.stringify(join(dir, "other"))}, "y");
          Deno.removeSync(${q("new/deep/g")});
          Deno.writeTextFileSync(${q("done")}, "");
        `);
        await until(() => told("new"));
        await Deno.writeTextFile(go("new"), "");
        await until(() => told("new/deep"));
        await Deno.writeTextFile(go("deep"), "");
        await until(() => told("done"));
        const paths = new Set(w.events.map((e) => e.path));
        for (const p of ["a/f", "new", "new/deep", "new/deep/g", "new/f2"]) {
          assert(paths.has(join(t, p)), `${p} told: ${[...paths]}`);
        }
        assert(!paths.has(join(dir, "other")), "a path outside the tree is not told");
        assert(w.events.some((e) => e.path === join(t, "new/f2") && e.moved), "a rename is a move");
        assert(w.events.some((e) => e.path === join(t, "new") && e.dir === true && e.dirent));
        if (backend === "fanotify") {
          for (const e of w.events) {
            assert.deepEqual(e.origin?.pid, c.pid, `${e.path} by the child`);
            assert.deepEqual(e.origin?.exe, Deno.execPath());
            assert.deepEqual(e.origin?.uid, Deno.uid());
          }
        } else {
          assert(w.events.every((e) => e.origin === undefined));
        }
        assert.deepEqual(w.notices, []);
        assert(w.watcher.stats().watches >= 3);
        await w.watcher.close();
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });

  Deno.test({
    name: `${backend}: a flooded queue is told as an overflow${
      !linux || (backend === "fanotify" && !root) ? " (SKIPPED)" : ""
    }`,
    ignore: !linux || (backend === "fanotify" && !root),
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const dir = await Deno.makeTempDir({ prefix: "ctagent-flood-" });
      try {
        const w = open(backend);
        w.watcher.watch([{ path: dir, depth: 1 }]);
        // A child makes more events than the queue holds (16384) while this process reads none: outputSync()
        // holds the event loop until it is done.
        new Deno.Command("sh", { args: ["-c", `cd ${dir} && for i in $(seq 1 20000); do : > f$i; done`] })
          .outputSync();
        await until(() => w.notices.some((n) => n.kind === "overflow"), 10_000);
        assert(w.watcher.stats().overflows >= 1);
        await w.watcher.close();
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
