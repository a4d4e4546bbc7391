import assert from "node:assert/strict";
import { openDb } from "../../db/open.ts";
import { itemWriter } from "../../db/items.ts";
import { rawTransaction } from "../../db/transaction.ts";
import { Stage } from "./stage.ts";

/** Keys as hostile as names get: quotes, a backslash, a newline, a tab, non-ASCII, a long one. */
const KEYS = [
  '/etc/"quoted"',
  "/etc/back\\slash",
  "/etc/new\nline",
  "/etc/tab\there",
  "/etc/é😀",
  `/x/${"y".repeat(300)}`,
];

Deno.test("a stage's page gives each staged item its stored version by key, and reads no more of the items than its keys", async () => {
  const o = await openDb(":memory:");
  try {
    // Stored: every key, and many others (a page must not cost a read of all of them).
    rawTransaction(o.raw, () => {
      const w = itemWriter(o.raw, "files", 1000);
      w.write([
        ...KEYS.map((key, i) => ({
          key,
          checksum: null,
          json: JSON.stringify({ P: key, V: i }),
          error: null,
          changed: true,
          fingerprint: null,
        })),
        ...Array.from({ length: 2000 }, (_, i) => ({
          key: `/usr/other/${i}`,
          checksum: null,
          json: JSON.stringify({ P: `/usr/other/${i}`, V: i }),
          error: null,
          changed: true,
          fingerprint: null,
        })),
      ]);
    });
    // Statements a page prepares, seen as SQLite gets them.
    const prepared: string[] = [];
    const prepare = o.raw.prepare.bind(o.raw);
    o.raw.prepare = (sql: string) => (prepared.push(sql), prepare(sql));
    const stage = await Stage.open(o.db, o.raw, "files", (i) => String(i.P));
    try {
      for (const [i, key] of KEYS.entries()) stage.add({ P: key, V: i + 100 });
      stage.add({ P: "/etc/new-file", V: 1 });
      await stage.flush();
      const page = stage.page(0);
      assert.deepEqual(
        page.map((p) => [p.next.key, p.prev?.key, p.prev && JSON.parse(p.prev.json).V]),
        [...KEYS.map((key, i) => [key, key, i]), ["/etc/new-file", undefined, undefined]],
      );
      assert.deepEqual(stage.page(page[page.length - 1].id), []);
      // No statement over the items view builds the whole view first (MATERIALIZE): each page did, so a run
      // with many changed items was quadratic in them.
      const overItems = prepared.filter((sql) => /\bmain\.items\b/.test(sql) && /^\s*SELECT/i.test(sql));
      assert.ok(overItems.length > 0, "the page reads the items view");
      for (const sql of overItems) {
        const plan = (prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) =>
          r.detail
        );
        assert.ok(!plan.some((d) => d.startsWith("MATERIALIZE")), `${sql}\n${plan.join("\n")}`);
      }
    } finally {
      await stage.close();
    }
  } finally {
    await o.close();
  }
});
