// Migration 002: captured text content of tracked files, deduplicated by SHA-256 (for content diffs).
import type { Kysely } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable("contents")
    .addColumn("checksum", "text", (c) => c.primaryKey())
    .addColumn("text", "text", (c) => c.notNull())
    .addColumn("size", "integer", (c) => c.notNull())
    .addColumn("captured_at", "integer", (c) => c.notNull())
    .execute();
}
