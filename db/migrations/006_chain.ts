// Migration 006: the history's hash chain (db/chain.ts): a position and hash on every change row, the acks table
// (a reviewer's acknowledgements and notes, links of the same chain) and retention's checkpoints. The changes
// written before the chain existed are linked here, in the order they were written (by id).
import { type Kysely, sql } from "kysely";
import { type ChainedChange, changeCanonical, GENESIS, linkHash } from "../chain.ts";

/** Rows read and linked at a time. */
const PAGE = 1000;

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("changes").addColumn("seq", "integer").execute();
  await db.schema.alterTable("changes").addColumn("hash", "text").execute();
  await db.schema.createIndex("changes_seq").unique().on("changes").column("seq").execute();

  await db.schema.createTable("acks")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("seq", "integer")
    .addColumn("hash", "text")
    .addColumn("at", "integer", (c) => c.notNull())
    .addColumn("change_id", "integer")
    .addColumn("group_key", "text")
    .addColumn("reviewer", "text", (c) => c.notNull())
    .addColumn("note", "text", (c) => c.notNull().defaultTo(""))
    .addCheckConstraint("acks_one_subject", sql`(change_id IS NULL) <> (group_key IS NULL)`)
    .execute();
  await db.schema.createIndex("acks_seq").unique().on("acks").column("seq").execute();
  await db.schema.createIndex("acks_change").on("acks").columns(["change_id", "id"]).execute();
  await db.schema.createIndex("acks_group").on("acks").columns(["group_key", "id"]).execute();

  await db.schema.createTable("chain_checkpoints")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("at", "integer", (c) => c.notNull())
    .addColumn("pruned", "integer", (c) => c.notNull())
    .addColumn("through_seq", "integer", (c) => c.notNull())
    .addColumn("through_hash", "text", (c) => c.notNull())
    .execute();

  let head = { seq: 0, hash: GENESIS };
  for (let after = 0;;) {
    const { rows } = await sql<Omit<ChainedChange, "seq">>`SELECT id, run_id, at, collector, key, category,
      fields_changed, previous, current FROM changes WHERE id > ${after} ORDER BY id LIMIT ${PAGE}`.execute(
      db,
    );
    if (!rows.length) break;
    for (const r of rows) {
      const seq = head.seq + 1;
      const hash = linkHash(head.hash, changeCanonical({ ...r, seq }));
      await sql`UPDATE changes SET seq = ${seq}, hash = ${hash} WHERE id = ${r.id}`.execute(db);
      head = { seq, hash };
    }
    after = rows[rows.length - 1].id;
  }
  if (head.seq) {
    await sql`INSERT INTO state (key, value) VALUES ('chain.head', ${JSON.stringify(head)})`.execute(db);
  }
}
