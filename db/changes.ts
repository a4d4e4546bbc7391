// The changes table's one owner for writes: a run's changes, inside its transaction, as links of the history's
// hash chain (pruning is the chain's: db/chain.ts). The page's change list and history read model is ui/queries.ts.
import type { DatabaseSync } from "node:sqlite";
import type { Insertable, Transaction } from "kysely";
import type { ChangesTable, Database } from "./schema.ts";
import { chainLinker } from "./chain.ts";
import { statement } from "./statements.ts";

/** One change of a run, as stored (previous and current are the items' JSON, null when absent). */
export type ChangeInsert = Pick<
  Insertable<ChangesTable>,
  "key" | "category" | "fields_changed" | "previous" | "current" | "origin"
>;

const INSERT = `INSERT INTO changes
  (id, seq, hash, run_id, at, collector, key, category, fields_changed, previous, current, origin)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/**
 * What the page reads instead of the changes themselves, for the changes with ids `from` to `to` (inserted
 * since the last call): their counts per UTC hour (changes_hourly), the Modified ones' per hour and set of
 * fields changed (changes_fields_hourly), and the trigram index of their keys (changes_fts). Three statements
 * for a batch of rows: a trigger per row made SQLite keep a statement journal for every insert (migration 012).
 * Deleted changes are taken out of them by the delete triggers, so every row written into `changes` must be
 * indexed here first: the trigram index's delete of a row it never indexed corrupts it.
 */
export function indexChanges(raw: DatabaseSync, from: number, to: number): void {
  if (to < from) return;
  statement(
    raw,
    `INSERT INTO changes_hourly (hour, collector, category, n)
     SELECT at / 3600000, collector, category, count(*) FROM changes WHERE id BETWEEN ? AND ? GROUP BY 1, 2, 3
     ON CONFLICT (hour, collector, category) DO UPDATE SET n = n + excluded.n`,
  ).run(from, to);
  statement(
    raw,
    `INSERT INTO changes_fields_hourly (hour, collector, fields_changed, n)
     SELECT at / 3600000, collector, fields_changed, count(*) FROM changes
       WHERE id BETWEEN ? AND ? AND category = 'Modified' GROUP BY 1, 2, 3
     ON CONFLICT (hour, collector, fields_changed) DO UPDATE SET n = n + excluded.n`,
  ).run(from, to);
  statement(raw, "INSERT INTO changes_fts (rowid, key) SELECT id, key FROM changes WHERE id BETWEEN ? AND ?")
    .run(from, to);
}

/**
 * Writes a run's changes one at a time inside its transaction (on `raw`, the connection `trx` runs on), as the
 * next links of the history's hash chain (chain.ts); `end()` before the transaction commits, which also
 * indexes them for the page (indexChanges). One prepared row insert, the same for every run: multi-row inserts
 * have a text per row count, and a storm's runs, each with its own count, kept a large compiled statement for
 * each.
 */
export async function changeWriter(
  trx: Transaction<Database>,
  raw: DatabaseSync,
  run: { id: number; collector: string; at: number },
): Promise<{ add(change: ChangeInsert): void; end(): Promise<void> }> {
  const chain = await chainLinker(trx, "changes");
  const insert = statement(raw, INSERT);
  /** The ids written since the last indexChanges (each link's id is the last one's + 1: chain.ts). */
  let first = 0;
  let last = -1;
  return {
    add(c) {
      const r = chain.link({ run_id: run.id, at: run.at, collector: run.collector, ...c });
      insert.run(
        r.id,
        r.seq,
        r.hash,
        r.run_id,
        r.at,
        r.collector,
        r.key,
        r.category,
        r.fields_changed,
        r.previous ?? null,
        r.current ?? null,
        r.origin ?? null,
      );
      if (last < first) first = r.id;
      last = r.id;
    },
    end() {
      indexChanges(raw, first, last);
      first = 0;
      last = -1;
      return chain.end();
    },
  };
}

/** Writes `changes` of a run inside its transaction (changeWriter, all at once). */
export async function insertChanges(
  trx: Transaction<Database>,
  raw: DatabaseSync,
  run: { id: number; collector: string; at: number },
  changes: readonly ChangeInsert[],
): Promise<void> {
  if (!changes.length) return;
  const w = await changeWriter(trx, raw, run);
  for (const c of changes) w.add(c);
  await w.end();
}
