// Small key-value state (outbox drop counters, last snapshot times, the configuration in force).
import type { Kysely, Transaction } from "kysely";
import type { Database } from "./schema.ts";

type Q = Kysely<Database> | Transaction<Database>;

export async function getState(db: Q, key: string): Promise<string | undefined> {
  const row = await db.selectFrom("state").select("value").where("key", "=", key).executeTakeFirst();
  return row?.value;
}

export async function setState(db: Q, key: string, value: string): Promise<void> {
  await db.insertInto("state").values({ key, value })
    .onConflict((oc) => oc.column("key").doUpdateSet({ value }))
    .execute();
}

export async function addToCounter(db: Q, key: string, n: number): Promise<number> {
  const next = Number(await getState(db, key) ?? 0) + n;
  await setState(db, key, String(next));
  return next;
}
