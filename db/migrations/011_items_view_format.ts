// Migration 011: the items view writes each item's JSON with one format() call instead of ~40 concatenations
// (each of which copied the text so far): the same text, ~6-11 % less of SQLite's time a row for every reader
// of `data` (the page's searches and sorts, the mirrors, --once). Its fingerprint tries the last slot first (a
// file's StatKey is its last value). The INSTEAD OF triggers of migration 010 go with the old view and are
// made again from their own text.
import { type Kysely, sql } from "kysely";

/** Most values an item row keeps (migration 010: v0 … v19). */
const SLOTS = 20;
const slots = Array.from({ length: SLOTS }, (_, i) => i);

/**
 * Value column `i` as JSON text, by the type it was stored with (as migration 010's view wrote it): text is a
 * string's JSON without its quotes, an integer a number, a real an ISO time in ms, 32 bytes a SHA-256 in hex,
 * no bytes the item's key, NULL null. Where the shape has no field `i` the value is NULL too (db/items.ts
 * writes no value past a shape's fields) and gives nothing, as the missing name before it: format() writes
 * NULL as no text.
 */
const json = (i: number) => {
  const v = `r.v${i}`;
  return `CASE typeof(${v}) WHEN 'text' THEN '"' || ${v} || '"' WHEN 'integer' THEN ${v}
    WHEN 'real' THEN '"' || strftime('%Y-%m-%dT%H:%M:%fZ', ${v} / 1000.0, 'unixepoch') || '"'
    WHEN 'blob' THEN CASE length(${v}) WHEN 0 THEN json_quote(r.key) ELSE '"' || lower(hex(${v})) || '"' END
    ELSE iif(s.p${i} IS NULL, NULL, 'null') END`;
};

export async function up(db: Kysely<unknown>): Promise<void> {
  const { rows: triggers } = await sql<{ sql: string }>`SELECT sql FROM sqlite_schema
    WHERE type = 'trigger' AND tbl_name = 'items' ORDER BY name`.execute(db);
  await sql`DROP VIEW items`.execute(db);
  const data = `CASE WHEN r.shape IS NULL THEN r.data ELSE format('${"%s".repeat(2 * SLOTS)}}', ${
    slots.map((i) => `s.p${i}, ${json(i)}`).join(", ")
  }) END`;
  const fingerprint = `CASE WHEN r.shape IS NOT NULL AND unicode(r.fingerprint) <= ${SLOTS}
    THEN CASE unicode(r.fingerprint) ${
    slots.toReversed().map((i) => `WHEN ${i + 1} THEN r.v${i}`).join(" ")
  } END || ':' || substr(r.fingerprint, 2) ELSE r.fingerprint END`;
  await sql.raw(`CREATE VIEW items AS SELECT r.collector AS collector, r.key AS key, r.checksum AS checksum,
    ${data} AS data, r.error AS error, r.first_seen AS first_seen, r.changed_at AS changed_at,
    ${fingerprint} AS fingerprint FROM item_rows r LEFT JOIN item_shapes s ON s.id = r.shape`).execute(db);
  for (const t of triggers) await sql.raw(t.sql).execute(db);
}
