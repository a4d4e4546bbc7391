import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { Kysely } from "kysely";
import { statement } from "./statements.ts";
import { nodeSqliteDialect } from "./sqlite_dialect.ts";

Deno.test("statement() prepares a text once per connection, rows as arrays or objects as asked, at most 256 kept", () => {
  const a = new DatabaseSync(":memory:"), b = new DatabaseSync(":memory:");
  try {
    a.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)");
    b.exec("CREATE TABLE t (x); INSERT INTO t VALUES (2)");
    const s = statement(a, "SELECT x FROM t");
    assert.equal(statement(a, "SELECT x FROM t"), s);
    assert.deepEqual({ ...s.get() as object }, { x: 1 });
    const arr = statement(a, "SELECT x FROM t", true);
    assert.notEqual(arr, s);
    assert.deepEqual(arr.get(), [1]);
    // Another connection has statements of its own.
    assert.deepEqual({ ...statement(b, "SELECT x FROM t").get() as object }, { x: 2 });
    // A table dropped and made again (a run's staging table) is read through the same statement.
    a.exec("DROP TABLE t; CREATE TABLE t (x); INSERT INTO t VALUES (3)");
    assert.deepEqual({ ...statement(a, "SELECT x FROM t").get() as object }, { x: 3 });
    // Bounded: the least recently used goes first, the one used just now stays.
    for (let i = 0; i < 300; i++) {
      statement(a, `SELECT ${i}`);
      statement(a, "SELECT x FROM t");
    }
    assert.equal(statement(a, "SELECT x FROM t"), s);
    assert.notEqual(statement(a, "SELECT x FROM t", true), arr);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("Kysely's queries take their statements from statement(): each text is prepared once per connection", async () => {
  const raw = new DatabaseSync(":memory:");
  const prepared: string[] = [];
  const prepare = raw.prepare.bind(raw);
  raw.prepare = (sql: string) => {
    prepared.push(sql);
    return prepare(sql);
  };
  const db = new Kysely<{ t: { x: number } }>({ dialect: nodeSqliteDialect(raw) });
  try {
    raw.exec("CREATE TABLE t (x)");
    for (let i = 0; i < 3; i++) await db.insertInto("t").values({ x: i }).execute();
    const select = db.selectFrom("t").select("x").where("x", ">=", 1);
    for (let i = 0; i < 3; i++) assert.deepEqual(await select.execute(), [{ x: 1 }, { x: 2 }]);
    const { sql } = select.compile();
    assert.equal(prepared.filter((s) => s === sql).length, 1, `prepared: ${prepared.join(" | ")}`);
    assert.equal(
      prepared.filter((s) => s.startsWith("insert")).length,
      1,
      `prepared: ${prepared.join(" | ")}`,
    );
    // The raw user of the same text gets the very statement Kysely ran: one cache, not two.
    const before = prepared.length;
    assert.deepEqual({ ...statement(raw, sql).get(1) as object }, { x: 1 });
    assert.equal(prepared.length, before, `prepared again: ${prepared.slice(before).join(" | ")}`);
    // A stream iterates a statement of its own: the cached one run meanwhile does not reset it.
    const seen: number[] = [];
    for await (const row of select.stream()) {
      seen.push(row.x);
      assert.equal(statement(raw, sql).all(1).length, 2);
    }
    assert.deepEqual(seen, [1, 2]);
  } finally {
    await db.destroy();
  }
});
