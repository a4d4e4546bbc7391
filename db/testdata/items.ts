// Items for the items tests: files items and hostile values as a run's writers store them (items_test.ts, the
// migration tests of the items view).
import assert from "node:assert/strict";
import type { DatabaseSync } from "node:sqlite";
import { itemWriter, newItemWriter, SLOTS } from "../items.ts";

/** An item to store: its JSON as a collector made it, its fingerprint and error. */
export interface TestItem {
  key: string;
  json: string;
  fp?: string | null;
  error?: string;
}

/**
 * Stores `items` of collector "c" in one transaction, the first half as a baseline writes (with the item itself
 * where its JSON is JSON.stringify of what JSON.parse makes of it, as a baseline has it), the rest as a run.
 */
export function writeItems(raw: DatabaseSync, items: TestItem[]): void {
  raw.exec("BEGIN");
  const fresh = newItemWriter(raw, "c", 1);
  for (const i of items.slice(0, items.length >> 1)) {
    const item = JSON.parse(i.json);
    const whole = JSON.stringify(item) === i.json ? item : undefined;
    assert.ok(fresh.insert(i.key, null, i.json, i.error ?? null, i.fp ?? null, whole));
  }
  itemWriter(raw, "c", 2).write(
    items.slice(items.length >> 1).map((i) => ({
      key: i.key,
      checksum: "x",
      json: i.json,
      error: i.error ?? null,
      changed: true,
      fingerprint: i.fp ?? null,
    })),
  );
  raw.exec("COMMIT");
}

export const fileItem = (path: string, more: Record<string, unknown> = {}) => ({
  FileSystemPath: path,
  FileType: "File",
  Size: 457,
  DateCreated: "2026-12-04T11:43:45.677Z",
  DateModified: "1970-01-01T00:00:00.000Z",
  Mode: "0644",
  Acls: "user::rw-,group::r--,other::r--",
  OwnerId: 0,
  Owner: "root",
  GroupId: 0,
  Group: null,
  Inode: "15343641",
  LinkTarget: null,
  FileContentChecksum: "50298e370dcc3fdeb3ca7889b44ee0b135ca217830fee86c9366ed890be30ca4",
  GroupTag: "bench",
  RuleName: "bench",
  StatKey: "1f4yn2x.bhdoob",
  ...more,
});

/** 226 items: hostile strings, numbers, times, shapes and fingerprints of every kind a row keeps or not. */
export function hostileItems(): TestItem[] {
  const hostile = [
    'a"b\\c',
    "tab\there\nnl\u0001\u001f\u007f",
    "é ☃ 😀 \u2028",
    "\udc80 lone",
    "</script>",
    "",
  ];
  const items = [
    // Keys as SQLite can keep them (well-formed text); values of any kind.
    ...hostile.map((s) => s.isWellFormed() ? `/h/${s}` : "/h/lone").map((k, n) => ({
      key: k,
      json: JSON.stringify(fileItem(k, { Owner: hostile[n], Inode: hostile[n] })),
      error: `cannot read ${hostile[n]}`,
    })),
    { key: "/f", json: JSON.stringify(fileItem("/f")), fp: "1f4yn2x.bhdoob:nh90j0.t911xu" },
    { key: "/other-path", json: JSON.stringify(fileItem("/not-the-key")), fp: "1f4yn2x.bhdoob" },
    {
      key: "/upper",
      json: JSON.stringify(
        fileItem("/upper", {
          FileContentChecksum: "50298E370DCC3FDEB3CA7889B44EE0B135CA217830FEE86C9366ED890BE30CA4",
        }),
      ),
    },
    { key: "/short", json: JSON.stringify(fileItem("/short", { FileContentChecksum: "abc" })) },
    {
      key: "/times",
      json: JSON.stringify(
        fileItem("/times", {
          DateCreated: "9999-12-31T23:59:59.999Z",
          DateModified: "1969-12-31T23:59:59.999Z",
        }),
      ),
    },
    {
      key: "/not-iso",
      json: JSON.stringify(
        fileItem("/not-iso", {
          DateCreated: "2026-02-30T00:00:00.000Z",
          DateModified: "2026-12-04 11:43:45",
        }),
      ),
    },
    { key: "/ints", json: JSON.stringify({ a: -5, b: 0, c: 2 ** 53 - 1, d: -(2 ** 53 - 1) }) },
    // Shapes that begin as the one before and end sooner or later.
    { key: "/prefix", json: JSON.stringify({ a: 1, b: 2 }) },
    { key: "/longer", json: JSON.stringify({ a: 1, b: 2, e: "x" }) },
    { key: "/big", json: JSON.stringify({ a: 2 ** 53 }) },
    { key: "/float", json: JSON.stringify({ a: 1.5, b: 1e21 }) },
    { key: "/bool", json: JSON.stringify({ a: true }) },
    { key: "/nested", json: JSON.stringify({ a: [1, "x"], b: { c: null } }) },
    { key: "/empty", json: "{}" },
    {
      key: "/wide",
      json: JSON.stringify(Object.fromEntries(Array.from({ length: SLOTS + 1 }, (_, i) => [`f${i}`, i]))),
    },
    { key: "/escaped-name", json: JSON.stringify({ 'a"b': 1 }) },
    // A value whose JSON (not the value) is the key: the row must not mark it as the key.
    { key: '/k\\"q', json: JSON.stringify({ Name: '/k"q', Other: "/k\\q" }) },
    // Names an object does not keep as written (JSON.parse keeps the last of two, and `__proto__` as its own).
    { key: "/twice", json: '{"a":1,"b":"x","a":2}' },
    { key: "/proto", json: '{"__proto__":"x","b":1}' },
    { key: "/marked-print", json: JSON.stringify(fileItem("/marked-print")), fp: "\u0003abc" },
    ...Array.from({ length: 200 }, (_, n) => {
      const t = new Date(Math.floor(Math.random() * 253402300799999)).toISOString();
      // Most with a fingerprint that begins with their StatKey (kept compact), some with one that begins
      // with another of their values, or with none.
      const statKey = `${n.toString(36)}.stat-key`;
      const fp = [`${statKey}:tail${n}`, `/random/${n}:tail`, `${statKey}`, null][n % 4];
      return {
        key: `/random/${n}`,
        json: JSON.stringify(
          fileItem(`/random/${n}`, { DateModified: t, StatKey: statKey, Owner: `owner-${n}:x` }),
        ),
        fp,
        error: n % 4 === 3 && n < 8 ? `error ${n}` : undefined,
      };
    }),
  ];
  return items;
}
