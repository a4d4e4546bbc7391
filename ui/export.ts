// Export of any filtered view as CSV or NDJSON, streamed: rows are read a page at a time as the client takes
// them (a pull stream), so a million changes never sit in memory.
import { sql } from "kysely";
import type { Db } from "../db/open.ts";
import { type ChangesQuery, changesWhere } from "./queries.ts";

export type ExportFormat = "csv" | "ndjson";
/** Rows read per page. */
const PAGE = 1000;

/**
 * One CSV cell (RFC 4180 quoting). A text starting like a spreadsheet formula (`=`, `+`, `-`, `@`, a tab or a
 * CR) gets a leading `'`: file names and package texts come from whoever can write on the machine.
 */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return "";
  let s = typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v);
  if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

const encoder = new TextEncoder();

/** A pull stream of text chunks from `next` (undefined: the end). */
function pulled(next: () => Promise<string | undefined>): ReadableStream<Uint8Array> {
  return new ReadableStream({
    async pull(controller) {
      const text = await next();
      if (text === undefined) controller.close();
      else controller.enqueue(encoder.encode(text));
    },
  }, { highWaterMark: 1 });
}

const CHANGE_HEADER = [
  "id",
  "time",
  "collector",
  "key",
  "category",
  "fields_changed",
  "previous",
  "current",
  "reviewed_by",
  "reviewed_at",
  "review_note",
];

interface ExportedChange {
  id: number;
  at: number;
  collector: string;
  key: string;
  category: string;
  fields_changed: string;
  previous: string | null;
  current: string | null;
  ack: string | null;
}

/** The changes matching `q` (its text search aside; its key pattern too), newest first, as CSV or NDJSON. */
export function exportChanges(db: Db, q: ChangesQuery, format: ExportFormat): ReadableStream<Uint8Array> {
  let after: { at: number; id: number } | undefined;
  let started = false;
  let done = false;
  return pulled(async () => {
    if (done) return undefined;
    let head = "";
    if (!started) {
      started = true;
      if (format === "csv") head = CHANGE_HEADER.join(",") + "\r\n";
    }
    const where = changesWhere(q);
    const cursor = after
      ? sql` and (c.at < ${after.at} or (c.at = ${after.at} and c.id < ${after.id}))`
      : sql``;
    const rows =
      (await sql<ExportedChange>`select c.id, c.at, c.collector, c.key, c.category, c.fields_changed,
      c.previous, c.current, (select json_object('reviewer', a.reviewer, 'at', a.at, 'note', a.note) from acks a
        where a.change_id = c.id or a.group_key = 'run:' || c.run_id order by a.id desc limit 1) as ack
      from changes c where ${where}${cursor} order by c.at desc, c.id desc limit ${PAGE}`.execute(db)).rows;
    if (rows.length < PAGE) done = true;
    if (!rows.length) return head || undefined;
    const last = rows[rows.length - 1];
    after = { at: last.at, id: last.id };
    let out = head;
    for (const r of rows) {
      if (q.keys && !q.keys(r.key)) continue; // a glob or regex of the search box: no index answers it
      const ack = r.ack ? JSON.parse(r.ack) as { reviewer: string; at: number; note: string } : null;
      const time = new Date(r.at).toISOString();
      if (format === "ndjson") {
        out += JSON.stringify({
          id: r.id,
          time,
          collector: r.collector,
          key: r.key,
          category: r.category,
          fields_changed: JSON.parse(r.fields_changed),
          previous: r.previous === null ? null : JSON.parse(r.previous),
          current: r.current === null ? null : JSON.parse(r.current),
          review: ack && { by: ack.reviewer, at: new Date(ack.at).toISOString(), note: ack.note },
        }) + "\n";
      } else {
        out += [
          r.id,
          time,
          r.collector,
          r.key,
          r.category,
          r.fields_changed,
          r.previous,
          r.current,
          ack?.reviewer,
          ack && new Date(ack.at).toISOString(),
          ack?.note,
        ].map(csvCell).join(",") + "\r\n";
      }
    }
    return out;
  });
}

/**
 * A collector's items in key order as CSV (its columns' fields first, then every other field as JSON in `data`)
 * or NDJSON; `keep` picks the ones the view shows.
 */
export function exportInventory(
  db: Db,
  collector: string,
  fields: readonly string[],
  format: ExportFormat,
  keep: (item: { key: string; data: Record<string, unknown>; error: string | null }) => boolean,
): ReadableStream<Uint8Array> {
  let after: string | undefined;
  let started = false;
  let done = false;
  return pulled(async () => {
    if (done) return undefined;
    let out = "";
    if (!started) {
      started = true;
      if (format === "csv") {
        out = ["key", "first_seen", "changed_at", "error", ...fields, "data"].map(csvCell).join(",") + "\r\n";
      }
    }
    let q = db.selectFrom("items").where("collector", "=", collector)
      .select(["key", "data", "error", "first_seen", "changed_at"]).orderBy("key").limit(PAGE);
    if (after !== undefined) q = q.where("key", ">", after);
    const rows = await q.execute();
    if (rows.length < PAGE) done = true;
    if (!rows.length) return out || undefined;
    after = rows[rows.length - 1].key;
    for (const r of rows) {
      const data = JSON.parse(r.data) as Record<string, unknown>;
      if (!keep({ key: r.key, data, error: r.error })) continue;
      const first = new Date(r.first_seen).toISOString(), changed = new Date(r.changed_at).toISOString();
      if (format === "ndjson") {
        out += JSON.stringify({ key: r.key, first_seen: first, changed_at: changed, error: r.error, data }) +
          "\n";
      } else {
        const rest = Object.fromEntries(Object.entries(data).filter(([k]) => !fields.includes(k)));
        out += [r.key, first, changed, r.error, ...fields.map((f) => data[f]), rest].map(csvCell).join(",") +
          "\r\n";
      }
    }
    return out;
  });
}
