// The state table's one owner: small key-value state (outbox counters, last snapshot times, the DCR in force).
import type { Kysely, Transaction } from "kysely";
import type { Database } from "./schema.ts";

type Q = Kysely<Database> | Transaction<Database>;

/** Every key the state table holds: a new one is added here, so that none is spelled two ways. */
export type StateKey =
  /** Records dropped by the outbox bound, ever (a counter), and when last (epoch ms). */
  | "outbox.dropped"
  | "outbox.dropped_at"
  /** Records delivered, ever (a counter), and when last (epoch ms). */
  | "outbox.delivered"
  | "outbox.delivered_at"
  /** The configuration in force (JSON, without its settings). */
  | "config.in_force"
  /** When a collector last sent its whole inventory (epoch ms). */
  | `snapshot.${string}`
  /** How many of a collector's spec revisions its stored items were refreshed for. */
  | `revision.${string}`
  /** What a collector's next run can begin before its turn (Collected.ahead). */
  | `ahead.${string}`
  /** The history chain's head and its last verification (db/chain.ts). */
  | "chain.head"
  | "chain.verified"
  /** What realtime follows and how it went, as the daemon last told it (JSON: pipeline/realtime.ts). */
  | "realtime"
  /** A `--once` asking the daemon for a run (the daemon takes it by deleting it), and the result, by request id. */
  | `run.request.${string}`
  | `run.result.${string}`;

export async function getState(db: Q, key: StateKey): Promise<string | undefined> {
  const row = await db.selectFrom("state").select("value").where("key", "=", key).executeTakeFirst();
  return row?.value;
}

export async function setState(db: Q, key: StateKey, value: string): Promise<void> {
  await db.insertInto("state").values({ key, value })
    .onConflict((oc) => oc.column("key").doUpdateSet({ value }))
    .execute();
}

export async function addToCounter(db: Q, key: StateKey, n: number): Promise<number> {
  const next = Number(await getState(db, key) ?? 0) + n;
  await setState(db, key, String(next));
  return next;
}

export async function deleteState(db: Q, key: StateKey): Promise<void> {
  await db.deleteFrom("state").where("key", "=", key).execute();
}

/** The entries whose key starts with `prefix` (one of the families above, e.g. "run.request."), by key. */
export async function statesStartingWith(
  db: Q,
  prefix: `${string}.`,
): Promise<{ key: StateKey; value: string }[]> {
  return await db.selectFrom("state").select(["key", "value"])
    .where((eb) => eb(eb.fn("substr", ["key", eb.val(1), eb.val(prefix.length)]), "=", prefix))
    .orderBy("key").execute() as { key: StateKey; value: string }[];
}
