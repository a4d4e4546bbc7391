import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { parseRule } from "../../collectors/files/match.ts";
import { type Found, type SubtreeHooks, walk, type WalkOptions } from "./walk_posix.ts";
import {
  beginReadAhead,
  type BegunReadAhead,
  newReadAheadStats,
  type ReadAheadStart,
  type ReadAheadStats,
} from "./read_ahead.ts";
import {
  CHUNK_BYTES,
  CONTROL_WORDS,
  ListingReader,
  ListingWriter,
  Position,
  POSITION_BYTES,
} from "./listing_ring.ts";
import { readAhead } from "./tree_reader.ts";
import type { Links } from "./walk_limits.ts";
import * as libc from "./libc_posix.ts";

/**
 * A tree with what a walk must get right: names that sort apart from a depth-first walk ("a-b", "a.c" before
 * "a/…"), names that are not UTF-8 or hold a newline or a backslash, a directory of 1,200 long names (several
 * records), an empty one, deep ones, links to a directory, a file and nowhere, a FIFO.
 */
async function makeTree(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "ctagent-readahead-" });
  execFileSync("bash", [
    "-c",
    `set -e
    mkdir -p a/z a-b b deep/1/2/3/4/5 empty "$(printf 'bad\\xff\\xfe')" "$(printf 'new\\nline')" 'back\\slash' big
    for f in a.c a0 a/x a/z/y a/z- a-b/q b/k1 b/k2 b/k3 deep/1/2/3/4/5/f deep/1/f "$(printf 'bad\\xff\\xfe/\\x80x')" \
      "$(printf 'new\\nline/n')" 'back\\slash/s'; do printf '%s' "$f" > "$f"; done
    long=$(printf 'n%.0s' $(seq 200))
    for i in $(seq 1200); do : > "big/$long$i"; done
    ln -s b lnkdir; ln -s a.c lnkfile; ln -s nowhere dangling; mkfifo fifo`,
  ], { cwd: dir });
  return dir;
}

/** What a walk gives, in its order, each as text. */
async function walked(
  dir: string,
  o: {
    literal?: boolean;
    links?: Links;
    type?: "File" | "Directory" | "*";
    maxDepth?: number;
    begun?: BegunReadAhead;
    subtrees?: SubtreeHooks;
  },
  readAhead?: WalkOptions["readAhead"],
  onFound?: (f: Found) => void,
) {
  const found: string[] = [];
  const rule = o.literal ? parseRule(dir, "linux") : parseRule(`${dir}/.*`, "linux");
  const report = await walk({
    rule,
    realBase: rule.base,
    recurse: true,
    links: o.links ?? "Manage",
    type: o.type ?? "*",
    maxDepth: o.maxDepth ?? 20,
    budget: { left: 100_000 },
    readAhead,
    begun: o.begun,
    subtrees: o.subtrees,
  }, (f) => {
    const s = f.stat;
    found.push(
      JSON.stringify([f.path, s.mode, s.ino, s.dev, s.size, s.mtimeNsec, s.ctimeNsec, f.linkTarget, f.error]),
    );
    onFound?.(f);
  });
  // Where a thread reading ahead begins, apart.
  const { readAheadFrom: from, ...rest } = report;
  return { found, report: rest, from };
}

/** The fds open on `dir`'s tree (the thread's runtime has fds of its own, which its end closes in its own time). */
const treeFds = (dir: string) =>
  [...Deno.readDirSync("/proc/self/fd")].flatMap((e) => {
    try {
      const target = Deno.readLinkSync(`/proc/self/fd/${e.name}`);
      return target.startsWith(dir) ? [target] : [];
    } catch {
      return [];
    }
  });

/** A small ring (records go round it), and time for `deno test` to type-check the thread's module. */
const small = (stats: ReadAheadStats) => ({ ringBytes: CHUNK_BYTES + 50_000, stats, firstWaitMs: 60_000 });
const newStats = newReadAheadStats;

Deno.test("a walk that reads ahead finds what it finds without, in the same order, taking the thread's listings", async () => {
  const dir = await makeTree();
  try {
    const cases = [
      {},
      { literal: true },
      { links: "Follow" as const, type: "File" as const },
      { links: "Ignore" as const },
      { maxDepth: 2 },
    ];
    for (const c of cases) {
      const plain = await walked(dir, c);
      assert.ok(plain.found.length >= (c.type === "File" ? 1200 : 1220), `${plain.found.length} found`);
      // Waiting for every listing: each directory the walk entered came from the thread.
      const stats = newStats();
      const ahead = await walked(dir, c, { ...small(stats), waitAlways: true });
      assert.deepEqual(ahead.found, plain.found, JSON.stringify(c));
      assert.deepEqual(ahead.report, plain.report, JSON.stringify(c));
      assert.equal(stats.here + stats.timedOut, 0);
      assert.ok(stats.taken >= (c.maxDepth ? 8 : 14), `${JSON.stringify(c)}: ${JSON.stringify(stats)}`);
      // Sharing the work (the walk lists what the thread has not yet): the same, however it was shared.
      const shared = newStats();
      const both = await walked(dir, c, small(shared));
      assert.deepEqual(both.found, plain.found, JSON.stringify(c));
      assert.deepEqual(both.report, plain.report, JSON.stringify(c));
      assert.ok(shared.taken >= 1, JSON.stringify(shared));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the thread goes past the directories the walk listed itself, and reads on from where the walk is", async () => {
  const dir = await makeTree();
  try {
    /** The paths of the records the thread puts, reading the whole tree, the walk told to be at `at`. */
    const records = (at?: string) => {
      const control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
      const ring = new Uint8Array(new SharedArrayBuffer(8 << 20));
      const position = new SharedArrayBuffer(POSITION_BYTES);
      if (at !== undefined) new Position(position).write(at);
      const init = { path: dir, real: dir, follow: true, depth: 0, maxDepth: 20 };
      readAhead({
        ...init,
        control: control.buffer as SharedArrayBuffer,
        ring: ring.buffer as SharedArrayBuffer,
        position,
      }, new ListingWriter(control, ring));
      const r = new ListingReader(control, ring);
      const out: string[] = [];
      for (let l = r.next(); l; l = r.next()) {
        if (!out.includes(l.path)) out.push(l.path);
        r.done();
      }
      return out;
    };
    const all = records();
    // In the walk's order: "a-b" before "a" (its contents' keys, "a-b/…" before "a/…"), deep ones, the big one.
    assert.ok(all.length >= 16, all.join(" "));
    assert.ok(all.indexOf(`${dir}/a-b`) < all.indexOf(`${dir}/a`), all.join(" "));
    for (const k of [0, 3, all.indexOf(`${dir}/a`), all.indexOf(`${dir}/deep/1/2`), all.length - 1]) {
      assert.deepEqual(records(all[k]), all.slice(k + 1), `the walk at ${all[k]}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a thread that reads nothing ahead: the walk waits for it once, then lists everything itself", async () => {
  const dir = await makeTree();
  try {
    const plain = await walked(dir, {});
    const stats = newStats();
    const workerUrl = new URL("./testdata/idle_listing_worker.ts", import.meta.url).href;
    const t0 = performance.now();
    const alone = await walked(dir, {}, { stats, workerUrl, firstWaitMs: 300 });
    assert.deepEqual(alone.found, plain.found);
    assert.deepEqual(alone.report, plain.report);
    assert.equal(stats.taken, 0);
    assert.ok(stats.here >= 14, JSON.stringify(stats));
    // One wait (300 ms), not one per directory.
    assert.equal(stats.timedOut, 1);
    assert.ok(performance.now() - t0 >= 300);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a walk takes no listing of another directory than the one at its path", async () => {
  const dir = await makeTree();
  const copy = `${dir}-copy`;
  try {
    execFileSync("cp", ["-a", dir, copy]);
    const plain = await walked(dir, {});
    // The thread reads the copy: the same names at the same paths, other directories (other inodes).
    const stats = newStats();
    const ahead = await walked(dir, {}, { ...small(stats), real: copy, waitAlways: true });
    assert.deepEqual(ahead.found, plain.found);
    assert.equal(stats.taken, 0);
    assert.ok(stats.passed >= 14, JSON.stringify(stats));
  } finally {
    await Deno.remove(copy, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a directory replaced after its listing was read ahead: its fd, asked then, is refused", async () => {
  const dir = await makeTree();
  try {
    const stats = newStats();
    const seen: { path: string; fd: number | string }[] = [];
    await walked(dir, { type: "File" }, { ...small(stats), waitAlways: true }, (f) => {
      if (f.path === `${dir}/b/k1`) {
        // The listing of b (k1, k2, k3) was taken; b is now another directory, with other files.
        Deno.renameSync(`${dir}/b`, `${dir}/b.old`);
        Deno.mkdirSync(`${dir}/b`);
        Deno.writeTextFileSync(`${dir}/b/k2`, "another");
      }
      if (!f.path.startsWith(`${dir}/b/`)) return;
      try {
        const fd = f.dirfd;
        // An fd given is of the directory listed: the file opened through it is the one the walk found.
        const st = libc.statAt(fd, f.name, false);
        seen.push({ path: f.path, fd: st.ino === f.stat.ino ? "same file" : "another file" });
      } catch (e) {
        seen.push({ path: f.path, fd: (e as Error).message });
      }
    });
    assert.ok(stats.taken > 0);
    const refused = `${dir}/b: another directory since it was listed`;
    assert.deepEqual(seen, [
      { path: `${dir}/b/k1`, fd: refused },
      { path: `${dir}/b/k2`, fd: refused },
      { path: `${dir}/b/k3`, fd: refused },
    ]);
    // Without reading ahead the walk holds b's fd from its listing on: the files it found are the ones opened.
    const held: string[] = [];
    await walked(dir, { type: "File" }, false, (f) => {
      if (f.path.startsWith(`${dir}/b/`)) {
        held.push(libc.statAt(f.dirfd, f.name, false).ino === f.stat.ino ? "same" : "other");
      }
    });
    assert.deepEqual(held, ["same"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a walk that reads ahead leaves no fd open, done or stopped midway", async () => {
  const dir = await makeTree();
  const fds = () => treeFds(dir);
  try {
    let during: string[] = [];
    await walked(dir, {}, small(newStats()), () => {
      if (!during.length) during = fds();
    });
    assert.ok(during.length > 0, "the walk has the tree open while it walks");
    assert.deepEqual(fds(), [], "after a whole walk");
    const stop = new AbortController();
    let n = 0;
    const stats = newStats();
    await assert.rejects(
      walk({
        rule: parseRule(`${dir}/.*`, "linux"),
        realBase: dir,
        recurse: true,
        links: "Manage",
        type: "*",
        maxDepth: 20,
        budget: { left: 100_000 },
        signal: stop.signal,
        readAhead: small(stats),
      }, () => {
        if (++n === 3) stop.abort(new Error("stopped"));
      }),
      /stopped/,
    );
    assert.ok(stats.taken > 0);
    assert.deepEqual(fds(), [], "after a walk stopped");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a thread begun before its walk is taken by the walk that begins where it does, and no other", async () => {
  const dir = await makeTree();
  try {
    const plain = await walked(dir, {});
    // The walk of `${dir}/.*` begins at its base, a pattern's (followed), at depth 0.
    const start: ReadAheadStart = { path: dir, real: dir, follow: true, depth: 0, maxDepth: 20 };
    const stats = newStats();
    const begun = beginReadAhead(start, small(stats));
    const own = newStats();
    const ahead = await walked(dir, { begun }, small(own));
    assert.deepEqual(ahead.found, plain.found);
    assert.deepEqual(ahead.report, plain.report);
    assert.deepEqual(ahead.from, start);
    assert.deepEqual(plain.from, start, "where a thread would begin");
    assert.ok(stats.taken >= 14 && own.taken === 0, JSON.stringify({ stats, own }));
    assert.equal(begun.take(start), undefined, "taken once");
    begun.stop(); // the walk stopped it: nothing left to stop

    // Begun for a walk that goes one level less deep: not this walk's.
    const other = newStats();
    const elsewhere = beginReadAhead({ ...start, maxDepth: 19 }, small(other));
    const own2 = newStats();
    const again = await walked(dir, { begun: elsewhere }, small(own2));
    assert.deepEqual(again.found, plain.found);
    assert.ok(own2.taken >= 14 && other.taken === 0, JSON.stringify({ other, own2 }));
    elsewhere.stop();
    assert.equal(elsewhere.take({ ...start, maxDepth: 19 }), undefined, "stopped");
    assert.deepEqual(treeFds(dir), [], "the stopped thread closed what it held");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Hooks that keep what a walk went through, and say what it went past. */
const hooks = (kept: Map<string, [string, number]>) => {
  const walked = new Map<string, [string, number]>(), skipped: string[] = [];
  const h: SubtreeHooks = {
    kept: (p) => kept.get(p),
    all: () => [...kept].map(([p, k]) => [p, k[1]]),
    skipped: (p) => (skipped.push(p), true),
    walked: (p, d, n) => void walked.set(p, [d, n]),
    minItems: 0,
  };
  return { h, walked, skipped };
};

Deno.test("subtrees kept by one walk are gone past by the next where unchanged, read by the thread or by the walk; what changed is walked", async () => {
  const dir = await makeTree();
  try {
    const big = { ringBytes: 8 << 20, firstWaitMs: 60_000, waitAlways: true };
    const plain = await walked(dir, {});
    const first = hooks(new Map());
    assert.deepEqual(
      (await walked(dir, { subtrees: first.h }, { ...big, stats: newStats() })).found,
      plain.found,
    );
    assert.deepEqual(first.walked.get(`${dir}/big`)?.[1], 1200, "big/ kept with its 1,200 entries");
    assert.ok(
      first.walked.has(`${dir}/deep/1/2`) && first.walked.has(`${dir}/a/z`),
      [...first.walked.keys()].join(),
    );
    // Went past: each top directory (and the entries below it) walked the first time.
    const tops = [...first.walked.keys()].filter((p) => p.lastIndexOf("/") === dir.length);
    const under = (p: string) => tops.some((t) => p.startsWith(t + "/"));
    const rest = plain.found.filter((f) => !under(JSON.parse(f)[0]));
    for (const delegateAlways of [false, true]) {
      const stats = newStats();
      const next = hooks(first.walked);
      const r = await walked(dir, { subtrees: next.h }, { ...big, stats, delegateAlways });
      assert.deepEqual(r.found, rest, `delegated: ${delegateAlways}`);
      assert.deepEqual(next.skipped.sort(), tops.sort());
      // The thread leaves a kept subtree to the walk when the walk is waiting for it; always, when told to.
      assert.equal(stats.skipped + stats.delegated, tops.length, JSON.stringify(stats));
      if (delegateAlways) assert.equal(stats.delegated, tops.length, JSON.stringify(stats));
      assert.deepEqual(next.walked.size, 0, "nothing walked there");
    }
    // A file rewritten deep down: its directories are walked (and kept anew), the rest gone past.
    await Deno.writeTextFile(`${dir}/deep/1/2/3/4/5/f`, "changed");
    for (const delegateAlways of [false, true]) {
      const next = hooks(first.walked);
      const stats = newStats();
      const r = await walked(dir, { subtrees: next.h }, { ...big, stats, delegateAlways });
      assert.ok(r.found.some((f) => JSON.parse(f)[0] === `${dir}/deep/1/2/3/4/5/f`), "the file found");
      assert.ok(
        !next.skipped.includes(`${dir}/deep`) && next.skipped.includes(`${dir}/big`),
        next.skipped.join(),
      );
      // Walked with the thread's listings, kept anew; one the thread left to the walk was read here, and is not.
      if (stats.delegated === 0) {
        assert.ok(next.walked.has(`${dir}/deep`), "walked with the thread's listings: kept");
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a walk without a thread keeps the subtrees a thread's would, with the thread's digests; the next goes past them", async () => {
  const dir = await makeTree();
  try {
    // A followed link deep in a/ (what it reports is the target's, which no stat in the tree shows).
    Deno.symlinkSync("../../b", `${dir}/a/z/lnk`);
    const big = { ringBytes: 8 << 20, firstWaitMs: 60_000, waitAlways: true };
    for (const [links, maxDepth] of [["Manage", 20], ["Follow", 20], ["Manage", 3]] as const) {
      const what = `${links}, maxDepth ${maxDepth}`;
      const alone = hooks(new Map()), read = hooks(new Map());
      const plain = await walked(dir, { links, maxDepth, subtrees: alone.h });
      assert.deepEqual(
        (await walked(dir, { links, maxDepth, subtrees: read.h }, { ...big, stats: newStats() })).found,
        plain.found,
      );
      // The same subtrees, digests and items: made by the walk itself, and read from the thread's END records.
      assert.deepEqual([...alone.walked].sort(), [...read.walked].sort(), what);
      // What is below the deepest the walk enters is unseen: nothing above it kept.
      assert.equal(alone.walked.has(`${dir}/deep/1/2`), maxDepth === 20, what);
      assert.ok(alone.walked.has(`${dir}/big`), [...alone.walked.keys()].join());
      assert.equal(alone.walked.has(`${dir}/a`), links === "Manage", `a/ holds a link (${what})`);
      // The next walk, reading ahead, goes past every top directory kept.
      const next = hooks(alone.walked);
      await walked(dir, { links, maxDepth, subtrees: next.h }, { ...big, stats: newStats() });
      const tops = [...alone.walked.keys()].filter((p) => p.lastIndexOf("/") === dir.length);
      assert.deepEqual(next.skipped.sort(), tops.sort(), what);
    }
    // Changed after the walk: a stat the digest holds (here a file's size, deep down) differs.
    const before = hooks(new Map());
    await walked(dir, { subtrees: before.h });
    await Deno.writeTextFile(`${dir}/deep/1/2/3/4/5/f`, "changed");
    const after = hooks(new Map());
    await walked(dir, { subtrees: after.h });
    assert.notEqual(after.walked.get(`${dir}/deep`)?.[0], before.walked.get(`${dir}/deep`)?.[0]);
    assert.equal(after.walked.get(`${dir}/big`)?.[0], before.walked.get(`${dir}/big`)?.[0]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a kept subtree the ring cannot hold is walked at once, not waited for", async () => {
  const dir = await makeTree();
  try {
    const first = hooks(new Map());
    await walked(dir, { subtrees: first.h });
    const [, items] = first.walked.get(`${dir}/big`)!;
    // A ring of ~180 KB holds some 900 entries: not big/'s 1,200 (~200 bytes each in the ring).
    const ring = small(newStats()).ringBytes;
    assert.ok(items * 200 > ring, `${items} entries`);
    const stats = newStats();
    const next = hooks(new Map([[`${dir}/big`, first.walked.get(`${dir}/big`)!]]));
    // Nothing kept anew (whether the thread's END of a subtree bigger than the ring comes in time is its own matter).
    const r = await walked(dir, { subtrees: { ...next.h, minItems: Infinity } }, small(stats));
    assert.deepEqual(r.found, (await walked(dir, {})).found);
    assert.deepEqual(next.skipped, []);
    // Looked ahead for its END, the walk would have waited until the thread filled the ring.
    assert.equal(stats.tooBig, 0, JSON.stringify(stats));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
