import assert from "node:assert/strict";
import { openDb } from "./open.ts";
import { rawTransaction } from "./transaction.ts";

/** A database that can grow by only a few pages: SQLite answers SQLITE_FULL as on a full disk. */
async function tiny() {
  const o = await openDb(":memory:");
  const pages = (o.raw.prepare("PRAGMA page_count").get() as { page_count: number }).page_count;
  o.raw.exec(`PRAGMA max_page_count = ${pages + 4}`);
  return o;
}
const big = "x".repeat(100_000);

Deno.test("a Kysely transaction on a full database fails with the real cause, not a failed rollback", async () => {
  const o = await tiny();
  await assert.rejects(
    () =>
      o.db.transaction().execute(async (trx) => {
        await trx.insertInto("state").values({ key: "a", value: "1" }).execute();
        await trx.insertInto("state").values({ key: "b", value: big }).execute();
      }),
    /database or disk is full/,
  );
  assert.equal(o.raw.isTransaction, false);
  assert.equal(o.raw.prepare("SELECT count(*) AS n FROM state").get()!.n, 0, "nothing of it stays");
  await o.close();
});

Deno.test("rawTransaction() on a full database throws the real cause and leaves no transaction open", async () => {
  const o = await tiny();
  const ins = o.raw.prepare("INSERT INTO state (key, value) VALUES (?, ?)");
  assert.throws(() =>
    rawTransaction(o.raw, () => {
      ins.run("a", "1");
      ins.run("b", big);
    }), /database or disk is full/);
  assert.equal(o.raw.isTransaction, false);
  rawTransaction(o.raw, () => ins.run("c", "3"));
  assert.deepEqual(o.raw.prepare("SELECT key FROM state").all().map((r) => r.key), ["c"]);
  await o.close();
});
