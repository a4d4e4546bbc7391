// Benchmark of DCR path pattern matching: names/s of our linear-time engine against V8's RegExp (the matcher it
// replaced) on the real file names under /usr, and on a name built to make a backtracking engine explode.
import { readdirSync } from "node:fs";
import { compileSegment, globToRegex } from "../../agent/collectors/files/match.ts";
import type { Platform } from "../../agent/platform.ts";

/** Up to `max` file names from a walk of `root` (what the files collector matches a segment against). */
function names(root: string, max: number): string[] {
  const out: string[] = [];
  const dirs = [root];
  while (dirs.length && out.length < max) {
    const dir = dirs.pop()!;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      out.push(e.name);
      if (e.isDirectory()) dirs.push(`${dir}/${e.name}`);
    }
  }
  return out.slice(0, max);
}

/** Names per second of `test` over `list`, best of 5 passes (after one warm-up). */
function rate(list: string[], test: (n: string) => boolean): { perS: number; hits: number } {
  let best = Infinity, hits = 0;
  for (let pass = 0; pass < 6; pass++) {
    hits = 0;
    const t = performance.now();
    for (const n of list) if (test(n)) hits++;
    const ms = performance.now() - t;
    if (pass > 0) best = Math.min(best, ms);
  }
  return { perS: Math.round(list.length / (best / 1000)), hits };
}

const CASES: [segment: string, os: Platform][] = [
  [".*.conf", "linux"], // the Linux default DCR
  ["*.conf", "linux"],
  ["lib[a-z0-9_]+\\.so(\\.[0-9]+)*", "linux"],
  ["(README|NEWS|changelog)(\\.(md|txt|gz))?", "linux"],
  ["*.txt", "windows"], // the Windows sample DCR
  ["*.DLL", "windows"],
];

export function benchPatterns(): Record<string, unknown> {
  const list = names("/usr", 200_000);
  const out: Record<string, unknown> = { names: list.length };
  for (const [segment, os] of CASES) {
    const ours = compileSegment(segment, os);
    // Today's RegExp reading of the same segment: the regex itself on Linux, else its glob.
    let source = segment;
    try {
      if (os === "windows") throw 0;
      new RegExp(segment, "su");
    } catch {
      source = globToRegex(segment);
    }
    const re = new RegExp(os === "windows" ? source : `^(?:${source})$`, os === "windows" ? "is" : "su");
    // Both called as the walker calls a rule: through the closure compileSegment returns (as it did before).
    const before = { test: (n: string) => re.test(n) };
    const a = rate(list, (n) => ours.test(n)), b = rate(list, (n) => before.test(n));
    if (a.hits !== b.hits) throw new Error(`${segment}: ours matched ${a.hits} names, RegExp ${b.hits}`);
    out[`${os} ${segment}`] =
      `ours ${(a.perS / 1e6).toFixed(1)}M names/s, RegExp ${(b.perS / 1e6).toFixed(1)}M ` +
      `(${(a.perS / b.perS).toFixed(2)}x), ${a.hits} matched`;
  }
  // The case: (a+)+$ against 34 a's and a "!", one name.
  const trigger = "a".repeat(34) + "!";
  const redos = compileSegment("(a+)+$", "linux");
  const t = performance.now();
  for (let k = 0; k < 100_000; k++) redos.test(trigger);
  out["(a+)+$ on 34 a's and !"] = `ours ${((performance.now() - t) * 10).toFixed(0)} ns a name; ` +
    "RegExp: 2^34 steps, not measured (minutes)";
  return out;
}

if (import.meta.main) console.log(benchPatterns());
