// Migration 007: the items table keyed by (collector, key) itself (WITHOUT ROWID): each row is stored once, in key
// order, instead of a rowid table plus an index repeating every key. A collector's items are then read in key
// order straight from the table (the run's previous fingerprints a window at a time, pipeline/stage.ts), and
// rows written in key order fill their pages.
import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE items_by_key (collector TEXT NOT NULL, key TEXT NOT NULL, checksum TEXT, data TEXT NOT NULL,
    error TEXT, first_seen INTEGER NOT NULL, changed_at INTEGER NOT NULL, fingerprint TEXT,
    PRIMARY KEY (collector, key)) WITHOUT ROWID`.execute(db);
  await sql`INSERT INTO items_by_key (collector, key, checksum, data, error, first_seen, changed_at, fingerprint)
    SELECT collector, key, checksum, data, error, first_seen, changed_at, fingerprint FROM items
    ORDER BY collector, key`.execute(db);
  await sql`DROP TABLE items`.execute(db);
  await sql`ALTER TABLE items_by_key RENAME TO items`.execute(db);
  // The indexes of migrations 003 and 004, which went with the old table.
  await sql`CREATE INDEX items_errors ON items (collector) WHERE error IS NOT NULL`.execute(db);
  await sql`CREATE INDEX items_unprinted ON items (collector, key) WHERE fingerprint IS NULL`.execute(db);
}
