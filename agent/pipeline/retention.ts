// Bounded history: changes and runs older than the retention period go, with content nothing refers to.
import { sql } from "kysely";
import type { Db } from "../../db/open.ts";

export const DEFAULT_RETENTION_DAYS = 90;

export interface Pruned {
  changes: number;
  runs: number;
  contents: number;
}

/** Deletes history older than `days` (the current inventory is never touched). */
export async function pruneHistory(db: Db, days: number, now = Date.now()): Promise<Pruned> {
  const cutoff = now - days * 86_400_000;
  return await db.transaction().execute(async (trx) => {
    const changes = await trx.deleteFrom("changes").where("at", "<", cutoff).executeTakeFirst();
    // Keep each collector's latest run whatever its age: status and the baseline check read it.
    const runs = await trx.deleteFrom("runs").where("finished_at", "<", cutoff)
      .where(
        "id",
        "not in",
        trx.selectFrom("runs").select((eb) => eb.fn.max("id").as("id")).groupBy("collector"),
      )
      .executeTakeFirst();
    const contents = await trx.deleteFrom("contents").where("captured_at", "<", cutoff)
      .where(({ not, exists, selectFrom }) =>
        not(exists(
          selectFrom("items").select("key").where("collector", "=", "files")
            .where(sql`json_extract(data, '$.FileContentChecksum')`, "=", sql.ref("contents.checksum")),
        ))
      ).executeTakeFirst();
    return {
      changes: Number(changes.numDeletedRows),
      runs: Number(runs.numDeletedRows),
      contents: Number(contents.numDeletedRows),
    };
  });
}
