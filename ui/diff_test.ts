import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { diffLines, lineSummary, splitLines } from "./diff.ts";

/** `diff -u` of two texts, hunks only (what GNU diff prints after the two header lines). */
function gnuDiff(a: string, b: string, dir: string): string {
  Deno.writeTextFileSync(join(dir, "a"), a);
  Deno.writeTextFileSync(join(dir, "b"), b);
  try {
    execFileSync("diff", ["-u", join(dir, "a"), join(dir, "b")], { encoding: "utf8" });
    return "";
  } catch (e) {
    return String((e as { stdout: string }).stdout).split("\n").slice(2).join("\n");
  }
}

function ours(a: string, b: string): string {
  const d = diffLines(a, b);
  const head = (s: number, n: number) => n === 1 ? `${s}` : `${s},${n}`;
  return d.hunks.map((h) =>
    `@@ -${head(h.aStart, h.aLen)} +${head(h.bStart, h.bLen)} @@\n` + h.lines.map((l) =>
      l.op + l.text
    ).join("\n") + "\n"
  ).join("");
}

Deno.test("diffLines() hunks equal GNU diff -u on edits at the start, middle, end, and far apart", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const base = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`);
    const cases: [string, string[]][] = [
      ["one change", base.map((l, i) => i === 19 ? "changed" : l)],
      ["insert at start", ["new first", ...base]],
      ["delete at end", base.slice(0, 37)],
      ["two far apart", base.map((l, i) => i === 2 || i === 35 ? l + "!" : l)],
      ["two close (one hunk)", base.map((l, i) => i === 10 || i === 14 ? l + "!" : l)],
      ["replace a block", [...base.slice(0, 5), "x", "y", ...base.slice(12)]],
    ];
    for (const [name, lines] of cases) {
      const a = base.join("\n") + "\n", b = lines.join("\n") + "\n";
      assert.equal(ours(a, b), gnuDiff(a, b, dir), name);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("diffLines() of equal texts has no hunks; of very different texts it stays bounded", () => {
  assert.deepEqual(diffLines("a\nb\n", "a\nb\n").hunks, []);
  const a = Array.from({ length: 3000 }, (_, i) => `a${i}`).join("\n");
  const b = Array.from({ length: 3000 }, (_, i) => `b${i}`).join("\n");
  const t = performance.now();
  const d = diffLines(a, b, { maxD: 500 });
  assert.ok(d.approximate);
  assert.equal(d.added, 3000);
  assert.equal(d.removed, 3000);
  assert.ok(performance.now() - t < 5000);
});

Deno.test("splitLines() handles CRLF and a missing final newline", () => {
  assert.deepEqual(splitLines("a\r\nb"), ["a", "b"]);
  assert.deepEqual(splitLines("a\n"), ["a"]);
  assert.deepEqual(splitLines(""), []);
});

Deno.test("lineSummary() says a replaced line as the words around what changed, old and new", () => {
  const s = lineSummary(diffLines("# app\nworkers = 8\nlog = info\n", "# app\nworkers = 16\nlog = info\n"));
  assert.deepEqual(s, {
    added: 1,
    removed: 1,
    sample: { op: "~", before: "workers = ", old: "8", new: "16", after: "" },
  });
  const t = lineSummary(diffLines("  listen 80;\n", "  listen 8080 ssl;\n"));
  assert.deepEqual(t.sample, { op: "~", before: "listen ", old: "80", new: "8080 ssl", after: ";" });
  // Versions stay whole words.
  const v = lineSummary(diffLines("version=1.2.3\n", "version=1.2.4\n"));
  assert.deepEqual(v.sample, { op: "~", before: "version=", old: "1.2.3", new: "1.2.4", after: "" });
});

Deno.test("lineSummary() shows the first line added or removed when nothing was replaced, and clips long ones", () => {
  assert.deepEqual(lineSummary(diffLines("a\n", "a\nb = 2\nc = 3\n")), {
    added: 2,
    removed: 0,
    sample: { op: "+", text: "b = 2" },
  });
  assert.deepEqual(lineSummary(diffLines("a\nb\n", "a\n")), {
    added: 0,
    removed: 1,
    sample: { op: "-", text: "b" },
  });
  const long = "x".repeat(500);
  const s = lineSummary(diffLines("", `${long}\n`));
  assert.equal(s.sample?.op, "+");
  assert.equal((s.sample as { text: string }).text.length, 80);
  assert.deepEqual(lineSummary(diffLines("same\n", "same\n")), { added: 0, removed: 0 });
});
