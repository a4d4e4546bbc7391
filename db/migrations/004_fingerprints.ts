// Migration 004: the fingerprint a collector gives each item, so the next run can say "same" without rebuilding it.
import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("items").addColumn("fingerprint", "text").execute();
  // The items a run cannot account for by fingerprint (unreadable ones, collectors that give none).
  await db.schema.createIndex("items_unprinted").on("items").columns(["collector", "key"])
    .where(sql.ref("fingerprint"), "is", null).execute();
}
