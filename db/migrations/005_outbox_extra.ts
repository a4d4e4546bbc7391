// Migration 005: outbox records in two parts (SPEC §7.15): `record` the Log Analytics table's columns ('' when
// none are for the table), `extra` what only a full record has (null when the extras were not kept).
import { type Kysely, sql } from "kysely";
import { CHANGE_COLUMNS, DATA_COLUMNS, INGESTION_COLUMNS } from "../../agent/pipeline/columns.ts";

const PAGE = 1000;

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("outbox").addColumn("extra", "text").execute();
  // Records written before: whole records, split by their keys (their values stay as they were).
  for (let after = 0;;) {
    const { rows } = await sql<{ id: number; stream: string; record: string }>`
      SELECT id, stream, record FROM outbox WHERE id > ${after} ORDER BY id LIMIT ${PAGE}`.execute(db);
    if (!rows.length) return;
    after = rows[rows.length - 1].id;
    for (const r of rows) {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(r.record);
      } catch {
        continue; // not JSON: sent as it is, as before
      }
      const columns = r.stream === "CONFIG_DATA_BLOB_V2" ? DATA_COLUMNS : CHANGE_COLUMNS;
      const la: Record<string, unknown> = {};
      const extra: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(rec)) {
        (columns.has(k) && !INGESTION_COLUMNS.has(k) ? la : extra)[k] = v;
      }
      await sql`UPDATE outbox SET record = ${JSON.stringify(la)}, extra = ${JSON.stringify(extra)}
        WHERE id = ${r.id}`.execute(db);
    }
  }
}
