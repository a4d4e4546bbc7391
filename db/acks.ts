// The acks table's one owner: a reviewer's acknowledgements and notes on changes (the page's review loop). Each
// one is a link of the history's hash chain (db/chain.ts), so a note cannot be edited or removed quietly either.
import type { Kysely, Selectable } from "kysely";
import type { AcksTable, Database } from "./schema.ts";
import { extendChain } from "./chain.ts";

/** Longest reviewer name and note kept (a note is prose, not a document). */
export const MAX_REVIEWER = 200;
export const MAX_NOTE = 10_000;

export interface Ack {
  id: number;
  /** Position and hash in the chain. */
  seq: number;
  hash: string;
  at: number;
  /** The change acknowledged, or null when `group` is. */
  changeId: number | null;
  /** A set of changes acknowledged together, named by the page (e.g. `run:42`), or null for one change. */
  group: string | null;
  reviewer: string;
  note: string;
}

export type AckSubject = { changeId: number; group?: undefined } | { group: string; changeId?: undefined };

export type AckInput = AckSubject & {
  reviewer: string;
  note?: string;
  /** Epoch ms (default now). */
  at?: number;
};

function check(input: AckInput): void {
  const { changeId, group } = input as { changeId?: unknown; group?: unknown };
  if ((changeId === undefined) === (group === undefined)) {
    throw new TypeError("an acknowledgement names either a changeId or a group, exactly one of them");
  }
  if (changeId !== undefined && !(Number.isSafeInteger(changeId) && (changeId as number) > 0)) {
    throw new TypeError(`changeId: expected a positive whole number, got ${JSON.stringify(changeId)}`);
  }
  if (group !== undefined && (typeof group !== "string" || !group.trim() || group.length > MAX_REVIEWER)) {
    throw new TypeError(
      `group: expected a name of 1 to ${MAX_REVIEWER} characters, got ${JSON.stringify(group)}`,
    );
  }
  if (typeof input.reviewer !== "string" || !input.reviewer.trim() || input.reviewer.length > MAX_REVIEWER) {
    throw new TypeError(
      `reviewer: expected a name of 1 to ${MAX_REVIEWER} characters, got ${JSON.stringify(input.reviewer)}`,
    );
  }
  if (input.note !== undefined && (typeof input.note !== "string" || input.note.length > MAX_NOTE)) {
    throw new TypeError(`note: expected text of at most ${MAX_NOTE} characters`);
  }
}

type AckRow = Omit<Selectable<AcksTable>, "seq" | "hash"> & { seq: number | null; hash: string | null };
const toAck = (r: AckRow): Ack => ({
  id: r.id,
  seq: r.seq!,
  hash: r.hash!,
  at: r.at,
  changeId: r.change_id,
  group: r.group_key,
  reviewer: r.reviewer,
  note: r.note,
});

/**
 * Records an acknowledgement (with an optional note) of one change or of a group, as the next link of the
 * chain, in its own write transaction. A change that does not exist (or was pruned) is a RangeError.
 */
export async function acknowledge(db: Kysely<Database>, input: AckInput): Promise<Ack> {
  check(input);
  return await db.transaction().execute(async (trx) => {
    if (input.changeId !== undefined) {
      const exists = await trx.selectFrom("changes").select("id").where("id", "=", input.changeId)
        .executeTakeFirst();
      if (!exists) throw new RangeError(`change ${input.changeId} does not exist (or was pruned)`);
    }
    const [row] = await extendChain(trx, "acks", [{
      at: input.at ?? Date.now(),
      change_id: input.changeId ?? null,
      group_key: input.group ?? null,
      reviewer: input.reviewer.trim(),
      note: input.note ?? "",
    }]);
    await trx.insertInto("acks").values(row).execute();
    return toAck(row);
  });
}

export interface AckQuery {
  /** Acks of these changes only. */
  changeIds?: readonly number[];
  /** Acks of this group only. */
  group?: string;
  /** Newest first, at most this many (default 100, at most 1000). */
  limit?: number;
  /** Only acks older than this one (the next page). */
  beforeId?: number;
}

/** Acknowledgements, newest first. */
export async function listAcks(db: Kysely<Database>, q: AckQuery = {}): Promise<Ack[]> {
  const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
  let query = db.selectFrom("acks").selectAll().orderBy("id", "desc").limit(limit);
  if (q.changeIds) {
    if (!q.changeIds.length) return [];
    query = query.where("change_id", "in", [...q.changeIds]);
  }
  if (q.group !== undefined) query = query.where("group_key", "=", q.group);
  if (q.beforeId !== undefined) query = query.where("id", "<", q.beforeId);
  return (await query.execute()).map(toAck);
}
