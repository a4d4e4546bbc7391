// Migration 010: item rows kept compact. An item's fields go into columns v0 … v19 by type (its field names once
// per shape in item_shapes, the value equal to its key not again, a SHA-256 as 32 bytes, an ISO time as a
// number, a fingerprint that starts with the StatKey without it), and `items` becomes a view that writes each item's JSON back exactly as it was stored, so every
// reader sees what it saw before. An item that does not fit (more fields, nested values, booleans) keeps its
// JSON in `data`. A files item took ~714 bytes of the database; ~300 so.
import { type Kysely, sql } from "kysely";
import { compactFingerprint, compactItem, shapePrefixes, type Slot, SLOTS } from "../items.ts";

const slots = Array.from({ length: SLOTS }, (_, i) => i);

/**
 * A value column as JSON text, by the type it was stored with (db/items.ts compactItem): text is a string's
 * JSON without its quotes, an integer a number, a real an ISO time in ms, 32 bytes a SHA-256 in hex, no bytes
 * the item's key, NULL null.
 */
const json = (v: string) =>
  `CASE typeof(${v}) WHEN 'text' THEN '"' || ${v} || '"' WHEN 'integer' THEN ${v}
    WHEN 'real' THEN '"' || strftime('%Y-%m-%dT%H:%M:%fZ', ${v} / 1000.0, 'unixepoch') || '"'
    WHEN 'blob' THEN CASE length(${v}) WHEN 0 THEN json_quote(r.key) ELSE '"' || lower(hex(${v})) || '"' END
    ELSE 'null' END`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE items RENAME TO items_old`.execute(db);
  // A shape: the field names of items in order, and what goes before each value ({"Name": or ,"Name":).
  await sql.raw(`CREATE TABLE item_shapes (id INTEGER PRIMARY KEY, fields TEXT NOT NULL UNIQUE,
    ${slots.map((i) => `p${i} TEXT`).join(", ")})`).execute(db);
  // Value columns have no type, so SQLite keeps each value as it was bound.
  await sql.raw(`CREATE TABLE item_rows (collector TEXT NOT NULL, key TEXT NOT NULL, checksum TEXT, data TEXT,
    error TEXT, first_seen INTEGER NOT NULL, changed_at INTEGER NOT NULL, fingerprint TEXT, shape INTEGER,
    ${slots.map((i) => `v${i}`).join(", ")}, PRIMARY KEY (collector, key)) WITHOUT ROWID`).execute(db);
  const data = `CASE WHEN r.shape IS NULL THEN r.data ELSE s.p0 || ${json("r.v0")} || ${
    slots.slice(1).map((i) => `coalesce(s.p${i} || ${json(`r.v${i}`)}, '')`).join(" || ")
  } || '}' END`;
  const fingerprint = `CASE WHEN r.shape IS NOT NULL AND unicode(r.fingerprint) <= ${SLOTS}
    THEN CASE unicode(r.fingerprint) ${slots.map((i) => `WHEN ${i + 1} THEN r.v${i}`).join(" ")} END
      || ':' || substr(r.fingerprint, 2) ELSE r.fingerprint END`;
  await sql.raw(`CREATE VIEW items AS SELECT r.collector AS collector, r.key AS key, r.checksum AS checksum,
    ${data} AS data, r.error AS error, r.first_seen AS first_seen, r.changed_at AS changed_at,
    ${fingerprint} AS fingerprint FROM item_rows r LEFT JOIN item_shapes s ON s.id = r.shape`).execute(db);
  // Writes to the view (tests, a hand-made fix) keep the item's JSON as given; runs write item_rows compact.
  await sql.raw(`CREATE TRIGGER items_insert INSTEAD OF INSERT ON items BEGIN
    INSERT INTO item_rows (collector, key, checksum, data, error, first_seen, changed_at, fingerprint)
    VALUES (NEW.collector, NEW.key, NEW.checksum, NEW.data, NEW.error, NEW.first_seen, NEW.changed_at,
      NEW.fingerprint); END`).execute(db);
  await sql.raw(`CREATE TRIGGER items_update INSTEAD OF UPDATE ON items BEGIN
    UPDATE item_rows SET collector = NEW.collector, key = NEW.key, checksum = NEW.checksum, data = NEW.data,
      error = NEW.error, first_seen = NEW.first_seen, changed_at = NEW.changed_at, fingerprint = NEW.fingerprint,
      shape = NULL, ${slots.map((i) => `v${i} = NULL`).join(", ")}
    WHERE collector = OLD.collector AND key = OLD.key; END`).execute(db);
  await sql.raw(`CREATE TRIGGER items_delete INSTEAD OF DELETE ON items BEGIN
    DELETE FROM item_rows WHERE collector = OLD.collector AND key = OLD.key; END`).execute(db);

  // The stored items, compacted a page at a time in key order.
  const shapes = new Map<string, number>();
  const columns = sql.raw(
    `collector, key, checksum, data, error, first_seen, changed_at, fingerprint, shape, ${
      slots.map((i) => `v${i}`).join(", ")
    }`,
  );
  type Row = {
    collector: string;
    key: string;
    checksum: string | null;
    data: string;
    error: string | null;
    first_seen: number;
    changed_at: number;
    fingerprint: string | null;
  };
  for (let after: [string, string] | null = null;;) {
    const { rows }: { rows: Row[] } = await sql<
      Row
    >`SELECT collector, key, checksum, data, error, first_seen, changed_at,
      fingerprint FROM items_old ${after ? sql`WHERE (collector, key) > (${after[0]}, ${after[1]})` : sql``}
      ORDER BY collector, key LIMIT 1000`.execute(db);
    if (!rows.length) break;
    for (const r of rows) {
      let c = compactItem(r.data, r.key);
      const print = c && compactFingerprint(r.fingerprint, c.values);
      if (print === undefined) c = null;
      let shape: number | null = null;
      if (c) {
        shape = shapes.get(c.fields) ?? null;
        if (shape === null) {
          const prefixes = shapePrefixes(c.fields);
          const { rows: [made] } = await sql<{ id: number }>`INSERT INTO item_shapes (fields, ${
            sql.raw(prefixes.map((_, i) => `p${i}`).join(", "))
          }) VALUES (${c.fields}, ${sql.join(prefixes)}) RETURNING id`.execute(db);
          shapes.set(c.fields, shape = made.id);
        }
      }
      const values: Slot[] = slots.map((i) => c?.values[i] ?? null);
      await sql`INSERT INTO item_rows (${columns}) VALUES (${
        sql.join([
          r.collector,
          r.key,
          r.checksum,
          c ? null : r.data,
          r.error,
          r.first_seen,
          r.changed_at,
          r.fingerprint,
          shape,
          ...values,
        ])
      })`.execute(db);
    }
    const last: Row = rows[rows.length - 1];
    after = [last.collector, last.key];
  }
  await sql`DROP TABLE items_old`.execute(db);
  // The indexes of migration 007, which went with the old table.
  await sql`CREATE INDEX items_errors ON item_rows (collector) WHERE error IS NOT NULL`.execute(db);
  await sql`CREATE INDEX items_unprinted ON item_rows (collector, key) WHERE fingerprint IS NULL`.execute(db);
}
