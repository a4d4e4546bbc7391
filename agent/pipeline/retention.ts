// Bounded history: changes and runs older than the retention period go, with content nothing refers to.
import type { Db } from "../../db/open.ts";
import { pruneChanges } from "../../db/changes.ts";
import { pruneRuns } from "../../db/runs.ts";
import { pruneContents } from "../../db/contents.ts";
import type { CollectorSpec } from "../collectors/types.ts";
import { COLLECTORS } from "../collectors/mod.ts";

export const DEFAULT_RETENTION_DAYS = 90;

export interface Pruned {
  changes: number;
  runs: number;
  contents: number;
}

/**
 * Deletes history older than `days` (the current inventory is never touched). Content stays while an item of a
 * collector that captures content (`specs`) still refers to it by checksum.
 */
export async function pruneHistory(
  db: Db,
  days: number,
  now = Date.now(),
  specs: readonly Pick<CollectorSpec, "name" | "content">[] = COLLECTORS,
): Promise<Pruned> {
  const cutoff = now - days * 86_400_000;
  const referrers = specs.flatMap((s) =>
    s.content ? [{ collector: s.name, field: s.content.checksumField }] : []
  );
  return await db.transaction().execute(async (trx) => ({
    changes: await pruneChanges(trx, cutoff),
    // Each collector's latest run stays whatever its age: status and the baseline check read it.
    runs: await pruneRuns(trx, cutoff),
    contents: await pruneContents(trx, cutoff, referrers),
  }));
}
