import assert from "node:assert/strict";
import { gaps, REPORTED, StoredWindow } from "./previous.ts";
import { keyOrder } from "../key_order.ts";

/** A stored collection in memory, read as the items table is: in key order. */
function store(keys: string[]) {
  const sorted = [...new Set(keys)].sort(keyOrder);
  const value = (k: string) => `v:${k}`;
  const index = (k: string, inclusive: boolean) => {
    let lo = 0, hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (keyOrder(sorted[mid], k) < 0 || (!inclusive && sorted[mid] === k)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  let reads = 0;
  const window = (size: number) =>
    new StoredWindow(
      (start, limit) => {
        reads++;
        const i = "after" in start ? index(start.after, false) : index(start.from, true);
        return sorted.slice(i, i + limit).map((k) => [k, value(k)]);
      },
      (after, before, limit) => {
        const i = after === null ? 0 : index(after, false);
        const j = before === null ? sorted.length : index(before, true);
        return sorted.slice(i, Math.min(j, i + limit));
      },
      size,
    );
  return { sorted, value, window, reads: () => reads };
}

function random(seed: number) {
  return () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

const unreported = (w: StoredWindow) => [...w.unreported(7)].flat().sort(keyOrder);

Deno.test("StoredWindow: asked in key order, each stored row is read once; the unasked ones are unreported", () => {
  const keys = Array.from({ length: 5000 }, (_, i) => `/t/${String(i).padStart(5, "0")}`);
  const s = store(keys);
  const w = s.window(64);
  const asked = keys.filter((_, i) => i % 10 !== 3); // a tenth gone
  const added = asked.filter((_, i) => i % 100 === 5).map((k) => `${k}-new`); // and some new keys
  for (const k of [...asked, ...added].sort(keyOrder)) {
    const v = w.get(k);
    assert.equal(v, k.endsWith("-new") ? undefined : s.value(k));
    if (v !== undefined) w.report(k);
    assert.equal(w.get(k), v === undefined ? undefined : REPORTED, "asked again: reported");
  }
  assert.deepEqual(unreported(w), keys.filter((_, i) => i % 10 === 3));
  assert.ok(w.loaded <= keys.length + 64, `read ${w.loaded} rows for ${keys.length}`);
});

Deno.test("StoredWindow: any order of asking gives the same answers, and the unasked stored keys", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const r = random(seed);
    // Some keys hold characters above U+FFFF, which JavaScript's own order puts elsewhere than SQLite does.
    const key = (n: number) => n % 7 === 0 ? `k\u{1F600}${n}` : n % 7 === 1 ? `k\ufffd${n}` : `k${n}`;
    const keys = Array.from({ length: 1 + Math.floor(r() * 400) }, () => key(Math.floor(r() * 1000)));
    const s = store(keys);
    const w = s.window(1 + Math.floor(r() * 20));
    const reported = new Set<string>();
    // Runs in key order with jumps back (several walks, linked directories), new keys, duplicates.
    const asks: string[] = [];
    for (let run = 0; run < 4; run++) {
      const part = Array.from({ length: Math.floor(r() * 300) }, () => key(Math.floor(r() * 1100))).sort(
        keyOrder,
      );
      asks.push(...part);
    }
    if (seed % 5 === 0) asks.sort(() => r() - 0.5);
    for (const k of asks) {
      const stored = s.sorted.includes(k);
      const expect = !stored ? undefined : reported.has(k) ? REPORTED : s.value(k);
      assert.equal(w.get(k), expect, `seed ${seed}: ${k}`);
      if (stored) {
        w.report(k);
        reported.add(k);
      }
    }
    assert.deepEqual(unreported(w), s.sorted.filter((k) => !reported.has(k)), `seed ${seed}`);
  }
});

Deno.test("StoredWindow: nothing asked, everything unreported; nothing stored, nothing unreported", () => {
  const s = store(["a", "b", "c"]);
  assert.deepEqual(unreported(s.window(2)), ["a", "b", "c"]);
  const e = store([]).window(2);
  assert.equal(e.get("x"), undefined);
  assert.deepEqual(unreported(e), []);
});

Deno.test("gaps() lists what lies between, before and after ranges, merging the ones that overlap", () => {
  assert.deepEqual(gaps([]), [[null, null]]);
  assert.deepEqual(gaps([["c", "f"], ["a", "b"]]), [[null, "a"], ["b", "c"], ["f", null]]);
  assert.deepEqual(gaps([["a", "d"], ["b", "c"], ["c", "e"]]), [[null, "a"], ["e", null]]);
  assert.deepEqual(gaps([["b", null], ["a", "c"]]), [[null, "a"]]);
});

Deno.test("StoredWindow: reportRange() marks a range reported without reading its rows; gone keys around it stay unreported", () => {
  const keys = ["a", "b", "c", "d"].flatMap((d) =>
    Array.from({ length: 100 }, (_, i) => `/t/${d}/${i + 100}`)
  );
  for (const size of [8, 64, 1024]) {
    const s = store(keys);
    const w = s.window(size);
    const ask = (k: string) => {
      assert.equal(w.get(k), s.value(k));
      w.report(k);
    };
    // /t/a asked but one; /t/b and /t/c as ranges, none asked; /t/d asked but one.
    for (const k of keys.filter((k) => k.startsWith("/t/a/") && k !== "/t/a/150")) ask(k);
    assert.equal(w.reportRange("/t/b/", "/t/b/199"), true);
    assert.equal(w.reportRange("/t/c/", "/t/c/199"), true);
    for (const k of keys.filter((k) => k.startsWith("/t/d/") && k !== "/t/d/120")) ask(k);
    assert.deepEqual(unreported(w), ["/t/a/150", "/t/d/120"], `window of ${size}`);
    assert.equal(w.get("/t/b/110"), REPORTED, "asked after all: reported");
    if (size < 100) assert.ok(w.loaded < 250 + 3 * size, `read ${w.loaded} rows of ${keys.length}`);
  }
});

Deno.test("StoredWindow: reportRange() of a range behind the window reads it again; nothing else changes", () => {
  const keys = Array.from({ length: 50 }, (_, i) => `/k/${i + 10}`);
  const s = store(keys);
  const w = s.window(8);
  for (const k of keys.slice(0, 40)) if (k !== "/k/33") w.get(k), w.report(k);
  assert.equal(w.reportRange("/k/1", "/k/19"), true);
  assert.deepEqual(unreported(w), ["/k/33", ...keys.slice(40)].sort(keyOrder));
});
