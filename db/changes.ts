// The changes table's one owner for writes: a run's changes (inside its transaction) and their pruning. (The page's
// change list, search and history read model is ui/queries.ts.)
import type { Insertable, Transaction } from "kysely";
import type { ChangesTable, Database } from "./schema.ts";

/** Rows per INSERT statement. */
const CHUNK = 500;

/** One change of a run, as stored (previous and current are the items' JSON, null when absent). */
export type ChangeInsert = Omit<Insertable<ChangesTable>, "id" | "run_id" | "at" | "collector">;

/** Writes a run's changes inside its transaction. */
export async function insertChanges(
  trx: Transaction<Database>,
  run: { id: number; collector: string; at: number },
  changes: readonly ChangeInsert[],
): Promise<void> {
  for (let i = 0; i < changes.length; i += CHUNK) {
    await trx.insertInto("changes")
      .values(
        changes.slice(i, i + CHUNK).map((c) => ({
          ...c,
          run_id: run.id,
          at: run.at,
          collector: run.collector,
        })),
      )
      .execute();
  }
}

/** Deletes the changes older than `cutoff`. */
export async function pruneChanges(trx: Transaction<Database>, cutoff: number): Promise<number> {
  return Number((await trx.deleteFrom("changes").where("at", "<", cutoff).executeTakeFirst()).numDeletedRows);
}
