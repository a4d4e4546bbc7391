// The contents table's one owner: captured text of file versions, stored once per checksum.
import type { DatabaseSync } from "node:sqlite";
import { sql, type Transaction } from "kysely";
import type { Db } from "./open.ts";
import type { Database } from "./schema.ts";
import { statement } from "./statements.ts";

/**
 * Moves a run's staged contents (a staging table with `checksum`, `text`, `size`) into `contents`, inside the
 * run's transaction; a checksum stored already stays as it is.
 */
export function storeStagedContents(raw: DatabaseSync, staged: string, at: number): void {
  statement(
    raw,
    `INSERT INTO main.contents (checksum, text, size, captured_at)
     SELECT checksum, text, size, ? FROM ${staged} WHERE true ON CONFLICT (checksum) DO NOTHING`,
  ).run(at);
}

/** Stores captured contents one by one inside a run's transaction; a checksum stored already stays as it is. */
export function contentWriter(
  raw: DatabaseSync,
  at: number,
): { store(c: { checksum: string; text: string; size: number }): void } {
  const insert = statement(
    raw,
    "INSERT INTO contents (checksum, text, size, captured_at) VALUES (?, ?, ?, ?) ON CONFLICT (checksum) DO NOTHING",
  );
  return { store: (c) => void insert.run(c.checksum, c.text, c.size, at) };
}

/** The captured content of `checksum` (hex, any case), or null. */
export async function content(
  db: Db,
  checksum: string,
): Promise<{ text: string; size: number; captured_at: number } | null> {
  return await db.selectFrom("contents").where("checksum", "=", checksum.toLowerCase())
    .select(["text", "size", "captured_at"]).executeTakeFirst() ?? null;
}

/** Which of `checksums` have captured content. */
export async function captured(db: Db, checksums: string[]): Promise<string[]> {
  if (!checksums.length) return [];
  return (await db.selectFrom("contents").where("checksum", "in", checksums).select("checksum").execute())
    .map((r) => r.checksum);
}

/**
 * Deletes content captured before `cutoff` that no stored item refers to: `referrers` are the collectors that
 * capture content and the field their items hold its checksum in.
 */
export async function pruneContents(
  trx: Transaction<Database>,
  cutoff: number,
  referrers: readonly { collector: string; field: string }[],
): Promise<number> {
  const r = await trx.deleteFrom("contents").where("captured_at", "<", cutoff)
    .where(({ and, not, exists, selectFrom }) =>
      and(referrers.map((c) =>
        not(exists(
          selectFrom("items").select("key").where("collector", "=", c.collector)
            .where(sql`json_extract(data, ${"$." + c.field})`, "=", sql.ref("contents.checksum")),
        ))
      ))
    ).executeTakeFirst();
  return Number(r.numDeletedRows);
}
