// Bounded history: changes, acknowledgements and runs older than the retention period go, with content nothing
// refers to. The history's hash chain loses its beginning only: a checkpoint keeps the rest verifiable.
import { sql } from "kysely";
import type { OpenedDb } from "../../db/open.ts";
import { type ChainBreak, pruneChain } from "../../db/chain.ts";
import type { CollectorSpec } from "../collectors/types.ts";
import { COLLECTORS } from "../collectors/mod.ts";

export const DEFAULT_RETENTION_DAYS = 90;

export interface Pruned {
  changes: number;
  acks: number;
  runs: number;
  contents: number;
  /** The chain is broken within what would have been pruned: that history is kept, as evidence. */
  chainBroken?: ChainBreak;
}

/**
 * Deletes history older than `days` (the current inventory is never touched). Changes and acknowledgements go
 * as the chain's oldest links (db/chain.ts pruneChain). Content stays while an item of a collector that captures
 * content (`specs`) still refers to it by checksum.
 */
export async function pruneHistory(
  { db, raw }: Pick<OpenedDb, "db" | "raw">,
  days: number,
  now = Date.now(),
  specs: readonly Pick<CollectorSpec, "name" | "content">[] = COLLECTORS,
): Promise<Pruned> {
  const cutoff = now - days * 86_400_000;
  const capturing = specs.flatMap((s) => s.content ? [{ name: s.name, field: s.content.checksumField }] : []);
  return await db.transaction().execute(async (trx) => {
    const chain = await pruneChain(trx, raw, cutoff, now);
    // Keep each collector's latest run whatever its age: status and the baseline check read it.
    const runs = await trx.deleteFrom("runs").where("finished_at", "<", cutoff)
      .where(
        "id",
        "not in",
        trx.selectFrom("runs").select((eb) => eb.fn.max("id").as("id")).groupBy("collector"),
      )
      .executeTakeFirst();
    const contents = await trx.deleteFrom("contents").where("captured_at", "<", cutoff)
      .where(({ and, not, exists, selectFrom }) =>
        and(capturing.map((c) =>
          not(exists(
            selectFrom("items").select("key").where("collector", "=", c.name)
              .where(sql`json_extract(data, ${"$." + c.field})`, "=", sql.ref("contents.checksum")),
          ))
        ))
      ).executeTakeFirst();
    return {
      changes: chain.changes,
      acks: chain.acks,
      ...(chain.broken ? { chainBroken: chain.broken } : {}),
      runs: Number(runs.numDeletedRows),
      contents: Number(contents.numDeletedRows),
    };
  });
}
