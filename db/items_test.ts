import assert from "node:assert/strict";
import { openDb } from "./open.ts";
import { fileItem, hostileItems, type TestItem, writeItems } from "./testdata/items.ts";
import {
  compactItem,
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
