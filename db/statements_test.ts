import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { statement } from "./statements.ts";

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
