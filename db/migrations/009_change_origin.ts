// Migration 009: who made a change (a realtime event's process), as JSON of its record fields; null when unknown.
import type { Kysely } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("changes").addColumn("origin", "text").execute();
}
