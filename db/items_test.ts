import assert from "node:assert/strict";
import { openDb } from "./open.ts";
import {
  compactItem,
  itemWriter,
  newItemWriter,
  SLOTS,
  storedChecksums,
  storedFingerprints,
  storedUnreadable,
} from "./items.ts";

/** Items written by a run's writers, read back through the items view: the same JSON and fingerprint. */
async function roundTrip(items: { key: string; json: string; fp?: string | null; error?: string }[]) {
  const { raw, close } = await openDb(":memory:");
  try {
    raw.exec("BEGIN");
    const fresh = newItemWriter(raw, "c", 1);
    for (const i of items.slice(0, items.length >> 1)) {
      assert.ok(fresh.insert(i.key, null, i.json, i.error ?? null, i.fp ?? null));
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
    const back = new Map(
      (raw.prepare("SELECT key, data, fingerprint FROM items WHERE collector = 'c'").all() as {
        key: string;
        data: string;
        fingerprint: string | null;
      }[]).map((r) => [r.key, r]),
    );
    for (const i of items) {
      assert.equal(back.get(i.key)?.data, i.json, `item ${JSON.stringify(i.key)}`);
      assert.equal(back.get(i.key)?.fingerprint, i.fp ?? null, `fingerprint of ${JSON.stringify(i.key)}`);
    }
    // What a run reads from item_rows itself is what the view says, a page at a time.
    const view = (value: string, where: string) =>
      (raw.prepare(`SELECT key, ${value} FROM items WHERE collector = 'c' AND ${where} ORDER BY key`)
        .all() as {
          key: string;
          [v: string]: string;
        }[]).map((r) => [r.key, r[value]]);
    const paged = (rows: ReturnType<typeof storedFingerprints>["rows"]) => {
      const out: [string, string][] = [];
      for (
        let page = rows({ from: "" }, 7);
        page.length;
        page = rows({ after: page[page.length - 1][0] }, 7)
      ) {
        out.push(...page);
      }
      return out;
    };
    const prints = view("fingerprint", "fingerprint IS NOT NULL");
    assert.ok(prints.length > 100);
    assert.deepEqual(paged(storedFingerprints(raw, "c").rows), prints);
    assert.deepEqual(
      paged(storedChecksums(raw, "c").rows),
      view("checksum", "fingerprint IS NULL AND error IS NULL"),
    );
    const some = storedUnreadable(raw, "c", "r.key <> '/h/</script>'", 3);
    const unreadable: string[] = [];
    for (let page = some(null); page.length; page = some(page[page.length - 1].key)) {
      unreadable.push(...page.map((r) => `${r.key} ${r.error} ${r.json}`));
    }
    assert.equal(unreadable.length, 7);
    assert.deepEqual(
      unreadable,
      view("error || ' ' || data", "fingerprint IS NULL AND error IS NOT NULL AND key <> '/h/</script>'")
        .map(([k, d]) => `${k} ${d}`),
    );
    return raw.prepare("SELECT key, data IS NULL AS compact FROM item_rows").all()
      .map((r) => r as { key: string; compact: number });
  } finally {
    await close();
  }
}

const fileItem = (path: string, more: Record<string, unknown> = {}) => ({
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

Deno.test("item rows: files items, hostile strings, numbers and times come back as the very same JSON", async () => {
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
  const rows = new Map((await roundTrip(items)).map((r) => [r.key, r.compact]));
  // The items that fit are kept without their JSON; the others with it.
  for (
    const k of [
      "/f",
      "/other-path",
      "/upper",
      "/times",
      "/ints",
      "/prefix",
      "/longer",
      '/h/a"b\\c',
      "/random/7",
    ]
  ) {
    assert.equal(rows.get(k), 1, k);
  }
  for (
    const k of ["/big", "/float", "/bool", "/nested", "/empty", "/wide", "/escaped-name", "/marked-print"]
  ) {
    assert.equal(rows.get(k), 0, k);
  }
});

Deno.test("compactItem() keeps a files item in 17 values: its key, SHA-256 and times not as text", () => {
  const c = compactItem(JSON.stringify(fileItem("/f")), "/f");
  assert.ok(c);
  assert.equal(JSON.parse(c.fields).length, 17);
  assert.deepEqual(c.values.slice(0, 5), [
    new Uint8Array(0),
    "File",
    457n,
    Date.UTC(2026, 11, 4, 11, 43, 45, 677),
    0,
  ]);
  assert.equal((c.values[13] as Uint8Array).length, 32);
});
