import assert from "node:assert/strict";
import { openDb } from "./open.ts";
import { APPEND_BATCH, outboxAppender, outboxBatchAppender } from "./outbox.ts";
import { writeInProcess } from "./testdata/temp_files_run.ts";

type Row = {
  id: number;
  stream: string;
  record: string;
  extra: string | null;
  created_at: number;
  attempts: number;
};

const rows = (raw: Awaited<ReturnType<typeof openDb>>["raw"]) =>
  raw.prepare("SELECT id, stream, record, extra, created_at, attempts FROM outbox ORDER BY id")
    .all() as unknown as Row[];

/** The i-th record of a test: streams, extras and times vary, so a value bound to the wrong row shows. */
const nth = (i: number) => ({
  stream: i % 3 ? "CONFIG_DATA_BLOB_V2" : "CTAGENT_DATA",
  record: JSON.stringify({ Seq: String(i), Pad: "é😀".repeat(i % 5) }),
  extra: i % 2 ? null : `{"RecordId":"${i}"}`,
  at: 1_700_000_000_000 + i,
});

Deno.test("outboxBatchAppender writes what outboxAppender writes, in order, a batch at a time and the rest at flush", async () => {
  const n = APPEND_BATCH * 2 + 5;
  const one = await openDb(":memory:");
  const batched = await openDb(":memory:");
  try {
    const a = outboxAppender(one.raw);
    const b = outboxBatchAppender(batched.raw);
    batched.raw.exec("BEGIN");
    for (let i = 0; i < n; i++) {
      const r = nth(i);
      a.append(r.stream, r.record, r.extra, r.at);
      b.append(r.stream, r.record, r.extra, r.at);
      // Whole batches are written as they fill; what is left waits for flush.
      assert.equal(
        rows(batched.raw).length,
        Math.floor((i + 1) / APPEND_BATCH) * APPEND_BATCH,
        `after ${i + 1}`,
      );
    }
    b.flush();
    batched.raw.exec("COMMIT");
    const got = rows(batched.raw);
    assert.equal(got.length, n);
    assert.deepEqual(got, rows(one.raw));
    assert.deepEqual(
      got.map((r) => JSON.parse(r.record).Seq),
      Array.from({ length: n }, (_, i) => String(i)),
    );
    b.flush(); // nothing held: nothing more
    assert.equal(rows(batched.raw).length, n);
  } finally {
    await one.db.destroy();
    await batched.db.destroy();
  }
});

Deno.test("outboxBatchAppender: a failed write throws, leaves nothing held, and its transaction takes back the rest", async () => {
  const opened = await openDb(":memory:");
  try {
    const b = outboxBatchAppender(opened.raw);
    opened.raw.exec("BEGIN");
    // A NULL record breaks the table's NOT NULL: the batch holding it fails.
    for (let i = 0; i < APPEND_BATCH - 1; i++) b.append("CONFIG_DATA_BLOB_V2", `{"Seq":"${i}"}`, null, 1);
    assert.throws(() => b.append("CONFIG_DATA_BLOB_V2", null as unknown as string, null, 1), /NOT NULL/);
    b.flush();
    // The run fails and rolls back: nothing of the batch stays, and nothing held is written later.
    opened.raw.exec("ROLLBACK");
    assert.equal(rows(opened.raw).length, 0);
    opened.raw.exec("BEGIN");
    b.flush();
    assert.equal(rows(opened.raw).length, 0, "the failed batch is not written by a later flush");
    // The same at flush.
    b.append("CONFIG_DATA_BLOB_V2", null as unknown as string, null, 1);
    assert.throws(() => b.flush(), /NOT NULL/);
    b.append("CONFIG_DATA_BLOB_V2", '{"Seq":"after"}', null, 2);
    b.flush();
    opened.raw.exec("COMMIT");
    assert.deepEqual(rows(opened.raw).map((r) => r.record), ['{"Seq":"after"}']);
  } finally {
    await opened.db.destroy();
  }
});

Deno.test("outboxBatchAppender: a batch outside a transaction is refused, and nothing is held", async () => {
  const opened = await openDb(":memory:");
  try {
    const b = outboxBatchAppender(opened.raw);
    for (let i = 0; i < APPEND_BATCH - 1; i++) b.append("CONFIG_DATA_BLOB_V2", `{"Seq":"${i}"}`, null, 1);
    assert.throws(
      () => b.append("CONFIG_DATA_BLOB_V2", '{"Seq":"last"}', null, 1),
      /only inside a transaction/,
    );
    b.flush();
    assert.equal(rows(opened.raw).length, 0);
  } finally {
    await opened.db.destroy();
  }
});

Deno.test({
  name: "outboxBatchAppender: a baseline's appends write no statement journal (no temp file)",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const got = await writeInProcess("outbox", APPEND_BATCH * 250 + 7);
    assert.equal(got.rows, APPEND_BATCH * 250 + 7);
    assert.deepEqual(got.tempFiles, []);
  },
});
