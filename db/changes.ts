// The changes table's one owner for writes: a run's changes, inside its transaction, as links of the history's
// hash chain (pruning is the chain's: db/chain.ts). The page's change list and history read model is ui/queries.ts.
import type { Insertable, Transaction } from "kysely";
import type { ChangesTable, Database } from "./schema.ts";
import { extendChain } from "./chain.ts";

/** Rows per INSERT statement. */
const CHUNK = 500;

/** One change of a run, as stored (previous and current are the items' JSON, null when absent). */
export type ChangeInsert = Pick<
  Insertable<ChangesTable>,
  "key" | "category" | "fields_changed" | "previous" | "current" | "origin"
>;

/** Writes a run's changes inside its transaction, as the next links of the history's hash chain (chain.ts). */
export async function insertChanges(
  trx: Transaction<Database>,
  run: { id: number; collector: string; at: number },
  changes: readonly ChangeInsert[],
): Promise<void> {
  const rows = await extendChain(
    trx,
    "changes",
    changes.map((c) => ({ run_id: run.id, at: run.at, collector: run.collector, ...c })),
  );
  for (let i = 0; i < rows.length; i += CHUNK) {
    await trx.insertInto("changes").values(rows.slice(i, i + CHUNK)).execute();
  }
}
