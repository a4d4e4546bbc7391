// Migration 003: what keeps the page fast with a million changes: hourly change counts and a trigram index of keys.
import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  // Change counts per UTC hour, kept by triggers, so a 30-day chart reads ~720 rows instead of every change.
  await sql`create table changes_hourly (
    hour integer not null, collector text not null, category text not null, n integer not null,
    primary key (hour, collector, category)) without rowid`.execute(db);
  await sql`insert into changes_hourly (hour, collector, category, n)
    select at / 3600000, collector, category, count(*) from changes group by 1, 2, 3`.execute(db);
  await sql`create trigger changes_hourly_ins after insert on changes begin
    insert into changes_hourly (hour, collector, category, n) values (new.at / 3600000, new.collector, new.category, 1)
      on conflict (hour, collector, category) do update set n = n + 1;
    end`.execute(db);
  await sql`create trigger changes_hourly_del after delete on changes begin
    update changes_hourly set n = n - 1
      where hour = old.at / 3600000 and collector = old.collector and category = old.category;
    end`.execute(db);

  // Substring search over item keys (names, paths) of changes: trigram full-text index over the key column.
  await sql`create virtual table changes_fts using fts5(key, content='changes', content_rowid='id', tokenize='trigram')`
    .execute(db);
  await sql`insert into changes_fts (rowid, key) select id, key from changes`.execute(db);
  await sql`create trigger changes_fts_ins after insert on changes begin
    insert into changes_fts (rowid, key) values (new.id, new.key);
    end`.execute(db);
  await sql`create trigger changes_fts_del after delete on changes begin
    insert into changes_fts (changes_fts, rowid, key) values ('delete', old.id, old.key);
    end`.execute(db);

  // Items whose last read failed, counted per collector on the overview (a partial index: tiny, usually empty).
  await sql`create index items_errors on items (collector) where error is not null`.execute(db);

  // Filtered change lists (type, category) newest first.
  await db.schema.createIndex("changes_collector_at").on("changes").columns(["collector", "at", "category"])
    .execute();
}
