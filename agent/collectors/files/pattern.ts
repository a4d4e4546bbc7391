// Linear-time matching of DCR path patterns (SPEC §7.25): the regex subset DCRs use, parsed into an NFA and run
// as a lazily built DFA, so a name costs time in proportion to its length whatever the pattern or the name.
//
// The subset, with JavaScript's `u` syntax and `s` meaning (`.` matches every code point, line breaks too):
// literals and escapes (`\n`, `\x41`, `\u{1F600}`, `\.` …), `.`, `\d \D \s \S \w \W`, classes `[a-z_]` and
// negated classes `[^/]` with ranges, `*` `+` `?` `{m}` `{m,}` `{m,n}` (lazy forms too: they match the same
// names), groups `( )`, `(?: )`, `(?<name> )`, alternation `|`, and `^` `$`. Backreferences, lookaround, `\b`,
// `\p{…}` and inline modifiers need backtracking or tables we do not carry: they are rejected (PatternError).
// A whole name must match (the pattern is anchored at both ends). Names are read by code point; a lone
// surrogate is one code point, as in a `u` RegExp.

/** A pattern outside the supported subset, or not a pattern at all; `index` is where in the source. */
export class PatternError extends Error {
  override name = "PatternError";
  constructor(message: string, readonly index: number) {
    super(message);
  }
}

export interface PatternOptions {
  /**
   * Match letters whatever their case, as a RegExp with the `i` flag and without `u` does, applied to code
   * points: two characters are the same when their single-character upper cases are, except that a non-ASCII
   * letter never matches an ASCII one (`ſ` is not `s`, the Kelvin sign is not `k`). Windows names use it.
   */
  ignoreCase?: boolean;
}

export interface Matcher {
  /** Whether the whole of `name` matches. */
  test(name: string): boolean;
  /** NFA states of the compiled pattern (bounded by MAX_NFA_STATES). */
  readonly size: number;
}

/** Most NFA states a pattern may compile to: bounds the work per name character when the DFA cache thrashes. */
export const MAX_NFA_STATES = 4096;
/** Largest count allowed in `{m,n}`. */
export const MAX_REPEAT = 1000;
/** DFA transition cells kept (4 bytes each) before the cache is dropped and rebuilt as names need it. */
const DFA_CELLS = 1 << 18;
const MAX_CP = 0x10ffff;

/** Whether `source` is a valid JavaScript regular expression with the `u` flag. Only builds one, never runs it. */
export function isRegexSyntax(source: string): boolean {
  try {
    new RegExp(source, "su");
    return true;
  } catch {
    return false;
  }
}

/** Compiles `source` to a matcher of whole names; throws PatternError for anything outside the subset. */
export function compilePattern(source: string, opts: PatternOptions = {}): Matcher {
  const ast = parse(source, opts.ignoreCase ?? false);
  const nfa = buildNfa(ast, source);
  return dfaMatcher(nfa);
}

// ---- character sets: sorted, disjoint, non-adjacent inclusive ranges [lo0, hi0, lo1, hi1, …] ----

type CharSet = number[];

function normalize(ranges: [number, number][]): CharSet {
  ranges.sort((a, b) => a[0] - b[0]);
  const out: CharSet = [];
  for (const [lo, hi] of ranges) {
    const n = out.length;
    if (n && lo <= out[n - 1] + 1) out[n - 1] = Math.max(out[n - 1], hi);
    else out.push(lo, hi);
  }
  return out;
}

function pairs(set: CharSet): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < set.length; i += 2) out.push([set[i], set[i + 1]]);
  return out;
}

function complement(set: CharSet): CharSet {
  const out: CharSet = [];
  let next = 0;
  for (let i = 0; i < set.length; i += 2) {
    if (set[i] > next) out.push(next, set[i] - 1);
    next = set[i + 1] + 1;
  }
  if (next <= MAX_CP) out.push(next, MAX_CP);
  return out;
}

function contains(set: CharSet, cp: number): boolean {
  let lo = 0, hi = set.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < set[2 * mid]) hi = mid - 1;
    else if (cp > set[2 * mid + 1]) lo = mid + 1;
    else return true;
  }
  return false;
}

const DIGIT: CharSet = [0x30, 0x39];
const WORD: CharSet = normalize([[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]]);
// WhiteSpace and LineTerminator of ECMAScript (what `\s` matches).
const SPACE: CharSet = normalize(
  [
    [0x09, 0x0d],
    [0x20, 0x20],
    [0xa0, 0xa0],
    [0x1680, 0x1680],
    [0x2000, 0x200a],
    [0x2028, 0x2029],
    [0x202f, 0x202f],
    [0x205f, 0x205f],
    [0x3000, 0x3000],
    [0xfeff, 0xfeff],
  ],
);

// ---- case: the `i` flag without `u` (ECMAScript Canonicalize), applied to code points ----

/** Above this no code point has a case mapping (checked by a test over every code point). */
const CASED_LIMIT = 0x1ffff;

function canonicalize(cp: number): number {
  const s = String.fromCodePoint(cp);
  const u = s.toUpperCase();
  const up = u.codePointAt(0)!;
  if (u.length !== (up > 0xffff ? 2 : 1)) return cp; // more than one character: left as is
  if (cp >= 128 && up < 128) return cp;
  return up;
}

let caseGroups: number[][] | undefined;
/** Every set of two or more code points that ignoring case makes equal, built once when first needed (~6 ms). */
function groups(): number[][] {
  if (caseGroups) return caseGroups;
  const byCanon = new Map<number, number[]>();
  for (let cp = 0; cp <= CASED_LIMIT; cp++) {
    const c = canonicalize(cp);
    if (c === cp) continue;
    let g = byCanon.get(c);
    if (!g) byCanon.set(c, g = canonicalize(c) === c ? [c] : []);
    g.push(cp);
  }
  caseGroups = [...byCanon.values()].filter((g) => g.length > 1);
  return caseGroups;
}

/** The set plus every code point equal to one of its members when case is ignored. */
function caseClosure(set: CharSet): CharSet {
  const extra: [number, number][] = [];
  for (const g of groups()) {
    if (g.some((cp) => contains(set, cp))) { for (const cp of g) extra.push([cp, cp]); }
  }
  return extra.length ? normalize([...pairs(set), ...extra]) : set;
}

// ---- parser: source → AST ----

type Node =
  | { t: "set"; set: CharSet }
  | { t: "cat"; items: Node[] }
  | { t: "alt"; items: Node[] }
  | { t: "rep"; item: Node; min: number; max: number }
  | { t: "bol" }
  | { t: "eol" };

const SYNTAX = new Set("^$\\.*+?()[]{}|");

function parse(source: string, ignoreCase: boolean): Node {
  const cps = [...source].map((c) => c.codePointAt(0)!);
  let i = 0;
  const fail = (message: string, at = i): never => {
    throw new PatternError(message, at);
  };
  const peek = (k = 0) => cps[i + k];
  const ch = (k = 0) => cps[i + k] === undefined ? "" : String.fromCodePoint(cps[i + k]);
  const isDigit = (cp: number | undefined) => cp !== undefined && cp >= 0x30 && cp <= 0x39;
  const isHex = (cp: number | undefined) =>
    cp !== undefined && /^[0-9A-Fa-f]$/.test(String.fromCodePoint(cp));
  const literal = (cp: number): Node => ({ t: "set", set: fold([cp, cp]) });
  const fold = (set: CharSet) => ignoreCase ? caseClosure(set) : set;

  const hex = (n: number): number => {
    let v = 0;
    for (let k = 0; k < n; k++) {
      if (!isHex(peek())) fail(`expected ${n} hex digits after \\${n === 2 ? "x" : "u"}`);
      v = v * 16 + parseInt(ch(), 16);
      i++;
    }
    return v;
  };

  /** After a `\`: a single code point, or a set for the class escapes. `inClass` allows `\b` and `\-`. */
  const escape = (inClass: boolean): number | CharSet => {
    const at = i - 1;
    const c = ch();
    if (c === "") return fail("pattern ends with a lone \\", at);
    i++;
    switch (c) {
      case "d":
        return DIGIT;
      case "D":
        return complement(DIGIT);
      case "s":
        return SPACE;
      case "S":
        return complement(SPACE);
      case "w":
        return WORD;
      case "W":
        return complement(WORD);
      case "f":
        return 0x0c;
      case "n":
        return 0x0a;
      case "r":
        return 0x0d;
      case "t":
        return 0x09;
      case "v":
        return 0x0b;
      case "b":
        return inClass ? 0x08 : fail("word boundary \\b is not supported", at);
      case "B":
        return fail("word boundary \\B is not supported", at);
      case "-":
        return inClass ? 0x2d : fail("\\- is only allowed inside a class", at);
      case "c": {
        const l = peek();
        if (l === undefined || !/^[A-Za-z]$/.test(String.fromCodePoint(l))) {
          fail("\\c must be followed by a letter");
        }
        i++;
        return l! % 32;
      }
      case "x":
        return hex(2);
      case "u": {
        if (ch() === "{") {
          i++;
          let v = 0, n = 0;
          while (isHex(peek())) v = v * 16 + parseInt(ch(), 16), n++, i++;
          if (!n || ch() !== "}" || v > MAX_CP) fail("\\u{…} must hold a code point up to 10FFFF");
          i++;
          return v;
        }
        const v = hex(4);
        // A surrogate pair written as two escapes is one code point, as in a `u` RegExp.
        if (v >= 0xd800 && v <= 0xdbff && ch() === "\\" && ch(1) === "u" && ch(2) !== "{") {
          const save = i;
          i += 2;
          const lo = isHex(peek()) && isHex(peek(1)) && isHex(peek(2)) && isHex(peek(3)) ? hex(4) : -1;
          if (lo >= 0xdc00 && lo <= 0xdfff) return ((v - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
          i = save;
        }
        return v;
      }
      case "0":
        if (isDigit(peek())) fail("octal escapes are not allowed", at);
        return 0;
      case "k":
        return fail("named backreference \\k<…> is not supported", at);
      case "p":
      case "P":
        return fail(`Unicode property escape \\${c}{…} is not supported`, at);
    }
    if (isDigit(cps[i - 1])) {
      let n = c;
      while (isDigit(peek())) n += ch(), i++;
      return fail(`backreference \\${n} is not supported`, at);
    }
    if (SYNTAX.has(c) || c === "/") return cps[i - 1];
    return fail(`\\${c} is not a known escape`, at);
  };

  const classAtom = (): number | CharSet => {
    const c = ch();
    i++;
    return c === "\\" ? escape(true) : cps[i - 1];
  };

  const charClass = (): Node => {
    const at = i - 1; // the [
    const negate = ch() === "^";
    if (negate) i++;
    const ranges: [number, number][] = [];
    while (ch() !== "]") {
      if (ch() === "") fail("class [ is not closed", at);
      const start = i;
      const a = classAtom();
      if (ch() === "-" && ch(1) !== "]" && ch(1) !== "") {
        i++;
        const b = classAtom();
        if (typeof a !== "number" || typeof b !== "number") {
          fail("a class escape cannot bound a range", start);
        }
        if ((a as number) > (b as number)) fail("range out of order in class", start);
        ranges.push([a as number, b as number]);
      } else if (typeof a === "number") ranges.push([a, a]);
      else ranges.push(...pairs(a));
    }
    i++;
    // Case is folded before negating: [^a] ignoring case matches neither a nor A.
    const set = fold(normalize(ranges));
    return { t: "set", set: negate ? complement(set) : set };
  };

  const quantifier = (): { min: number; max: number } | undefined => {
    const c = ch();
    let q: { min: number; max: number } | undefined;
    if (c === "*") q = { min: 0, max: Infinity };
    else if (c === "+") q = { min: 1, max: Infinity };
    else if (c === "?") q = { min: 0, max: 1 };
    else if (c === "{") {
      const at = i;
      i++;
      const num = () => {
        let s = "";
        while (isDigit(peek())) s += ch(), i++;
        return s;
      };
      const m = num();
      if (!m) fail("{ must start a count {m}, {m,} or {m,n}", at);
      let n = m;
      if (ch() === ",") {
        i++;
        n = num();
      }
      if (ch() !== "}") fail("{ must start a count {m}, {m,} or {m,n}", at);
      const min = Number(m), max = n === "" ? Infinity : Number(n);
      if (max < min) fail(`count {${m},${n}} is out of order`, at);
      if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) {
        fail(`count {${m}${m === n ? "" : `,${n}`}} is above ${MAX_REPEAT}`, at);
      }
      q = { min, max };
    } else return undefined;
    i++;
    if (ch() === "?") i++; // lazy: the same names match
    return q;
  };

  const group = (): Node => {
    const at = i - 1; // the (
    if (ch() === "?") {
      const next = ch(1);
      if (next === ":") i += 2;
      else if (next === "=" || next === "!") fail(`lookahead (?${next}…) is not supported`, at);
      else if (next === "<" && (ch(2) === "=" || ch(2) === "!")) {
        fail(`lookbehind (?<${ch(2)}…) is not supported`, at);
      } else if (next === "<") {
        const close = cps.indexOf(0x3e, i + 2);
        if (close < 0) fail("group name is not closed", at);
        i = close + 1;
      } else fail("inline modifiers (?…) are not supported", at);
    }
    const inner = disjunction();
    if (ch() !== ")") fail("group ( is not closed", at);
    i++;
    return inner;
  };

  const term = (): Node => {
    const at = i;
    const c = ch();
    i++;
    let atom: Node;
    switch (c) {
      case "^":
        return { t: "bol" };
      case "$":
        return { t: "eol" };
      case ".":
        atom = { t: "set", set: [0, MAX_CP] };
        break;
      case "[":
        atom = charClass();
        break;
      case "(":
        atom = group();
        break;
      case "\\": {
        const e = escape(false);
        atom = typeof e === "number" ? literal(e) : { t: "set", set: fold(e) };
        break;
      }
      case "*":
      case "+":
      case "?":
      case "{":
        return fail(`nothing to repeat before ${c}`, at);
      case ")":
        return fail("unmatched )", at);
      case "]":
      case "}":
        return fail(`lone ${c}`, at);
      default:
        atom = literal(cps[at]);
    }
    const q = quantifier();
    return q ? { t: "rep", item: atom, ...q } : atom;
  };

  const alternative = (): Node => {
    const items: Node[] = [];
    while (i < cps.length && ch() !== "|" && ch() !== ")") items.push(term());
    return items.length === 1 ? items[0] : { t: "cat", items };
  };

  const disjunction = (): Node => {
    const items = [alternative()];
    while (ch() === "|") {
      i++;
      items.push(alternative());
    }
    return items.length === 1 ? items[0] : { t: "alt", items };
  };

  const ast = disjunction();
  if (i < cps.length) fail("unmatched )");
  return ast;
}

// ---- NFA (Thompson), built back to front: compile(node, next) returns the state that starts `node` ----

const SET = 0, SPLIT = 1, BOL = 2, EOL = 3, MATCH = 4;
/** Transition table entries that are not DFA state ids. */
const UNKNOWN = -1, DEAD = -2;

interface Nfa {
  kind: number[];
  /** SET: index into `sets`; SPLIT: the second way out. */
  arg: number[];
  out: number[];
  sets: CharSet[];
  start: number;
}

/** NFA states `node` compiles to (stops counting past the limit). */
function size(node: Node): number {
  switch (node.t) {
    case "set":
    case "bol":
    case "eol":
      return 1;
    case "cat":
      return node.items.reduce((n, x) => n + size(x), 0);
    case "alt":
      return node.items.reduce((n, x) => n + size(x), node.items.length - 1);
    case "rep": {
      const one = size(node.item) + 1;
      const copies = node.max === Infinity ? node.min + 1 : node.max;
      return one * Math.max(copies, 1);
    }
  }
}

function buildNfa(ast: Node, source: string): Nfa {
  const need = size(ast) + 1;
  if (need > MAX_NFA_STATES) {
    throw new PatternError(
      `the pattern needs ${
        need > 1e9 ? "over a billion" : need
      } automaton states, at most ${MAX_NFA_STATES} are ` +
        `allowed (lower its {m,n} counts)`,
      source.indexOf("{") < 0 ? 0 : source.indexOf("{"),
    );
  }
  const nfa: Nfa = { kind: [], arg: [], out: [], sets: [], start: 0 };
  const setIds = new Map<string, number>();
  const add = (kind: number, arg: number, out: number) => {
    nfa.kind.push(kind);
    nfa.arg.push(arg);
    nfa.out.push(out);
    return nfa.kind.length - 1;
  };
  const compile = (node: Node, next: number): number => {
    switch (node.t) {
      case "set": {
        const key = node.set.join(",");
        let id = setIds.get(key);
        if (id === undefined) setIds.set(key, id = nfa.sets.push(node.set) - 1);
        return add(SET, id, next);
      }
      case "bol":
        return add(BOL, -1, next);
      case "eol":
        return add(EOL, -1, next);
      case "cat":
        for (let k = node.items.length - 1; k >= 0; k--) next = compile(node.items[k], next);
        return next;
      case "alt": {
        let start = compile(node.items[node.items.length - 1], next);
        for (let k = node.items.length - 2; k >= 0; k--) {
          start = add(SPLIT, start, compile(node.items[k], next));
        }
        return start;
      }
      case "rep": {
        let start = next;
        if (node.max === Infinity) {
          const loop = add(SPLIT, next, -1);
          nfa.out[loop] = compile(node.item, loop);
          start = loop;
        } else {
          // x{0,3} = (x(x(x)?)?)?: each optional copy may stop here.
          for (let k = node.min; k < node.max; k++) start = add(SPLIT, next, compile(node.item, start));
        }
        for (let k = 0; k < node.min; k++) start = compile(node.item, start);
        return start;
      }
    }
  };
  nfa.start = compile(ast, add(MATCH, -1, -1));
  return nfa;
}

// ---- lazy DFA: a state is the set of NFA SET states reachable after the name so far ----

function dfaMatcher(nfa: Nfa): Matcher {
  const { kind, arg, out, sets } = nfa;
  const n = kind.length;
  // Code points split into classes that every set treats alike: transitions are kept per class.
  const cuts = new Set<number>([0]);
  for (const s of sets) {
    for (let k = 0; k < s.length; k += 2) {
      cuts.add(s[k]);
      if (s[k + 1] < MAX_CP) cuts.add(s[k + 1] + 1);
    }
  }
  const bounds = Int32Array.from([...cuts].sort((a, b) => a - b));
  const classes = bounds.length;
  const classOf = (cp: number): number => {
    let lo = 0, hi = classes - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (bounds[mid] <= cp) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const ascii = Int32Array.from({ length: 128 }, (_, cp) => classOf(cp));
  // Which sets hold each class (tested once per class, on its first code point).
  const inSet: Uint8Array[] = sets.map((s) => Uint8Array.from(bounds, (b) => contains(s, b) ? 1 : 0));

  // Epsilon closure from `seeds`: the SET states reached, and whether MATCH is, with `^` passable only at the
  // start and `$` only at the end.
  const mark = new Int32Array(n);
  let generation = 0;
  const stack: number[] = [];
  const closure = (seeds: number[], atStart: boolean, atEnd: boolean, found: number[]): boolean => {
    generation++;
    let matched = false;
    for (const s of seeds) stack.push(s);
    while (stack.length) {
      const s = stack.pop()!;
      if (mark[s] === generation) continue;
      mark[s] = generation;
      switch (kind[s]) {
        case SET:
          found.push(s);
          break;
        case SPLIT:
          stack.push(arg[s], out[s]);
          break;
        case BOL:
          if (atStart) stack.push(out[s]);
          break;
        case EOL:
          if (atEnd) stack.push(out[s]);
          else found.push(s);
          break;
        case MATCH:
          matched = true;
      }
    }
    return matched;
  };

  // DFA states: the NFA SET states reached, whether the name may end there, and transitions per class (-1:
  // not computed yet). The cache is dropped whole when full and rebuilt as names need it.
  const maxStates = Math.max(8, Math.floor(DFA_CELLS / classes));
  let stateNodes: Int32Array[] = [];
  let accepting: boolean[] = [];
  let index = new Map<string, number>();
  let trans = new Int32Array(0);
  let epoch = 0;

  /** The DFA state for a closure's result: its SET states and pending `$` states, and whether MATCH was reached. */
  const intern = (found: number[], matched: boolean): number => {
    const sets: number[] = [], ends: number[] = [];
    for (const s of found) (kind[s] === SET ? sets : ends).push(s);
    sets.sort((a, b) => a - b);
    const accept = matched || (ends.length > 0 && closure(ends.map((s) => out[s]), false, true, []));
    const key = sets.join(",") + (accept ? "+" : "");
    let id = index.get(key);
    if (id !== undefined) return id;
    if (stateNodes.length >= maxStates) {
      stateNodes = [];
      accepting = [];
      index = new Map();
      trans = new Int32Array(0);
      epoch++;
    }
    id = stateNodes.length;
    stateNodes.push(Int32Array.from(sets));
    accepting.push(accept);
    index.set(key, id);
    if (trans.length < (id + 1) * classes) {
      const grown = new Int32Array(Math.max(2 * trans.length, 16 * classes)).fill(UNKNOWN);
      grown.set(trans);
      trans = grown;
    }
    return id;
  };

  // The empty name; the state before the first character (`^` passable there only).
  const emptyAccept = closure([nfa.start], true, true, []);
  let start = -1, startEpoch = -1;
  const startState = (): number => {
    if (startEpoch !== epoch) {
      const found: number[] = [];
      // MATCH here would only matter to the empty name, handled above.
      closure([nfa.start], true, false, found);
      start = intern(found, false);
      startEpoch = epoch;
    }
    return start;
  };

  // The state after `cls` from `state`; DEAD when no name going on from here can match.
  const step = (state: number, cls: number): number => {
    const next: number[] = [];
    for (const s of stateNodes[state]) if (inSet[arg[s]][cls]) next.push(out[s]);
    const found: number[] = [];
    const before = epoch;
    const matched = closure(next, false, false, found);
    const id = found.length === 0 && !matched ? DEAD : intern(found, matched);
    if (epoch === before) trans[state * classes + cls] = id;
    return id;
  };

  return {
    size: n,
    test(name: string): boolean {
      const len = name.length;
      if (len === 0) return emptyAccept;
      let s = startEpoch === epoch ? start : startState();
      // A local copy of the table for the loop; step() may grow or drop it, so it is read again after one.
      let table = trans;
      for (let k = 0; k < len; k++) {
        let cp = name.charCodeAt(k), cls;
        if (cp < 128) cls = ascii[cp];
        else {
          if (cp >= 0xd800 && cp <= 0xdbff && k + 1 < len) {
            const lo = name.charCodeAt(k + 1);
            if (lo >= 0xdc00 && lo <= 0xdfff) {
              cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
              k++;
            }
          }
          cls = classOf(cp);
        }
        let t = table[s * classes + cls];
        if (t === UNKNOWN) {
          t = step(s, cls);
          table = trans;
        }
        if (t === DEAD) return false;
        s = t;
      }
      return accepting[s];
    },
  };
}
