import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { releasableRanges, releaseExecutablePages, trimNativeHeap } from "./memory.ts";

Deno.test("trimNativeHeap() gives the C heap's free pages back: RSS falls by what malloc kept", {
  ignore: Deno.build.os !== "linux",
}, () => {
  // A real process: 64 MB of 1 kB blocks from malloc, all freed but the last (so the free space is in the middle
  // of the heap, where free() never returns it), then the trim. Without it RssAnon stays where it was.
  const script = `
    import { trimNativeHeap } from ${JSON.stringify(new URL("./memory.ts", import.meta.url).href)};
    const c = Deno.dlopen("libc.so.6", {
      malloc: { parameters: ["usize"], result: "pointer" },
      free: { parameters: ["pointer"], result: "void" },
      memset: { parameters: ["pointer", "i32", "usize"], result: "pointer" },
    }).symbols;
    const anon = () => Number(Deno.readTextFileSync("/proc/self/status").match(/RssAnon:\\s+(\\d+)/)[1]) * 1024;
    const blocks = [];
    for (let i = 0; i < 65536; i++) blocks.push(c.memset(c.malloc(1024), 1, 1024));
    const full = anon();
    for (const b of blocks.slice(0, -1)) c.free(b);
    const freed = anon();
    const trimmed = trimNativeHeap();
    console.log(JSON.stringify({ full, freed, trimmed, after: anon() }));
  `;
  const r = spawnSync(Deno.execPath(), ["eval", script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const m = JSON.parse(r.stdout);
  const MB = 1024 * 1024;
  assert.ok(
    m.freed - m.after > 40 * MB,
    `RssAnon after free() ${(m.freed / MB).toFixed(1)} MB, after the trim ${(m.after / MB).toFixed(1)} MB`,
  );
  assert.equal(m.trimmed, true);
});

Deno.test("trimNativeHeap() answers false and throws nothing where there is no glibc", {
  ignore: Deno.build.os === "linux",
}, () => {
  assert.equal(trimNativeHeap(), false);
});

/** One mapping of /proc/PID/smaps as the kernel writes it (the fields the parser does not read left out). */
function mapping(
  range: string,
  perms: string,
  name: string,
  kb: { rss: number; anon: number; locked?: number },
) {
  return [
    `${range} ${perms} 00000000 fe:00 260386${name ? "                     " + name : ""}`,
    `Size:               1024 kB`,
    `Rss:                ${String(kb.rss).padStart(4)} kB`,
    `Pss:                ${String(kb.rss).padStart(4)} kB`,
    `Private_Dirty:      ${String(kb.anon).padStart(4)} kB`,
    `Anonymous:          ${String(kb.anon).padStart(4)} kB`,
    `Locked:             ${String(kb.locked ?? 0).padStart(4)} kB`,
    `VmFlags: rd mr mw me`,
  ].join("\n");
}

Deno.test("releasableRanges() takes the executable's read-only mappings that hold only the file's pages", () => {
  const exe = "/opt/ctagent dir/ctagent";
  const smaps = [
    mapping("5609d7a0a000-5609d7a0c000", "r--p", exe, { rss: 8, anon: 0 }),
    mapping("5609d7a0c000-5609d7b0c000", "r-xp", exe, { rss: 900, anon: 0 }),
    mapping("5609d7b0c000-5609d7b1c000", "r--p", exe, { rss: 64, anon: 4 }), // relocated: a copy of its own
    mapping("5609d7b1c000-5609d7b2c000", "rw-p", exe, { rss: 64, anon: 0 }), // writable
    mapping("5609d7b2c000-5609d7b3c000", "r--p", exe, { rss: 0, anon: 0 }), // nothing resident
    mapping("5609d7b3c000-5609d7b4c000", "r-xp", exe, { rss: 64, anon: 0, locked: 64 }),
    mapping("7f0000000000-7f0000100000", "r-xp", "/usr/lib/x86_64-linux-gnu/libc.so.6", {
      rss: 512,
      anon: 0,
    }),
    mapping("7f0000100000-7f0000200000", "r-xp", exe + " (deleted)", { rss: 512, anon: 0 }),
    mapping("7f0000200000-7f0000300000", "rw-p", "", { rss: 1024, anon: 1024 }),
    mapping("7fff00000000-7fff00001000", "r-xp", exe, { rss: 4, anon: 0 }),
  ].join("\n") + "\n";
  assert.deepEqual(releasableRanges(smaps, exe), [
    { start: 0x5609d7a0a000n, length: 0x2000n, rss: 8 * 1024 },
    { start: 0x5609d7a0c000n, length: 0x100000n, rss: 900 * 1024 },
    { start: 0x7fff00000000n, length: 0x1000n, rss: 4 * 1024 },
  ]);
  // A field it cannot read, or one missing, leaves the mapping alone.
  assert.equal(releasableRanges(mapping("1000-2000", "r-xp", exe, { rss: 4, anon: 0 }), exe).length, 1);
  const odd = mapping("1000-2000", "r-xp", exe, { rss: 4, anon: 0 }).replace(
    "Anonymous:             0 kB",
    "Anonymous: ?",
  );
  assert.deepEqual(releasableRanges(odd, exe), []);
  const none = mapping("1000-2000", "r-xp", exe, { rss: 4, anon: 0 }).replace(/\nLocked:.*/, "");
  assert.deepEqual(releasableRanges(none, exe), []);
});

Deno.test("releaseExecutablePages() lets the executable's pages go, and the process goes on as before", {
  ignore: Deno.build.os !== "linux",
}, () => {
  // A real process: its RssFile (nearly all of it the deno executable's pages) before and after, then work that
  // maps much of it back (the compiler, JSON, Intl, regular expressions, a worker) with its results checked.
  const script = `
    import { releaseExecutablePages } from ${JSON.stringify(new URL("./memory.ts", import.meta.url).href)};
    const file = () => Number(Deno.readTextFileSync("/proc/self/status").match(/RssFile:\\s+(\\d+)/)[1]) * 1024;
    const before = file();
    const released = releaseExecutablePages();
    const after = file();
    const work = [
      JSON.stringify(JSON.parse('{"a":[1,2,{"b":"c"}]}')),
      new Intl.DateTimeFormat("de-DE", { timeZone: "UTC" }).format(new Date(0)),
      "a1b22c333".replace(/\\d+/g, (m) => String(m.length)),
      new Function("x", "return x * 6")(7),
    ];
    const w = new Worker("data:text/javascript,postMessage(21 * 2)", { type: "module" });
    work.push(await new Promise((r) => w.onmessage = (e) => r(e.data)));
    w.terminate();
    console.log(JSON.stringify({ before, released, after, work }));
  `;
  const r = spawnSync(Deno.execPath(), ["eval", script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const m = JSON.parse(r.stdout);
  const MB = 1024 * 1024;
  assert.ok(m.released > 5 * MB, `released ${(m.released / MB).toFixed(1)} MB`);
  assert.ok(
    m.before - m.after > 5 * MB,
    `RssFile before ${(m.before / MB).toFixed(1)} MB, after ${(m.after / MB).toFixed(1)} MB`,
  );
  assert.deepEqual(m.work, ['{"a":[1,2,{"b":"c"}]}', "1.1.1970", "a1b2c3", 42, 42]);
});

Deno.test("releaseExecutablePages() answers 0 and throws nothing where there is no glibc", {
  ignore: Deno.build.os === "linux",
}, () => {
  assert.equal(releaseExecutablePages(), 0);
});
