import assert from "node:assert/strict";
import { fileFingerprint, isFingerprintOf, statKey } from "./fingerprint.ts";
import { hash64 } from "../../hash64.ts";
import type { Stat } from "../../host/files/libc_posix.ts";

/** The stat key as stored fingerprints hold it: hash64 of the stat's numbers as text. */
const storedKey = (s: Stat) =>
  hash64(`${s.dev}:${s.ino}:${s.size}:${s.mtimeSec}.${s.mtimeNsec}:${s.ctimeSec}.${s.ctimeNsec}`);

const stat = (more: Partial<Stat>): Stat => ({
  nlink: 1,
  uid: 0,
  gid: 0,
  mode: 0o100644,
  ino: "15343641",
  size: 457,
  blocks: 8,
  btimeSec: null,
  btimeNsec: 0,
  ctimeSec: 1796429374,
  ctimeNsec: 695000001,
  mtimeSec: 1796429374,
  mtimeNsec: 0,
  dev: "259:1",
  ...more,
});

Deno.test("statKey() is the stat key fingerprints stored before hold, for every kind of number", () => {
  const cases: Partial<Stat>[] = [
    {},
    { size: 0, mtimeSec: 0, mtimeNsec: 0, ctimeSec: 0, ctimeNsec: 0 },
    { mtimeSec: -1, mtimeNsec: 999999999, ctimeSec: -62135596800 }, // before 1970, year 1
    { size: 2 ** 53 - 1, ino: "18446744073709551615", dev: "4294967295:4294967295" },
    { size: 2 ** 60 }, // past 2^53: String() writes it rounded, and so must the key
    { size: 2 ** 53 + 2, mtimeSec: -(2 ** 62) },
    { mtimeSec: -0 },
    { ctimeSec: 253402300799, mtimeSec: 10, mtimeNsec: 10, ctimeNsec: 100000000 },
    // Where the digits are written one way or the other: around 2^31, 10^9 and its multiples.
    { size: 2 ** 31 - 1, mtimeSec: 2 ** 31, ctimeSec: -(2 ** 31), mtimeNsec: 1e9 - 1 },
    { size: 1e9, mtimeSec: 1e9 - 1, ctimeSec: 2 ** 31 + 1, ctimeNsec: 1e8 },
    { size: 2 * 1e9 + 7, mtimeSec: 1e18 + 3, ctimeSec: 9007199254740991 - 1e9 },
    { size: 4 * 2 ** 30, mtimeSec: -(1e9 * 5), ctimeSec: 10 ** 15 },
  ];
  for (let i = 0; i < 2000; i++) {
    const r = (n: number) => Math.floor(Math.random() * n);
    cases.push({
      size: r(2) ? r(1e6) : r(2 ** 53),
      ino: String(r(2 ** 40)),
      dev: `${r(300)}:${r(64)}`,
      mtimeSec: r(2 ** 34) - 2 ** 33,
      mtimeNsec: r(1e9),
      ctimeSec: r(2 ** 31),
      ctimeNsec: r(1e9),
    });
  }
  for (const c of cases) {
    const s = stat(c);
    assert.equal(statKey(s), storedKey(s), JSON.stringify(c));
  }
});

Deno.test("isFingerprintOf() says equal exactly when fileFingerprint() makes the same text", () => {
  const rules = [{ name: "r", groupTag: "g" }, { name: "r2", groupTag: "g" }];
  const stats = [stat({}), stat({ size: 1 }), stat({ size: 2 ** 31 })];
  const keys = stats.map(storedKey);
  const owners = [null, "root", "ro", "root:x"];
  const links = [null, "/target", "t"];
  const captures = ["", "r", "rn", "N"];
  const prints = new Set<string>();
  const args: Parameters<typeof fileFingerprint>[] = [];
  for (const k of keys) {
    for (const o of owners) {
      for (const g of [null, "root"]) {
        for (const l of links) {
          for (const rule of rules) {
            for (const c of captures) {
              args.push([k, o, g, l, rule, c]);
              prints.add(fileFingerprint(k, o, g, l, rule, c));
            }
          }
        }
      }
    }
  }
  // Near misses too: one character more, fewer, or changed, at either end, and either side of the key's dot.
  for (const p of [...prints]) {
    prints.add(p + ":").add(p.slice(1)).add(p.slice(0, -1)).add("x" + p).add(p.slice(0, -1) + "x");
    const dot = p.indexOf(".");
    prints.add(p.slice(0, dot) + "0" + p.slice(dot)).add(p.slice(0, dot + 1) + "0" + p.slice(dot + 1));
  }
  let equal = 0;
  for (const a of args) {
    const s = stats[keys.indexOf(a[0])];
    for (const p of prints) {
      const same = p === fileFingerprint(...a);
      equal += Number(same);
      const [, ...rest] = a;
      assert.equal(
        isFingerprintOf(p, s, ...rest),
        same,
        `${JSON.stringify(p)} against ${JSON.stringify(a)}`,
      );
    }
  }
  assert.equal(equal, args.length);
});
