// Migration 001: the tables of DESIGN.md. Never edit once landed; add a new migration instead.
import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable("items")
    .addColumn("collector", "text", (c) => c.notNull())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("checksum", "text")
    .addColumn("data", "text", (c) => c.notNull())
    .addColumn("error", "text")
    .addColumn("first_seen", "integer", (c) => c.notNull())
    .addColumn("changed_at", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("items_pk", ["collector", "key"])
    .execute();

  await db.schema.createTable("changes")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("run_id", "integer", (c) => c.notNull())
    .addColumn("at", "integer", (c) => c.notNull())
    .addColumn("collector", "text", (c) => c.notNull())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("category", "text", (c) => c.notNull())
    .addColumn("fields_changed", "text", (c) => c.notNull())
    .addColumn("previous", "text")
    .addColumn("current", "text")
    .execute();
  await db.schema.createIndex("changes_at").on("changes").column("at").execute();
  await db.schema.createIndex("changes_item").on("changes").columns(["collector", "key", "at"]).execute();

  await db.schema.createTable("runs")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("collector", "text", (c) => c.notNull())
    .addColumn("started_at", "integer", (c) => c.notNull())
    .addColumn("finished_at", "integer", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("counts", "text", (c) => c.notNull())
    .addColumn("error", "text")
    .addColumn("warnings", "text", (c) => c.notNull().defaultTo("[]"))
    .execute();
  await db.schema.createIndex("runs_collector").on("runs").columns(["collector", "id"]).execute();

  await db.schema.createTable("outbox")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("stream", "text", (c) => c.notNull())
    .addColumn("record", "text", (c) => c.notNull())
    .addColumn("created_at", "integer", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex("outbox_stream").on("outbox").columns(["stream", "id"]).execute();

  await db.schema.createTable("config")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("origin", "text", (c) => c.notNull())
    .addColumn("received_at", "integer", (c) => c.notNull())
    .addColumn("raw", "text", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull())
    .addColumn("valid", "integer", (c) => c.notNull())
    .addColumn("errors", "text", (c) => c.notNull())
    .addColumn("normalized", "text")
    .execute();

  await db.schema.createTable("state")
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("value", "text", (c) => c.notNull())
    .execute();
  await sql`select 1`.execute(db);
}
