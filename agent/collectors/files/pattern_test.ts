import assert from "node:assert/strict";
import { compilePattern, isRegexSyntax, MAX_NFA_STATES, PatternError } from "./pattern.ts";
import { redosPatterns, triggerNames } from "./testdata/redos.ts";

/** A small seeded generator, so a failure names the seed that reproduces it. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)] };
}

const SYNTAX = "^$\\.*+?()[]{}|/";
const lit = (c: string) => SYNTAX.includes(c) ? `\\${c}` : c;
const inClass = (c: string) => "\\]-^[".includes(c) ? `\\${c}` : c;

/** A random pattern of the subset over `alphabet`; `astral` allows \u{…} escapes (u-only syntax). */
function randomPattern(r: ReturnType<typeof random>, alphabet: readonly string[], astral: boolean): string {
  let groupNames = 0;
  const atom = (depth: number): string => {
    switch (r.int(depth > 2 ? 5 : 8)) {
      case 0:
      case 1:
        return lit(r.pick(alphabet));
      case 2:
        return ".";
      case 3: {
        let body = "";
        for (let k = 0, n = 1 + r.int(3); k < n; k++) {
          const roll = r.int(4);
          if (roll === 0) {
            const [a, b] = [r.pick(alphabet), r.pick(alphabet)].sort((x, y) =>
              x.codePointAt(0)! - y.codePointAt(0)!
            );
            body += `${inClass(a)}-${inClass(b)}`;
          } else if (roll === 1) body += r.pick(["\\d", "\\w", "\\s", "\\D", "\\W", "\\S"]);
          else body += inClass(r.pick(alphabet));
        }
        return `[${r.int(3) === 0 ? "^" : ""}${body}]`;
      }
      case 4:
        return r.pick(
          ["\\d", "\\w", "\\s", "\\D", "\\W", "\\S", "\\n", "\\x61", "\\u0041", "\\t", "\\0"].concat(
            astral ? ["\\u{1F600}", "\\uD83D\\uDE00", "\\u{10FFFF}"] : [],
          ),
        );
      case 5:
        return `(${disjunction(depth + 1)})`;
      case 6:
        return `(?:${disjunction(depth + 1)})`;
      default:
        return `(?<g${groupNames++}>${disjunction(depth + 1)})`;
    }
  };
  const quantified = (depth: number): string => {
    const roll = r.int(14);
    if (roll === 0) return "^";
    if (roll === 1) return "$";
    const a = atom(depth);
    const m = r.int(3), n = m + r.int(3);
    // RegExp is the reference here, and a backtracking one: no unbounded repeat inside an unbounded repeat, or
    // it would take minutes on some of these (that is the point of our engine, not of this test).
    const bounded = ["", "", "", "?", `{${m}}`, `{${m},${n}}`];
    const q = r.pick(/[*+]|\{\d+,\}/.test(a) ? bounded : [...bounded, "*", "+", `{${m},}`]);
    return a + q + (q && r.int(4) === 0 ? "?" : "");
  };
  const alternative = (depth: number) => {
    let s = "";
    for (let k = 0, n = r.int(4); k < n; k++) s += quantified(depth);
    return s;
  };
  const disjunction = (depth: number): string => {
    const parts = [alternative(depth)];
    while (r.int(4) === 0) parts.push(alternative(depth));
    return parts.join("|");
  };
  return disjunction(0);
}

function randomName(r: ReturnType<typeof random>, alphabet: readonly string[]): string {
  let s = "";
  for (let k = 0, n = r.int(9); k < n; k++) s += r.pick(alphabet);
  return s;
}

// Code points and strings where code-point matching and RegExp's `u` semantics could part ways: astral
// characters, lone surrogates, line breaks (`.` matches them with `s`), \s members, non-ASCII letters.
const LINUX_ALPHABET = [
  "a",
  "b",
  "A",
  "_",
  "0",
  "9",
  ".",
  "-",
  "]",
  "\\",
  "^",
  " ",
  "\n",
  "\u2028",
  "\u00a0",
  "é",
  "ſ",
  "\u212a",
  "\u{1F600}",
  "\uD83D",
  "\uDE00",
  "\u{10FFFF}",
];
// Ignoring case (Windows): BMP only (a `u`-less RegExp reads code units), with the letters whose cases are odd.
const CASE_ALPHABET = [
  "a",
  "A",
  "k",
  "K",
  "\u212a",
  "s",
  "S",
  "ſ",
  "ß",
  "ẞ",
  "i",
  "I",
  "ı",
  "İ",
  "é",
  "É",
  "µ",
  "Μ",
  "μ",
  "σ",
  "ς",
  "Σ",
  "ǅ",
  "Ǆ",
  "ǆ",
  "ﬀ",
  ".",
  "-",
  "1",
  "\n",
];

Deno.test("compilePattern() answers as RegExp (su) on 4,000 random patterns of the subset and random names", () => {
  const seed = 1789;
  const r = random(seed);
  let compared = 0;
  for (let p = 0; p < 4000; p++) {
    const source = randomPattern(r, LINUX_ALPHABET, true);
    assert.ok(isRegexSyntax(source), `generated ${JSON.stringify(source)} is not a RegExp`);
    const ours = compilePattern(source);
    const theirs = new RegExp(`^(?:${source})$`, "su");
    for (let k = 0; k < 25; k++) {
      const name = randomName(r, LINUX_ALPHABET);
      assert.equal(
        ours.test(name),
        theirs.test(name),
        `pattern ${JSON.stringify(source)} name ${JSON.stringify(name)} (seed ${seed}, pattern ${p})`,
      );
      compared++;
    }
  }
  assert.equal(compared, 100_000);
});

Deno.test("compilePattern() ignoring case answers as RegExp (si, no u) on random patterns and names", () => {
  const seed = 4242;
  const r = random(seed);
  for (let p = 0; p < 3000; p++) {
    const source = randomPattern(r, CASE_ALPHABET, false);
    const ours = compilePattern(source, { ignoreCase: true });
    const theirs = new RegExp(`^(?:${source})$`, "si");
    for (let k = 0; k < 25; k++) {
      const name = randomName(r, CASE_ALPHABET);
      assert.equal(
        ours.test(name),
        theirs.test(name),
        `pattern ${JSON.stringify(source)} name ${JSON.stringify(name)} (seed ${seed}, pattern ${p})`,
      );
    }
  }
});

Deno.test("compilePattern() ignoring case: every BMP letter with a case mapping matches as RegExp (si) says", () => {
  const hex = (cp: number) => cp.toString(16).padStart(4, "0");
  let letters = 0;
  for (let cp = 0; cp <= 0xffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const c = String.fromCharCode(cp);
    const variants = [c.toUpperCase(), c.toLowerCase(), c.toUpperCase().toLowerCase()].filter((v) =>
      v.length === 1 && v !== c
    );
    if (!variants.length) continue;
    letters++;
    const source = `\\u${hex(cp)}`;
    const ours = compilePattern(source, { ignoreCase: true }), theirs = new RegExp(`^${source}$`, "i");
    const cls = compilePattern(`[^${source}]`, { ignoreCase: true }),
      notTheirs = new RegExp(`^[^${source}]$`, "i");
    for (const v of [c, ...variants]) {
      assert.equal(ours.test(v), theirs.test(v), `\\u${hex(cp)} against \\u${hex(v.charCodeAt(0))}`);
      assert.equal(cls.test(v), notTheirs.test(v), `[^\\u${hex(cp)}] against \\u${hex(v.charCodeAt(0))}`);
    }
  }
  assert.ok(letters > 2000, `${letters} letters with a case mapping`);
});

Deno.test("no code point above U+1FFFF has a case mapping (the case table stops there)", () => {
  for (let cp = 0x20000; cp <= 0x10ffff; cp++) {
    const c = String.fromCodePoint(cp);
    if (c.toUpperCase() !== c || c.toLowerCase() !== c) {
      assert.fail(`U+${cp.toString(16)} has a case mapping`);
    }
  }
});

Deno.test("compilePattern() reads names by code point, lone surrogates included", () => {
  assert.ok(compilePattern(".").test("\u{1F600}"));
  assert.ok(!compilePattern("..").test("\u{1F600}"));
  assert.ok(compilePattern("..").test("\uD83D!"));
  assert.ok(
    compilePattern("\\uD83D\\uDE00").test("\u{1F600}"),
    "two \\u escapes of a pair are one code point",
  );
  assert.ok(compilePattern("[^a]").test("\uDE00"));
  assert.ok(compilePattern(".").test("\n"), "`.` matches a line break, as with the s flag");
  assert.ok(compilePattern("").test(""));
  assert.ok(!compilePattern("").test("a"));
  assert.ok(compilePattern("a|^b$|c$").test("b"));
  assert.ok(!compilePattern("a^b").test("ab"));
});

Deno.test("compilePattern() rejects what needs backtracking or tables, naming it", () => {
  const rejected: [string, RegExp][] = [
    ["(a)\\1", /backreference \\1 is not supported/],
    ["(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)\\10", /backreference \\10 is not supported/],
    ["(?<x>a)\\k<x>", /named backreference \\k<…> is not supported/],
    ["a(?=b)", /lookahead \(\?=…\) is not supported/],
    ["a(?!b)", /lookahead \(\?!…\) is not supported/],
    ["(?<=a)b", /lookbehind \(\?<=…\) is not supported/],
    ["(?<!a)b", /lookbehind \(\?<!…\) is not supported/],
    ["\\bword", /word boundary \\b is not supported/],
    ["a\\B", /word boundary \\B is not supported/],
    ["\\p{L}+", /Unicode property escape \\p\{…\} is not supported/],
    ["\\P{L}", /Unicode property escape \\P\{…\} is not supported/],
    ["(?i:a)", /inline modifiers/],
    ["a{1001}", /count \{1001\} is above 1000/],
    ["((a{100}){100})", /needs \d{5} automaton states, at most 4096/],
    ["(((.{1000}){1000}){1000}){1000}", /needs over a billion automaton states/],
  ];
  for (const [source, message] of rejected) {
    assert.throws(() => compilePattern(source), (e: unknown) => {
      assert.ok(e instanceof PatternError, `${source}: ${e}`);
      assert.match(e.message, message, source);
      return true;
    });
  }
  // Not patterns at all (a DCR segment like these is read as a glob).
  for (const source of ["*.conf", "a)|(b", "[z-a]", "a{", "(", "\\"]) {
    assert.throws(() => compilePattern(source), PatternError, source);
    assert.ok(!isRegexSyntax(source), source);
  }
  assert.ok(compilePattern(".{1,1000}").size <= MAX_NFA_STATES);
});

Deno.test("compilePattern() stays linear on ReDoS patterns with names built to trigger them", () => {
  const patterns = redosPatterns();
  assert.ok(patterns.length > 200, `${patterns.length} patterns`);
  const start = performance.now();
  for (const source of patterns) {
    const m = compilePattern(source);
    // Short names: RegExp is still quick there, and both must agree.
    const theirs = new RegExp(`^(?:${source})$`, "su");
    for (const name of triggerNames(10)) {
      assert.equal(m.test(name), theirs.test(name), `${source} on ${name}`);
    }
    // 250 characters, a name any user who can write in a watched directory can make: would take a
    // backtracking engine longer than the universe has existed.
    for (const name of triggerNames(250)) m.test(name);
  }
  const ms = performance.now() - start;
  // Not a benchmark: a backtracking engine does not finish this test at all.
  assert.ok(ms < 60_000, `${ms} ms`);
});

Deno.test("compilePattern() keeps answering right when its DFA cache fills and is dropped", () => {
  // Every distinct suffix of the last 17 characters is a DFA state: thousands of them.
  const source = "[ab]*a[ab]{16}";
  const m = compilePattern(source), theirs = new RegExp(`^(?:${source})$`, "su");
  const r = random(7);
  for (let k = 0; k < 20_000; k++) {
    let name = "";
    for (let j = 0, n = 17 + r.int(24); j < n; j++) name += r.pick(["a", "b"]);
    assert.equal(m.test(name), theirs.test(name), name);
  }
});
