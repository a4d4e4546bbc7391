// Migration 008: Modified changes counted per UTC hour and set of fields changed, kept by triggers, so the page
// tells timestamp-only changes (a spec's timestamp fields alone) from the others, and counts them, without
// reading the changes themselves.
import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE changes_fields_hourly (hour INTEGER NOT NULL, collector TEXT NOT NULL,
    fields_changed TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (hour, collector, fields_changed)) WITHOUT ROWID`
    .execute(db);
  await sql`INSERT INTO changes_fields_hourly (hour, collector, fields_changed, n)
    SELECT at / 3600000, collector, fields_changed, count(*) FROM changes WHERE category = 'Modified'
    GROUP BY 1, 2, 3`.execute(db);
  await sql`CREATE TRIGGER changes_fields_hourly_ins AFTER INSERT ON changes WHEN new.category = 'Modified' BEGIN
    INSERT INTO changes_fields_hourly (hour, collector, fields_changed, n)
      VALUES (new.at / 3600000, new.collector, new.fields_changed, 1)
      ON CONFLICT (hour, collector, fields_changed) DO UPDATE SET n = n + 1;
    END`.execute(db);
  await sql`CREATE TRIGGER changes_fields_hourly_del AFTER DELETE ON changes WHEN old.category = 'Modified' BEGIN
    UPDATE changes_fields_hourly SET n = n - 1
      WHERE hour = old.at / 3600000 AND collector = old.collector AND fields_changed = old.fields_changed;
    END`.execute(db);
}
