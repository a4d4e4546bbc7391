// Bounded history: changes, acknowledgements and runs older than the retention period go, with content nothing
// refers to. The history's hash chain loses its beginning only: a checkpoint keeps the rest verifiable.
import type { OpenedDb } from "../../db/open.ts";
import { type ChainBreak, pruneChain } from "../../db/chain.ts";
import { pruneRuns } from "../../db/runs.ts";
import { pruneContents } from "../../db/contents.ts";
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
  const referrers = specs.flatMap((s) =>
    s.content ? [{ collector: s.name, field: s.content.checksumField }] : []
  );
  return await db.transaction().execute(async (trx) => {
    const chain = await pruneChain(trx, raw, cutoff, now);
    return {
      changes: chain.changes,
      acks: chain.acks,
      ...(chain.broken ? { chainBroken: chain.broken } : {}),
      // Each collector's latest run stays whatever its age: status and the baseline check read it.
      runs: await pruneRuns(trx, cutoff),
      contents: await pruneContents(trx, cutoff, referrers),
    };
  });
}
