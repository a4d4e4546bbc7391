// Migration 012: the hourly counts of changes (003, 008) and the trigram index of their keys (003) are kept by
// the changes' writer, a batch of rows at a time (db/changes.ts indexChanges), instead of by a trigger per
// inserted row. A row trigger made SQLite keep a statement journal for every insert of a change (a trigger's
// statements may fail after the row is in), and once that journal spilled to a temp file every insert wrote
// the pages it touched there: a run that found 17,800 files changed wrote 733 MB to /var/tmp, and a full
// /var/tmp would have failed it. The delete triggers stay: pruning deletes many rows in one statement.
import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TRIGGER changes_hourly_ins`.execute(db);
  await sql`DROP TRIGGER changes_fields_hourly_ins`.execute(db);
  await sql`DROP TRIGGER changes_fts_ins`.execute(db);
}
