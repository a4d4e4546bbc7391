import assert from "node:assert/strict";
import { openDb } from "./open.ts";
import { fileItem, hostileItems, type TestItem, writeItems } from "./testdata/items.ts";
import { compactItem, storedChecksums, storedFingerprints, storedUnreadable } from "./items.ts";

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
