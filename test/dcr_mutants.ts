// Structure-aware DCR mutants for fuzzing: real DCR shapes with keys, values and types changed, seeded.
import { seededRandom } from "./helpers.ts";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

/** Names that live on Object.prototype (or are special to it): each must be read as a plain key. */
export const PROTOTYPE_NAMES = [
  "constructor",
  "__proto__",
  "toString",
  "valueOf",
  "hasOwnProperty",
  "isPrototypeOf",
  "propertyIsEnumerable",
  "toLocaleString",
  "__defineGetter__",
  "__lookupSetter__",
  "prototype",
];

/** Paths no file can have, or that belong to the other OS. */
const HOSTILE_PATHS = [
  "etc/passwd",
  "./x",
  "../../etc/shadow",
  "/etc/\u0000shadow",
  "\u0000",
  "C:\\Windows\\*.ini",
  "c:/temp/x.txt",
  "\\\\server\\share\\x",
  "/etc/passwd",
  "%windir%\\x",
  "%%",
  "C:",
  " ",
  "/" + "a/".repeat(3000),
  "/srv/in/(a+)+$",
  "/etc/(a|aa)*$",
  "/etc/(?<=x)y",
  "/etc/\\1",
  "/etc/[z-a]",
  "/etc/\ud800",
  "HKEY_LOCAL_MACHINE\\Software",
  "Software\\Microsoft",
  "HKLM\\x\u0000y",
];

/** Numbers as JSON text: some are not doubles at all (1e400 parses as Infinity). */
const NUMBER_TOKENS = [
  "0",
  "-0",
  "1",
  "9",
  "10",
  "300.5",
  "2592000",
  "2592001",
  "-1",
  "1e308",
  "-1e308",
  "1e400",
  "-1e400",
  "1e-400",
  "9007199254740993",
  "123456789012345678901234567890",
  "0.1",
];

const STRINGS = [
  "",
  "yes",
  "true",
  "900",
  "sha256",
  "SHA-256",
  "Follow",
  "follow",
  "Directory",
  "*",
  "ChangeTracking-Linux",
  "ChangeTracking-Windows",
  "x".repeat(5000),
  "\ud83d\ude00",
  "\ud800",
  ...PROTOTYPE_NAMES,
];

/** Marks a number token in a tree; replaced by the token's text when serialized. */
const NUM = "\u0001num:";
/** Marks a deeply nested value (`depth:kind:json`); expanded when serialized. */
const DEEP = "\u0001deep:";

export interface Mutant {
  /** The JSON text. */
  text: string;
  /** What was done, for a failure message. */
  ops: string[];
}

/** Mutations happen no deeper than this; what a nesting mutation put below it is shared, never walked. */
const WALK_DEPTH = 40;

/** A copy with null-prototype objects (so that a `__proto__` key is set as data), down to WALK_DEPTH. */
function clone(v: Json, depth = 0): Json {
  if (depth > WALK_DEPTH) return v;
  if (Array.isArray(v)) return v.map((x) => clone(x, depth + 1));
  if (v && typeof v === "object") {
    const o: Obj = Object.create(null);
    for (const [k, x] of Object.entries(v)) o[k] = clone(x, depth + 1);
    return o;
  }
  return v;
}

/** The containers in `v` (objects and arrays) down to WALK_DEPTH, with their paths: where to mutate. */
function containers(v: Json, path = "$", out: [Json[] | Obj, string][] = [], depth = 0) {
  if (depth > WALK_DEPTH) return out;
  if (Array.isArray(v)) {
    out.push([v, path]);
    v.forEach((x, i) => containers(x, `${path}[${i}]`, out, depth + 1));
  } else if (v && typeof v === "object") {
    out.push([v, path]);
    for (const [k, x] of Object.entries(v)) containers(x, `${path}.${k}`, out, depth + 1);
  }
  return out;
}

export function createMutator(seed: number) {
  const random = seededRandom(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(a: readonly T[]): T => a[int(a.length)];

  /**
   * `v` inside `depth` arrays and objects, as a marker expanded when serialized: JSON.stringify itself cannot
   * write 100,000 levels.
   */
  const nest = (v: Json, depth: number): Json =>
    `${DEEP}${depth}:${random() < 0.5 ? "[" : "o"}:${JSON.stringify(v)}`;

  function value(depth = 0): Json {
    switch (int(depth > 2 ? 5 : 9)) {
      case 0:
        return null;
      case 1:
        return random() < 0.5;
      case 2:
        return `${NUM}${pick(NUMBER_TOKENS)}`;
      case 3:
        return pick(STRINGS);
      case 4:
        return pick(HOSTILE_PATHS);
      case 5:
        return Array.from({ length: int(4) }, () => value(depth + 1));
      case 6: {
        const o: Obj = Object.create(null);
        for (let i = int(4); i > 0; i--) {
          o[pick([...PROTOTYPE_NAMES, "path", "enableFiles", "x"])] = value(depth + 1);
        }
        return o;
      }
      case 7:
        return nest(pick(STRINGS), pick([3, 31, 32, 33, 200]));
      default:
        return Array.from({ length: pick([0, 1, 200]) }, () => pick(STRINGS));
    }
  }

  const renamed = (key: string) => {
    switch (int(5)) {
      case 0:
        return key.toUpperCase();
      case 1:
        return key.toLowerCase();
      case 2:
        return pick(PROTOTYPE_NAMES);
      case 3:
        return key + " ";
      default:
        return pick(["destinationPath", "path", "fileinfo", "serviceSettings", "Sha256", "", "\u0000"]);
    }
  };

  /** One mutation somewhere in `root`; returns what it did. */
  function mutate(root: Json): string {
    const all = containers(root);
    if (!all.length) return "nothing to mutate";
    const [node, path] = pick(all);
    if (Array.isArray(node)) {
      const i = int(node.length + 1);
      switch (int(5)) {
        case 0:
          node.splice(i, 1);
          return `${path}: removed [${i}]`;
        case 1:
          if (node.length) node.push(clone(node[int(node.length)]));
          return `${path}: duplicated an element`;
        case 2:
          node[i] = value();
          return `${path}[${i}] = random value`;
        case 3:
          if (node.length) node.splice(0, node.length, ...Array(pick([2, 20])).fill(node[0]).map(clone));
          return `${path}: first element repeated`;
        default:
          node.length = 0;
          return `${path}: emptied`;
      }
    }
    const keys = Object.keys(node);
    const key = keys.length ? pick(keys) : "x";
    switch (int(9)) {
      case 0:
        delete node[key];
        return `${path}.${key}: deleted`;
      case 1: {
        const to = renamed(key);
        const v = node[key];
        delete node[key];
        node[to] = v;
        return `${path}.${key}: renamed ${JSON.stringify(to)}`;
      }
      case 2: {
        const name = pick(PROTOTYPE_NAMES);
        node[name] = random() < 0.5 ? value() : clone(node[key] ?? null);
        return `${path}.${name}: added`;
      }
      case 3:
        node[key] = pick(HOSTILE_PATHS);
        return `${path}.${key} = hostile path`;
      case 4:
        node[key] = `${NUM}${pick(NUMBER_TOKENS)}`;
        return `${path}.${key} = number`;
      case 5:
        node[key] = nest(node[key] ?? null, random() < 0.05 ? 100_000 : pick([5, 31, 32, 33, 1000]));
        return `${path}.${key}: nested deeper`;
      case 6:
        // A value of the wrong type: a string where an object was, an object where a string was.
        node[key] = typeof node[key] === "object" ? pick(STRINGS) : value(1);
        return `${path}.${key}: type changed`;
      case 7: {
        // An enum or id in another spelling.
        const v = node[key];
        node[key] = typeof v === "string"
          ? (random() < 0.5 ? v.toUpperCase() : pick(STRINGS))
          : pick(STRINGS);
        return `${path}.${key}: string changed`;
      }
      default:
        node[key] = value();
        return `${path}.${key} = random value`;
    }
  }

  const serialize = (v: Json) => {
    let text = JSON.stringify(v);
    // A deep marker may hold others (it was nested again): expand until none is left.
    for (let before = ""; before !== text;) {
      before = text;
      text = text.replace(
        /"\\u0001deep:(\d+):(.):((?:[^"\\]|\\.)*)"/g,
        (_, depth: string, kind: string, inner) => {
          const n = Number(depth);
          const json = JSON.parse(`"${inner}"`);
          return kind === "["
            ? "[".repeat(n) + json + "]".repeat(n)
            : '{"a":'.repeat(n) + json + "}".repeat(n);
        },
      );
    }
    return text.replace(/"\\u0001num:([^"]*)"/g, (_, token: string) => token);
  };

  /** A mutant of one of `seeds`: 1–4 tree mutations, sometimes a text mutation on top. */
  return function next(seeds: readonly Json[]): Mutant {
    const si = int(seeds.length);
    const tree = clone(seeds[si]);
    const ops = [`seed ${si}`];
    for (let n = 1 + int(4); n > 0; n--) ops.push(mutate(tree));
    let text = serialize(tree);
    // The AgentTaggedData form carries its DCR as a JSON string inside JSON: mutate inside it too.
    if (tree && typeof tree === "object" && !Array.isArray(tree) && typeof tree.TaggedData === "string") {
      let inner: Json | undefined;
      try {
        inner = clone(JSON.parse(tree.TaggedData));
      } catch {
        // mutated into something that is no JSON: left so
      }
      if (inner !== undefined) {
        ops.push(`TaggedData: ${mutate(inner)}`);
        tree.TaggedData = serialize(inner);
        text = serialize(tree);
      }
    }
    switch (int(12)) {
      case 0: {
        const cut = int(text.length);
        ops.push(`truncated at ${cut}`);
        text = text.slice(0, cut);
        break;
      }
      case 1: {
        const at = int(text.length);
        ops.push(`byte ${at} changed`);
        text = text.slice(0, at) + pick(['"', "{", "]", ",", "\\", "\u0000", "9"]) + text.slice(at + 1);
        break;
      }
    }
    return { text, ops };
  };
}

/** Reads a problem's JSON path (`a.b[0]["odd key"]`) back into keys. */
export function pathKeys(path: string): (string | number)[] | undefined {
  const keys: (string | number)[] = [];
  const re = /^(?:\.?([A-Za-z_$][\w$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|("(?:[^"\\]|\\.)*"))/;
  let rest = path;
  while (rest) {
    const m = re.exec(rest);
    if (!m) return undefined;
    keys.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : JSON.parse(m[3] ?? m[4])));
    rest = rest.slice(m[0].length);
  }
  return keys;
}
