import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { keyOrder } from "./key_order.ts";

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
