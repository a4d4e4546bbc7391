import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { trimNativeHeap } from "./memory.ts";

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
