import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { hasHighUnits, KeyBound, keyOrder, plainKeyOrder } from "./key_order.ts";

Deno.test("keyOrder() sorts keys as SQLite does (code points, astral characters after U+FFFD)", () => {
  const keys = [
    "/a",
    "/a/b",
    "/a-b",
    "/a.c",
    "/\u00e9",
    "/\ufffd",
    "/\u{1F600}",
    "/\ue000",
    "/",
    "",
    "/a\\x80",
  ];
  const db = new DatabaseSync(":memory:");
  db.exec("CREATE TABLE k (key TEXT PRIMARY KEY)");
  for (const k of keys) db.prepare("INSERT INTO k VALUES (?)").run(k);
  const sqlite = db.prepare("SELECT key FROM k ORDER BY key").all().map((r) => (r as { key: string }).key);
  assert.deepEqual([...keys].sort(keyOrder), sqlite);
  assert.notDeepEqual([...keys].sort(), sqlite, "JavaScript's own order differs");
});

Deno.test("KeyBound and plainKeyOrder order keys as keyOrder does, where they may be used", () => {
  const keys = [
    "",
    "/",
    "/a",
    "/a/b",
    "/a-b",
    "/\u00e9",
    "/\ud7ff",
    "/\ufffd",
    "/\u{1F600}",
    "/\ue000",
    "/\uffff",
    "/z",
  ];
  const sign = (n: number) => Math.sign(n);
  for (const b of keys) {
    const bound = new KeyBound(b);
    assert.equal(hasHighUnits(b), /[\ud800-\uffff]/.test(b));
    for (const a of keys) {
      assert.equal(
        sign(bound.order(a)),
        sign(keyOrder(a, b)),
        `${JSON.stringify(a)} to ${JSON.stringify(b)}`,
      );
      if (!hasHighUnits(a) || !hasHighUnits(b)) {
        assert.equal(
          sign(plainKeyOrder(a, b)),
          sign(keyOrder(a, b)),
          `${JSON.stringify(a)} ~ ${JSON.stringify(b)}`,
        );
      }
    }
  }
  // Where both hold such units, JavaScript's compare is not the order: "/\u{1F600}" sorts after "/\ue000".
  assert.equal(plainKeyOrder("/\u{1F600}", "/\ue000") < 0, true);
  assert.equal(new KeyBound("/\ue000").order("/\u{1F600}") > 0, true);
});
