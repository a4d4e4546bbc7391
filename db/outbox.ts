// The outbox table's one owner: records waiting for delivery. Runs append (inside their transaction) and bound it;
// the sender reads batches and acknowledges them; status reads its depth. Nobody else writes its SQL.
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import type { Selectable, Transaction } from "kysely";
import type { Db } from "./open.ts";
import type { Database, OutboxTable } from "./schema.ts";
import { statement } from "./statements.ts";
import { addToCounter, getState, setState } from "./state.ts";
import { exclusive, rawTransaction } from "./transaction.ts";

/** One waiting record as the sender reads it (the record and its extra part are JSON text, sent unparsed). */
export type OutboxRow = Pick<Selectable<OutboxTable>, "id" | "record" | "extra" | "created_at">;

/** The append of outbox records after its verb, and one record's values (outboxAppender, outboxBatchAppender). */
const APPEND = "INTO outbox (stream, record, extra, created_at, attempts) VALUES ";
const APPEND_ROW = "(?, ?, ?, ?, 0)";

/**
 * Appends records inside a run's transaction (which holds the connection), as one prepared statement on the raw
 * connection: a baseline writes hundreds of thousands, and building each through Kysely costs more than SQLite.
 */
export function outboxAppender(
  raw: DatabaseSync,
): { append(stream: string, record: string, extra: string | null, at: number): void } {
  const insert = statement(raw, "INSERT " + APPEND + APPEND_ROW);
  return { append: (stream, record, extra, at) => void insert.run(stream, record, extra, at) };
}

/**
 * Records one statement of outboxBatchAppender writes. 119k records in one transaction of a file database (bare
 * node:sqlite): 507-515 ms one per statement, 408-425 ms 32 per statement, 369-377 ms so without the statement
 * journal.
 */
export const APPEND_BATCH = 32;

/**
 * As outboxAppender, for a run that appends many records in a row (a baseline writing as it collects): the
 * records are written APPEND_BATCH to a statement, in the order given; `flush` writes those still held, and
 * must be called before anything reads the outbox in the same transaction. A failed write leaves none held.
 *
 * Only inside a transaction, which a failed write must fail: a statement of many rows is `INSERT OR FAIL`, so
 * the rows before a failing one stay until that transaction is rolled back. With SQLite's default (ABORT) a
 * statement of many rows keeps a statement journal to undo its own rows, and once that spilled to a temp file
 * (/var/tmp) every statement wrote its pages there: 70,000 writes, 137 MB, in a baseline of /usr, and a full
 * /var/tmp would have failed the run.
 */
export function outboxBatchAppender(raw: DatabaseSync): {
  append(stream: string, record: string, extra: string | null, at: number): void;
  flush(): void;
} {
  const one = statement(raw, "INSERT " + APPEND + APPEND_ROW);
  const many = statement(raw, "INSERT OR FAIL " + APPEND + Array(APPEND_BATCH).fill(APPEND_ROW).join(", "));
  const held: SQLInputValue[] = [];
  return {
    append(stream, record, extra, at) {
      held.push(stream, record, extra, at);
      if (held.length < APPEND_BATCH * 4) return;
      try {
        if (!raw.isTransaction) throw new Error("outboxBatchAppender writes only inside a transaction");
        many.run(...held);
      } finally {
        held.length = 0;
      }
    },
    flush() {
      try {
        for (let i = 0; i < held.length; i += 4) one.run(held[i], held[i + 1], held[i + 2], held[i + 3]);
      } finally {
        held.length = 0;
      }
    },
  };
}

/**
 * Appends the inventory records of a run's staged items in one statement, inside its transaction. `staged` is a
 * staging table with `id`, `record_id`, `body`, `extra_body` and `error` columns; for each row without error
 * that has a record id: the table part `{` + `head.la` + the body's members + `}` ('' when it has no body: the
 * records are not for AMA), and the extra part `{"RecordId":"<record_id>"` + `head.extra` + the extra body's
 * members + `}` (null when it has none). Returns how many.
 */
export function appendStagedInventory(
  raw: DatabaseSync,
  staged: string,
  stream: string,
  head: { la: string | null; extra: string },
  at: number,
): number {
  const join = (col: string) => `CASE WHEN ${col} = '' THEN '' ELSE ',' || ${col} END`;
  return Number(
    statement(
      raw,
      `INSERT INTO main.outbox (stream, record, extra, created_at, attempts)
       SELECT ?, CASE WHEN body IS NULL THEN '' ELSE '{' || ? || ${join("body")} || '}' END,
         CASE WHEN extra_body IS NULL THEN NULL
           ELSE '{"RecordId":"' || record_id || '"' || ? || ${join("extra_body")} || '}' END, ?, 0
       FROM ${staged} WHERE error IS NULL AND record_id IS NOT NULL ORDER BY id`,
    ).run(stream, head.la ?? "", head.extra ? `,${head.extra}` : "", at).changes,
  );
}

/**
 * The outbox texts of one inventory record from its parts, as appendStagedInventory builds them in SQL: the table
 * part `{` + `head.la` + the body's members + `}` ('' when there is no body: not for AMA), and the extra part
 * `{"RecordId":"<id>"` + `head.extra` + the extra body's members + `}` (null when there is none).
 */
export function inventoryRecordText(
  head: { la: string | null; extra: string },
  body: string | null,
  extraBody: string | null,
  recordId: string,
): { record: string; extra: string | null } {
  const join = (members: string) => (members === "" ? "" : "," + members);
  return {
    record: body === null ? "" : "{" + (head.la ?? "") + join(body) + "}",
    extra: extraBody === null
      ? null
      : '{"RecordId":"' + recordId + '"' + (head.extra ? "," + head.extra : "") + join(extraBody) + "}",
  };
}

/**
 * Keeps the outbox at `max` records inside a run's transaction: the oldest beyond it are dropped and counted
 * (never silently, SPEC §7.11). Returns how many went now and in all, or undefined when none did.
 */
export async function boundOutbox(
  trx: Transaction<Database>,
  max: number,
  now: number,
): Promise<{ dropped: number; total: number } | undefined> {
  const excess = await depthOf(trx) - max;
  if (excess <= 0) return undefined;
  const cut = await trx.selectFrom("outbox").select("id").orderBy("id").offset(excess - 1).limit(1)
    .executeTakeFirstOrThrow();
  await trx.deleteFrom("outbox").where("id", "<=", cut.id).execute();
  const total = await addToCounter(trx, "outbox.dropped", excess);
  await setState(trx, "outbox.dropped_at", String(now));
  return { dropped: excess, total };
}

async function depthOf(q: Db | Transaction<Database>): Promise<number> {
  const { n } = await q.selectFrom("outbox").select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(n);
}

/** How many records wait. */
export function outboxDepth(db: Db): Promise<number> {
  return depthOf(db);
}

/** What `status` and the page say of the outbox. */
export interface OutboxStatus {
  depth: number;
  byStream: Record<string, number>;
  /** When the oldest waiting record was made. */
  oldestAt: number | null;
  /** Records dropped because the outbox hit its bound, ever, and when last. */
  dropped: number;
  droppedAt: number | null;
  /** Records delivered, ever, and when last. */
  delivered: number;
  deliveredAt: number | null;
}

export async function outboxStatus(db: Db): Promise<OutboxStatus> {
  const byStream: Record<string, number> = {};
  let depth = 0;
  for (
    const r of await db.selectFrom("outbox").select(["stream", (eb) => eb.fn.countAll<number>().as("n")])
      .groupBy("stream").execute()
  ) {
    byStream[r.stream] = Number(r.n);
    depth += Number(r.n);
  }
  const oldest = await db.selectFrom("outbox").select("created_at").orderBy("id").limit(1).executeTakeFirst();
  const num = async (key: "outbox.dropped_at" | "outbox.delivered_at") => {
    const v = await getState(db, key);
    return v ? Number(v) : null;
  };
  return {
    depth,
    byStream,
    oldestAt: oldest?.created_at ?? null,
    dropped: Number(await getState(db, "outbox.dropped") ?? 0),
    droppedAt: await num("outbox.dropped_at"),
    delivered: Number(await getState(db, "outbox.delivered") ?? 0),
    deliveredAt: await num("outbox.delivered_at"),
  };
}

/**
 * The sender's side: batches of one stream in id order, acknowledged as a range. The hot reads and deletes go
 * through node:sqlite directly, always under Kysely's connection lock, so a run's transaction in progress is
 * never read half-written nor interleaved with.
 */
export function outboxReader(db: Db, raw: DatabaseSync) {
  const select = raw.prepare(
    "SELECT id, record, extra, created_at FROM outbox WHERE stream = ? AND id > ? ORDER BY id LIMIT ?",
  );
  const remove = raw.prepare("DELETE FROM outbox WHERE stream = ? AND id >= ? AND id <= ?");
  const delivered = raw.prepare(
    "INSERT INTO state (key, value) VALUES ('outbox.delivered', ?) " +
      "ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + CAST(excluded.value AS INTEGER) AS TEXT)",
  );
  const deliveredAt = raw.prepare(
    "INSERT INTO state (key, value) VALUES ('outbox.delivered_at', ?) " +
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  );
  return {
    /** The streams that have records waiting. */
    async streams(): Promise<string[]> {
      return (await db.selectFrom("outbox").select("stream").distinct().execute()).map((r) => r.stream);
    },
    /** Up to `limit` records of `stream` after `afterId`, oldest first. */
    batch(stream: string, afterId: number, limit: number): Promise<OutboxRow[]> {
      return exclusive(db, () => select.all(stream, afterId, limit) as unknown as OutboxRow[]);
    },
    /**
     * The records `first`..`last` of `stream` are done with: they go, and the `n` of them that were sent (the
     * others had nothing for their route) are counted as delivered.
     */
    acknowledge(stream: string, first: number, last: number, n: number, at: number): Promise<void> {
      return exclusive(db, () =>
        rawTransaction(raw, () => {
          remove.run(stream, first, last);
          if (!n) return;
          delivered.run(String(n));
          deliveredAt.run(String(at));
        }));
    },
    /** The records `first`..`last` of `stream` were sent but not confirmed: one more attempt each. */
    async attempted(stream: string, first: number, last: number): Promise<void> {
      await db.updateTable("outbox").set((eb) => ({ attempts: eb("attempts", "+", 1) }))
        .where("stream", "=", stream).where("id", ">=", first).where("id", "<=", last).execute();
    },
    depth: () => depthOf(db),
  };
}
