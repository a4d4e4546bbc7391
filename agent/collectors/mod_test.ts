import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { COLLECTORS } from "./mod.ts";
import { COLLECTOR_NAME, defineCollector } from "./spec.ts";
import { PLATFORMS } from "../platform.ts";
import { programSources as sources, ROOT } from "../../test/helpers.ts";

/** Where `text` holds one of `names` as a whole string literal ("files", 'files', `files`), by line. */
export function nameLiterals(text: string, names: readonly string[]): { line: number; name: string }[] {
  const re = new RegExp(`(["'\`])(${names.join("|")})\\1`, "g");
  return text.split("\n").flatMap((l, i) => [...l.matchAll(re)].map((m) => ({ line: i + 1, name: m[2] })));
}

Deno.test("nameLiterals() finds a collector name written as a string literal, in any quotes", () => {
  assert.deepEqual(
    nameLiterals(`a\nwhere("collector", "=", "files")\nx = 'registry' + \`software\``, [
      "files",
      "registry",
      "software",
    ]),
    [{ line: 2, name: "files" }, { line: 3, name: "registry" }, { line: 3, name: "software" }],
  );
  assert.deepEqual(nameLiterals(`"profiles" "files.json" filesCollector`, ["files"]), []);
});

Deno.test("no collector's name is written as a string literal outside its own folder and the list", () => {
  const names = COLLECTORS.map((c) => c.name);
  const found: string[] = [];
  for (const file of sources()) {
    const rel = relative(ROOT, file);
    if (rel === "agent/collectors/mod.ts") continue;
    for (const hit of nameLiterals(readFileSync(file, "utf8"), names)) {
      if (rel.startsWith(`agent/collectors/${hit.name}/`)) continue;
      found.push(`${rel}:${hit.line}: "${hit.name}"`);
    }
  }
  assert.deepEqual(found, [], "read the collector's spec instead (COLLECTORS, its fields)");
});

/** Where `text` calls the OS itself: any `Deno.` (Deno.build.os, FFI, files), or a Node module that reaches the OS. */
export function osCalls(text: string): { line: number; call: string }[] {
  const re =
    /\bDeno\.[\w.]+|["']node:(?:fs|fs\/promises|child_process|os|net|dgram|worker_threads|process)["']/g;
  return text.split("\n").flatMap((l, i) => [...l.matchAll(re)].map((m) => ({ line: i + 1, call: m[0] })));
}

Deno.test("osCalls() finds Deno.*, Deno.build.os and the OS-reaching Node modules", () => {
  const text =
    `a\nif (Deno.build.os === "windows") Deno.readTextFileSync(p);\nimport { x } from "node:fs";\n` +
    `import { join } from "node:path";\nhost.readText(p);`;
  assert.deepEqual(osCalls(text).map((c) => `${c.line}:${c.call}`), [
    "2:Deno.build.os",
    "2:Deno.readTextFileSync",
    '3:"node:fs"',
  ]);
});

Deno.test("collectors make no OS call of their own (no Deno.*, no Deno.build.os): they read the host through ctx.host", () => {
  const found = sources().filter((f) => relative(ROOT, f).startsWith("agent/collectors/"))
    .flatMap((f) => osCalls(readFileSync(f, "utf8")).map((c) => `${relative(ROOT, f)}:${c.line}: ${c.call}`));
  assert.deepEqual(found, [], "add what the collector needs to the Host interface (agent/host/mod.ts)");
});

Deno.test("the collectors' specs are whole and do not clash: names, page shortcuts, mirror files, settings", () => {
  assert.ok(COLLECTORS.length >= 4);
  const unique = (what: string, values: string[]) =>
    assert.deepEqual(values.filter((v, i) => values.indexOf(v) !== i), [], `two collectors share a ${what}`);
  unique("name", COLLECTORS.map((c) => c.name));
  unique("page shortcut", COLLECTORS.map((c) => c.page.shortcut));
  unique("setting", COLLECTORS.flatMap((c) => c.schedule.dcr === null ? [c.schedule.setting] : []));
  for (const os of PLATFORMS) {
    unique(
      `${os} mirror file`,
      COLLECTORS.flatMap((c) => c.mirror?.[os] ?? []).map((m) => m.file),
    );
  }
  for (const c of COLLECTORS) {
    assert.match(c.name, COLLECTOR_NAME);
    assert.ok(c.columns.some((col) => col.field === c.nameField), `${c.name}: its name field is a column`);
    assert.equal(defineCollector(c), c);
  }
});

Deno.test("defineCollector() refuses a spec it cannot serve, naming the collector and the field", () => {
  const ok = COLLECTORS[0];
  assert.doesNotThrow(() => defineCollector({ ...ok, name: "scheduled_tasks2" }));
  assert.throws(() => defineCollector({ ...ok, name: "Users" }), /"Users": name must match/);
  assert.throws(() => defineCollector({ ...ok, name: "x-y" }), /name must match/);
  assert.throws(() => defineCollector({ ...ok, dataType: {} }), /dataType has no type for linux/);
  assert.throws(
    () => defineCollector({ ...ok, toAma: false, changeStream: "CONFIG_CHANGE_BLOB" }),
    /changeStream/,
  );
  assert.throws(
    () => defineCollector({ ...ok, page: { ...ok.page, color: ["red;}", "#fff"] } }),
    /page.color red;\} is not #rgb hex/,
  );
  assert.throws(
    () => defineCollector({ ...ok, schedule: { dcr: null, setting: "x", defaultSeconds: 0 } }),
    /schedule.defaultSeconds/,
  );
});
