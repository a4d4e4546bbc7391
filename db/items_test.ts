import assert from "node:assert/strict";
import { openDb } from "./open.ts";
import { fileItem, hostileItems, type TestItem, writeItems } from "./testdata/items.ts";
import {
  compactItem,
  compactObject,
  countItems,
  isoMs,
  itemFieldPages,
  itemObject,
  itemTextPages,
  itemValuePages,
  storedChecksums,
  storedFingerprints,
  storedUnreadable,
} from "./items.ts";

/** Items written by a run's writers, read back through the items view: the same JSON and fingerprint. */
async function roundTrip(items: TestItem[]) {
  const { raw, close } = await openDb(":memory:");
  try {
    writeItems(raw, items);
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
    // What itemFieldPages reads (pages of 100) is what JSON.parse makes of the view's JSON: names and values.
    const parsed =
      (raw.prepare("SELECT key, data, error FROM items WHERE collector = 'c' ORDER BY key").all() as {
        key: string;
        data: string;
        error: string | null;
      }[]).map((r) => {
        const item = JSON.parse(r.data);
        return { key: r.key, error: r.error, names: Object.keys(item), values: Object.values(item) };
      });
    assert.ok(parsed.length > 200);
    const fields = [...itemFieldPages(raw, "c")].flat();
    assert.deepEqual(fields, parsed);
    // And as objects: the same members in the same order, `__proto__` one of them.
    assert.deepEqual(
      fields.map((f) => JSON.stringify(itemObject(f))),
      parsed.map((p) => JSON.stringify(Object.fromEntries(p.names.map((n, i) => [n, p.values[i]])))),
    );
    assert.equal(
      JSON.stringify(itemObject(fields.find((f) => f.key === "/proto")!)),
      '{"__proto__":"x","b":1}',
    );
    // One field's values (itemValuePages) are the parsed JSON's, undefined where an item has no such field.
    for (
      const field of [
        "FileSystemPath",
        "Size",
        "DateModified",
        "FileContentChecksum",
        "Owner",
        "a",
        "e",
        "__proto__",
        "none",
      ]
    ) {
      assert.deepEqual(
        [...itemValuePages(raw, "c", field)].flat(),
        parsed.map((p) => [p.key, p.names.includes(field) ? p.values[p.names.indexOf(field)] : undefined]),
        field,
      );
    }
    // What itemTextPages writes is the view's JSON itself.
    assert.deepEqual(
      [...itemTextPages(raw, "c")].flat(),
      raw.prepare("SELECT key, data, error FROM items WHERE collector = 'c' ORDER BY key").all()
        .map((r) => ({ ...r })),
    );
    return raw.prepare("SELECT key, data IS NULL AS compact FROM item_rows").all()
      .map((r) => r as { key: string; compact: number });
  } finally {
    await close();
  }
}

Deno.test("item rows: files items, hostile strings, numbers and times come back as the very same JSON", async () => {
  const items = hostileItems();
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
      "/twice",
      "/proto",
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

Deno.test("isoMs() reads a time exactly where Date.parse and toISOString agree on it, from 1970 on", () => {
  const byDate = (s: string) => {
    const t = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(s) ? Date.parse(s) : NaN;
    return t >= 0 && new Date(t).toISOString() === s ? t : NaN;
  };
  const texts = [
    "1970-01-01T00:00:00.000Z",
    "1969-12-31T23:59:59.999Z",
    "0099-06-01T00:00:00.000Z",
    "9999-12-31T23:59:59.999Z",
    "2024-02-29T12:00:00.000Z",
    "2023-02-29T12:00:00.000Z",
    "2000-02-29T00:00:00.000Z",
    "2100-02-29T00:00:00.000Z",
    "2026-04-31T00:00:00.000Z",
    "2026-13-01T00:00:00.000Z",
    "2026-00-10T00:00:00.000Z",
    "2026-01-00T00:00:00.000Z",
    "2026-01-01T24:00:00.000Z",
    "2026-01-01T23:60:00.000Z",
    "2026-01-01T23:59:60.000Z",
    "2026-12-04 11:43:45.677Z",
    "2026-12-04T11:43:45.677",
    "+002026-12-04T11:43:45.677Z",
    "",
    ...Array.from(
      { length: 2000 },
      () => new Date(Math.floor(Math.random() * 253402300799999)).toISOString(),
    ),
  ];
  for (const s of texts) assert.ok(Object.is(isoMs(s), byDate(s)), s);
  // Asked again (the last two are kept): the same.
  for (const s of texts.slice(0, 4)) assert.ok(Object.is(isoMs(s), byDate(s)), s);
});

Deno.test("compactObject() of an item is compactItem() of its JSON, or null where only the JSON can say", () => {
  // Values are copied at once: both reuse the buffers of the SHA-256s they make.
  const copy = (c: ReturnType<typeof compactItem>) =>
    c && { fields: c.fields, values: c.values.map((v) => v instanceof Uint8Array ? v.slice() : v) };
  const items: [string, Record<string, unknown>][] = [
    ...hostileItems().map((i): [string, Record<string, unknown>] => [i.key, JSON.parse(i.json)]),
    ["/pair", fileItem("/pair", { Owner: "😀", Group: "a\u0000b" })],
    ["/lone", fileItem("/lone", { Owner: "x\udc80", Group: "\ud800" })],
    ["/ctl", fileItem("/ctl", { Owner: "\u007f\u2028\u2029", Group: "\n" })],
    ["/neg-zero", { a: -0, b: "/neg-zero" }],
    ["/nan", { a: NaN, b: Infinity }],
    ["/undefined", { a: undefined, b: 1 }],
    ["/function", { a: () => 1, b: 1 }],
    ["/date", { a: new Date(0) }],
    ["/names", { "tab\there": 1 }],
    ["/surrogate-name", { "\ud83d\ude00": 1 }],
    ["/index", { b: 1, 2: "x", 1: "y" }],
    ["/empty", {}],
    ["/inherited", Object.assign(Object.create({ up: "x" }), { b: "/inherited" })],
  ];
  let fast = 0;
  for (const [key, item] of items) {
    const json = JSON.stringify(item);
    const made = copy(compactObject(item, key, !json.includes("\\")));
    const read = copy(compactItem(json, key));
    if (made === null) continue;
    fast++;
    assert.deepEqual(made, read, key);
  }
  // Files items (hostile strings in them too) are made from the object, not left to the JSON.
  for (const key of ["/f", "/h/tab\there\nnl\u0001\u001f\u007f", "/pair", "/lone", "/ctl", "/random/3"]) {
    const item = items.find(([k]) => k === key)![1];
    assert.ok(compactObject(item, key, !JSON.stringify(item).includes("\\")), key);
  }
  assert.ok(fast > 200, `${fast} made from the object`);
});

Deno.test("a value marked as the row's key is read as the items view writes it, a key with escapes too", async () => {
  const { raw, close } = await openDb(":memory:");
  try {
    const keys = ['/k\\"q', "/tab\there\u0001", "/plain"];
    writeItems(raw, keys.map((key) => ({ key, json: JSON.stringify({ Name: "x", Size: 1 }) })));
    // The mark (no bytes) as rows stored before compactItem kept it to keys without escapes had it.
    raw.prepare("UPDATE item_rows SET v0 = x'' WHERE collector = 'c'").run();
    const view = raw.prepare("SELECT key, data, error FROM items WHERE collector = 'c' ORDER BY key").all()
      .map((r) => ({ ...r })) as { key: string; data: string; error: string | null }[];
    assert.deepEqual(view.map((r) => JSON.parse(r.data).Name), [
      '/k\\"q',
      "/plain",
      "/tab\there\u0001",
    ]);
    assert.deepEqual([...itemTextPages(raw, "c")].flat(), view);
    assert.deepEqual(
      [...itemFieldPages(raw, "c")].flat().map((f) => f.values),
      view.map((r) => Object.values(JSON.parse(r.data))),
    );
  } finally {
    await close();
  }
});

Deno.test("a run reads its stored checksums through the index of the items without a fingerprint", async () => {
  const { raw, close } = await openDb(":memory:");
  try {
    // Many items with a fingerprint (a files tree), a few without (a collector that gives none would have all).
    writeItems(raw, [
      ...Array.from({ length: 3000 }, (_, i) => ({
        key: `/f/${i}`,
        json: JSON.stringify(fileItem(`/f/${i}`)),
        fp: `fp${i}`,
      })),
      ...Array.from({ length: 5 }, (_, i) => ({ key: `/g/${i}`, json: '{"P":2}' })),
    ]);
    // How many a collector has, counted no further than asked (what a run tells its collector).
    assert.equal(countItems(raw, "c", 10_000), 3005);
    assert.equal(countItems(raw, "c", 100), 100);
    assert.equal(countItems(raw, "none", 100), 0);
    const prepared: string[] = [];
    const prepare = raw.prepare.bind(raw);
    raw.prepare = (sql: string) => (prepared.push(sql), prepare(sql));
    const sums = storedChecksums(raw, "c");
    assert.deepEqual(sums.rows({ from: "" }, 10).map((r) => r[0]), ["/g/0", "/g/1", "/g/2", "/g/3", "/g/4"]);
    assert.deepEqual(sums.rows({ after: "/g/2" }, 10).map((r) => r[0]), ["/g/3", "/g/4"]);
    assert.deepEqual(sums.keys(null, null, 10), ["/g/0", "/g/1", "/g/2", "/g/3", "/g/4"]);
    assert.deepEqual(sums.keys("/g/0", "/g/4", 10), ["/g/1", "/g/2", "/g/3"]);
    assert.deepEqual(sums.keys(null, "/g/1", 10), ["/g/0"]);
    assert.deepEqual(sums.keys("/g/3", null, 10), ["/g/4"]);
    const scoped = storedChecksums(raw, "c", { keys: ["/g/1"], prefixes: ["/g/3"] });
    assert.deepEqual(scoped.rows({ from: "" }, 10).map((r) => r[0]), ["/g/1", "/g/3"]);
    assert.deepEqual(scoped.keys(null, null, 10), ["/g/1", "/g/3"]);
    assert.ok(prepared.length >= 8, prepared.join("\n"));
    for (const sql of prepared) {
      const plan = (prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail);
      assert.ok(plan.some((d) => d.includes("USING INDEX items_unprinted")), `${sql}\n${plan.join("\n")}`);
    }
  } finally {
    await close();
  }
});
