// The history's hash chain: every change row and acknowledgement row is a link whose hash covers its content
// and the previous link's hash, so a row edited, deleted or moved afterwards shows (`ctagent verify`).
//
// One chain per database, in the order rows were written. Link n (its `seq`) has
//   hash_n = SHA-256( hash_{n-1} as 64 lowercase hex characters, then canonical_n in UTF-8 ), as lowercase hex,
// with hash_0 = 64 zeros, or the checkpoint's hash once retention pruned the chain's beginning. canonical_n is
// the JSON text (JSON.stringify, no spaces) of the row's fields in a fixed order, strings made well-formed
// (a lone surrogate as U+FFFD, as SQLite stores it):
//   ["change", seq, id, run_id, at, collector, key, category, fields_changed, previous, current]
//   ["change+origin", seq, id, run_id, at, collector, key, category, fields_changed, previous, current, origin]
//   ["ack", seq, id, at, change_id, group_key, reviewer, note]
// (a change whose origin is null is a "change" link, as every change was before the column existed).
// This table of fields is the format: change it only with a new kind name, never in place.
import { hash } from "node:crypto";
import { DatabaseSync, type SQLOutputValue } from "node:sqlite";
import { type Kysely, type Selectable, sql, type Transaction } from "kysely";
import type { ChangesTable, Database } from "./schema.ts";
import { getState, setState } from "./state.ts";

type Q = Kysely<Database> | Transaction<Database>;

export const GENESIS = "0".repeat(64);

/** A position in the chain and the hash there. */
export interface Link {
  seq: number;
  hash: string;
}

/** The tables whose rows are links, and what a row of each is called in messages. */
export type ChainTable = "changes" | "acks";
const NOUN: Record<ChainTable, string> = { changes: "change", acks: "ack" };

/** A change row as the chain covers it. */
export type ChainedChange = Omit<Selectable<ChangesTable>, "seq" | "hash" | "origin"> & {
  seq: number;
  /** Absent in rows written before the column existed (migration 006 links those). */
  origin?: string | null;
};

const CHANGE_FIELDS = [
  "seq",
  "id",
  "run_id",
  "at",
  "collector",
  "key",
  "category",
  "fields_changed",
  "previous",
  "current",
  "origin",
] as const;
const ACK_FIELDS = ["seq", "id", "at", "change_id", "group_key", "reviewer", "note"] as const;
const FIELDS: Record<ChainTable, readonly string[]> = { changes: CHANGE_FIELDS, acks: ACK_FIELDS };

const wellFormed = (v: unknown) => typeof v === "string" && !v.isWellFormed() ? v.toWellFormed() : v;

/** The canonical fields of a row of `table` given in the table's order: what its canonical text is of. */
export function canonicalArray(table: ChainTable, values: readonly unknown[]): unknown[] {
  if (table === "changes") {
    // The last field, origin, is a field of the link only when there is one (see the module comment).
    const origin = values[values.length - 1];
    return origin === null || origin === undefined
      ? ["change", ...values.slice(0, -1).map(wellFormed)]
      : ["change+origin", ...values.map(wellFormed)];
  }
  return [NOUN[table], ...values.map(wellFormed)];
}

/** The canonical text of a row of `table` given its fields in the table's order (see the module comment). */
function canonicalOf(table: ChainTable, values: readonly unknown[]): string {
  return JSON.stringify(canonicalArray(table, values));
}

/**
 * canonicalOf() of fields read back from SQLite, which are well-formed already (it stores UTF-8): the walk over a
 * million links spends its time here.
 */
function storedCanonical(link: StoredLink): string {
  const v = link.values;
  if (link.table === "changes") {
    const text = JSON.stringify(v);
    // A change without origin is a "change" link of the fields before it (see the module comment): the text
    // without its last member (",null").
    return v[v.length - 1] === null ? `["change",${text.slice(1, -6)}]` : `["change+origin",${text.slice(1)}`;
  }
  return `["${NOUN[link.table]}",${JSON.stringify(v).slice(1)}`;
}

const str = (v: string | null) =>
  v === null ? "null" : JSON.stringify(v.isWellFormed() ? v : v.toWellFormed());

/** canonicalOf("changes", …) written out: a run links thousands of changes, and this is most of the cost. */
export function changeCanonical(c: ChainedChange): string {
  const origin = c.origin ?? null;
  return `[${origin === null ? `"change"` : `"change+origin"`},${c.seq},${c.id},${c.run_id},${c.at},${
    str(c.collector)
  },${str(c.key)},${str(c.category)},${str(c.fields_changed)},${str(c.previous)},${str(c.current)}${
    origin === null ? "" : `,${str(origin)}`
  }]`;
}

/** The hash of the link after `prev` whose row reads `canonical`. */
export function linkHash(prev: string, canonical: string): string {
  // The one-shot form: a run hashes thousands of links, and a Hash object each costs a third more.
  return hash("sha256", prev + canonical, "hex");
}

// ---- the head: where the next link goes ----

/** The latest checkpoint (the pruned beginning of the chain), or undefined when nothing was ever pruned. */
export interface Checkpoint extends Link {
  /** Links pruned in all, up to and including `seq`. */
  pruned: number;
  at: number;
}

async function lastCheckpoint(q: Q): Promise<Checkpoint | undefined> {
  const r = await q.selectFrom("chain_checkpoints").selectAll().orderBy("id", "desc").limit(1)
    .executeTakeFirst();
  return r && { seq: r.through_seq, hash: r.through_hash, pruned: r.pruned, at: r.at };
}

/** The last link of a table, by position. */
async function lastOf(q: Q, table: ChainTable): Promise<Link | undefined> {
  const r = await q.selectFrom(table).select(["seq", "hash"]).where("seq", "is not", null)
    .orderBy("seq", "desc").limit(1).executeTakeFirst();
  return r && { seq: r.seq!, hash: r.hash! };
}

/**
 * Where the chain ends: the head record, unless a row lies beyond it (a head edited back must not make two
 * rows share a position; `verify` reports the edit), else the checkpoint, else the start.
 */
export async function readHead(q: Q): Promise<Link> {
  let head = parseLink(await getState(q, "chain.head")) ?? (await lastCheckpoint(q)) ??
    { seq: 0, hash: GENESIS };
  for (const t of ["changes", "acks"] as const) {
    const last = await lastOf(q, t);
    if (last && last.seq > head.seq) head = last;
  }
  return { seq: head.seq, hash: head.hash };
}

/** A stored link record, or undefined when absent or not one (an edited record must not stop the runs). */
function parseLink(text: string | undefined): Link | undefined {
  try {
    const v = text === undefined ? undefined : JSON.parse(text);
    return Number.isSafeInteger(v?.seq) && typeof v?.hash === "string"
      ? { seq: v.seq, hash: v.hash }
      : undefined;
  } catch {
    return undefined;
  }
}

/** The next free row id of an AUTOINCREMENT table (never one a deleted row had). */
async function nextId(q: Q, table: ChainTable): Promise<number> {
  const r = await sql<{ n: number }>`SELECT max(
      coalesce((SELECT seq FROM sqlite_sequence WHERE name = ${table}), 0),
      coalesce((SELECT max(id) FROM ${sql.table(table)}), 0)) + 1 AS n`.execute(q);
  return Number(r.rows[0].n);
}

/** Links rows as they are written: each its id, chain position and hash; `end()` moves the head past them. */
export interface ChainLinker {
  link<T extends object>(row: T): T & { id: number; seq: number; hash: string };
  end(): Promise<void>;
}

/**
 * Links new rows of `table` one at a time (a run's changes as it writes them, each row's objects short-lived).
 * Use inside the write transaction that inserts the rows (BEGIN IMMEDIATE: nobody else extends the chain
 * meanwhile), and call `end()` before it commits.
 */
export async function chainLinker(trx: Transaction<Database>, table: ChainTable): Promise<ChainLinker> {
  let head = await readHead(trx);
  let id = await nextId(trx, table);
  let moved = false;
  const canonical = table === "changes"
    ? (r: object) => changeCanonical(r as ChainedChange)
    : (r: object) => canonicalOf(table, FIELDS[table].map((f) => (r as Record<string, unknown>)[f]));
  return {
    link(row) {
      const linked = { ...row, id: id++, seq: head.seq + 1, hash: "" };
      linked.hash = linkHash(head.hash, canonical(linked));
      head = { seq: linked.seq, hash: linked.hash };
      moved = true;
      return linked;
    },
    end: async () => {
      if (moved) await setState(trx, "chain.head", JSON.stringify(head));
    },
  };
}

/**
 * Gives new rows of `table` their id, chain position and hash, and moves the head past them. Call inside the
 * write transaction that inserts the rows (BEGIN IMMEDIATE: nobody else extends the chain meanwhile).
 */
export async function extendChain<T extends object>(
  trx: Transaction<Database>,
  table: ChainTable,
  rows: readonly T[],
): Promise<(T & { id: number; seq: number; hash: string })[]> {
  if (!rows.length) return [];
  const chain = await chainLinker(trx, table);
  const out = rows.map((row) => chain.link(row));
  await chain.end();
  return out;
}

// ---- verification ----

export type BreakKind =
  /** A row's fields no longer give its hash. */
  | "content changed"
  /** A row's stored hash was rewritten (its fields still give the original). */
  | "hash changed"
  /** A position has no row (deleted), or the last rows are gone. */
  | "row missing"
  /** Rows are out of the order they were written in (positions or ids swapped). */
  | "order broken"
  /** A row was written without a chain position (not through ctagent). */
  | "not linked"
  /** The head record does not name the chain's last link. */
  | "head changed";

export interface ChainBreak {
  kind: BreakKind;
  /** The row named (undefined for a break at the head). */
  table?: ChainTable;
  id?: number;
  seq?: number;
  message: string;
}

export interface ChainReport {
  ok: boolean;
  /** Links checked. */
  rows: number;
  /** Where checking started: the last checkpoint, or the chain's start (seq 0). */
  from: Link;
  /** The last link that checked out. */
  last: Link;
  checkpoint?: Checkpoint;
  broken?: ChainBreak;
  verifiedAt: number;
}

/** A link as stored: its table, position, stored hash, id, and its fields in canonical order. */
export interface StoredLink {
  table: ChainTable;
  seq: number;
  hash: string;
  id: number;
  values: SQLOutputValue[];
}

/** Rows of `table` after position `after`, in chain order, with their fields in canonical order. */
function* rowsOf(raw: DatabaseSync, table: ChainTable, after: number): Generator<StoredLink> {
  const fields = FIELDS[table];
  const stmt = raw.prepare(`SELECT hash, ${fields.join(", ")} FROM ${table} WHERE seq > ? ORDER BY seq`);
  (stmt as unknown as { setReturnArrays(on: boolean): void }).setReturnArrays(true);
  for (const r of stmt.iterate(after) as Iterable<SQLOutputValue[]>) {
    yield { table, hash: r[0] as string, seq: Number(r[1]), id: Number(r[2]), values: r.slice(1) };
  }
}

/** The links of both tables after position `after`, merged by position (verify and export read them so). */
export function* chainRows(raw: DatabaseSync, after: number): Generator<StoredLink> {
  const a = rowsOf(raw, "changes", after), b = rowsOf(raw, "acks", after);
  let x = a.next(), y = b.next();
  while (!x.done || !y.done) {
    if (y.done || (!x.done && x.value.seq <= y.value.seq)) {
      yield x.value;
      x = a.next();
    } else {
      yield y.value;
      y = b.next();
    }
  }
}

const name = (r: Pick<StoredLink, "table" | "id" | "seq">) => `${NOUN[r.table]} ${r.id} (seq ${r.seq})`;

export interface WalkOptions {
  now?: number;
  /** Rows between the walk's pauses (verifyChainSliced gives the event loop a turn at each). */
  slice?: number;
  /** Stop after this position (pruning checks only what it deletes); the head is then not checked. */
  until?: number;
}

/**
 * Walks the chain from the last checkpoint and names its first broken link. A generator that pauses every
 * `slice` rows; verifyChain runs it through. Reads only: run it inside a read transaction for a consistent view.
 */
export function* walkChain(raw: DatabaseSync, opts: WalkOptions = {}): Generator<void, ChainReport> {
  const now = opts.now ?? Date.now(), slice = opts.slice ?? 5000, until = opts.until ?? Infinity;
  const one = <T>(s: string, ...p: (number | string)[]) => raw.prepare(s).get(...p) as T | undefined;
  const cp = one<{ through_seq: number; through_hash: string; pruned: number; at: number }>(
    "SELECT through_seq, through_hash, pruned, at FROM chain_checkpoints ORDER BY id DESC LIMIT 1",
  );
  const checkpoint = cp && { seq: cp.through_seq, hash: cp.through_hash, pruned: cp.pruned, at: cp.at };
  const from: Link = checkpoint ? { seq: checkpoint.seq, hash: checkpoint.hash } : { seq: 0, hash: GENESIS };
  let last = from, rows = 0;
  const report = (broken?: ChainBreak): ChainReport => ({
    ok: !broken,
    rows,
    from,
    last,
    checkpoint,
    broken,
    verifiedAt: now,
  });

  for (const table of ["changes", "acks"] as const) {
    const loose = one<{ id: number }>(`SELECT id FROM ${table} WHERE seq IS NULL ORDER BY id LIMIT 1`);
    if (loose) {
      return report({
        kind: "not linked",
        table,
        id: loose.id,
        message: `${NOUN[table]} ${loose.id} is not linked: it was written without a chain position`,
      });
    }
    const early = one<{ id: number; seq: number }>(
      `SELECT id, seq FROM ${table} WHERE seq <= ? ORDER BY seq LIMIT 1`,
      from.seq,
    );
    if (early) {
      return report({
        kind: "order broken",
        table,
        ...early,
        message: `${
          name({ table, ...early })
        } lies in the pruned part of the chain (checkpoint at seq ${from.seq})`,
      });
    }
  }

  const lastId: Record<ChainTable, number> = { changes: 0, acks: 0 };
  const it = chainRows(raw, from.seq);
  let r = it.next();
  while (!r.done) {
    const row = r.value;
    const next = it.next();
    if (row.seq > until) break;
    if (row.seq <= last.seq) {
      return report({ kind: "order broken", ...row, message: `${name(row)} repeats position ${row.seq}` });
    }
    if (row.seq > last.seq + 1) {
      // A row of the same table whose id says it comes before this one was not where its id puts it: moved.
      // (Rows without a position were reported above.)
      const moved = one<{ id: number; seq: number }>(
        `SELECT id, seq FROM ${row.table} WHERE id > ? AND id < ? ORDER BY id LIMIT 1`,
        lastId[row.table],
        row.id,
      );
      if (moved) {
        return report({
          kind: "order broken",
          table: row.table,
          ...moved,
          message:
            `${
              NOUN[row.table]
            } ${moved.id} was moved to seq ${moved.seq}: it belongs between seq ${last.seq} ` +
            `and ${name(row)}`,
        });
      }
      const n = row.seq - last.seq - 1;
      const where = n > 1 ? `seq ${last.seq + 1}–${row.seq - 1}` : `seq ${last.seq + 1}`;
      return report({
        kind: "row missing",
        ...row,
        message: `${n} row${n > 1 ? "s" : ""} missing at ${where}, before ${name(row)}`,
      });
    }
    const hash = linkHash(last.hash, storedCanonical(row));
    if (hash !== row.hash) {
      const after = next.done ? undefined : next.value;
      // Ids grow with positions in each table: a smaller id after a larger one means rows were moved.
      if (row.id < lastId[row.table] || (after && after.table === row.table && after.id < row.id)) {
        const moved = row.id < lastId[row.table] ? row : after!;
        return report({
          kind: "order broken",
          ...row,
          message: `${name(moved)} comes after ${NOUN[row.table]} ${
            row.id < lastId[row.table] ? lastId[row.table] : row.id
          } in the chain: rows were reordered`,
        });
      }
      // The row's own fields still give what the next link (or the head) was built on: only its hash was edited.
      const following = after ? linkHash(hash, storedCanonical(after)) === after.hash : false;
      return report(
        following ? { kind: "hash changed", ...row, message: `${name(row)}: its stored hash was changed` } : {
          kind: "content changed",
          ...row,
          message: `${name(row)}: content changed (its hash does not match)`,
        },
      );
    }
    lastId[row.table] = row.id;
    last = { seq: row.seq, hash };
    rows++;
    if (rows % slice === 0) yield;
    r = next;
  }
  if (until !== Infinity) return report();

  const head = parseLink(one<{ value: string }>("SELECT value FROM state WHERE key = 'chain.head'")?.value);
  if (!head) {
    if (last.seq === 0) return report(); // nothing was ever linked
    return report({
      kind: "head changed",
      message: `the chain head record is missing or unreadable (last link seq ${last.seq})`,
    });
  }
  if (head.seq > last.seq) {
    const n = head.seq - last.seq;
    return report({
      kind: "row missing",
      seq: last.seq + 1,
      message: `${n} row${
        n > 1 ? "s" : ""
      } missing at the end: the chain ends at seq ${last.seq}, its head is seq ${head.seq}`,
    });
  }
  if (head.seq !== last.seq || head.hash !== last.hash) {
    return report({
      kind: "head changed",
      message: head.seq === last.seq
        ? `the chain head record's hash is not that of the last link (seq ${last.seq})`
        : `the chain head record (seq ${head.seq}) does not name its last link (seq ${last.seq})`,
    });
  }
  return report();
}

/** The hash stored at position `seq`: a row's, else a checkpoint's (undefined when neither has it). */
export function storedHashAt(raw: DatabaseSync, seq: number): string | undefined {
  if (seq === 0) return GENESIS;
  for (const t of ["changes", "acks"] as const) {
    const r = raw.prepare(`SELECT hash FROM ${t} WHERE seq = ?`).get(seq) as { hash: string } | undefined;
    if (r) return r.hash;
  }
  const cp = raw.prepare(
    "SELECT through_hash FROM chain_checkpoints WHERE through_seq = ? ORDER BY id DESC LIMIT 1",
  )
    .get(seq) as { through_hash: string } | undefined;
  return cp?.through_hash;
}

/** Verifies the whole chain at once (the `verify` command). */
export function verifyChain(raw: DatabaseSync, opts: WalkOptions = {}): ChainReport {
  const walk = walkChain(raw, { slice: Infinity, ...opts });
  for (;;) {
    const step = walk.next();
    if (step.done) return step.value;
  }
}

/** Verifies the chain a slice at a time, letting other work run between slices; `signal` stops it between two. */
export async function verifyChainSliced(raw: DatabaseSync, signal?: AbortSignal): Promise<ChainReport> {
  const walk = walkChain(raw);
  for (;;) {
    signal?.throwIfAborted();
    const step = walk.next();
    if (step.done) return step.value;
    await new Promise((r) => setTimeout(r, 0));
  }
}

/**
 * Verifies the stored chain on a read connection of its own: one consistent snapshot, and the runs that write
 * meanwhile never wait on it (an in-memory database has no second connection: its own is used).
 */
export async function verifySnapshot(
  opened: { path: string; raw: DatabaseSync },
  signal?: AbortSignal,
): Promise<ChainReport> {
  if (opened.path === ":memory:") return verifyChain(opened.raw);
  const reader = new DatabaseSync(opened.path, { readOnly: true });
  try {
    reader.exec("BEGIN");
    return await verifyChainSliced(reader, signal);
  } finally {
    if (reader.isTransaction) reader.exec("COMMIT");
    reader.close();
  }
}

/** What `status` and the page show of the chain: the last verification and the head. */
export interface ChainState {
  head: Link;
  /** The last verification's result, or null when none ran yet. */
  verified: Omit<ChainReport, "from" | "checkpoint"> | null;
}

export async function recordVerification(q: Q, report: ChainReport): Promise<void> {
  const { from: _from, checkpoint: _cp, ...kept } = report;
  await setState(q, "chain.verified", JSON.stringify(kept));
}

export async function chainState(q: Q): Promise<ChainState> {
  const v = await getState(q, "chain.verified");
  return { head: await readHead(q), verified: v ? JSON.parse(v) : null };
}

/** One line for `status`: "ok, 1204 links checked at …", "BROKEN: change 42 (seq 57): … (found at …)", or not yet. */
export function chainSummary(s: ChainState): string {
  const links = (n: number) => `${n} link${n === 1 ? "" : "s"}`;
  if (!s.verified) return `not verified yet (${links(s.head.seq)}; run ctagent verify)`;
  const at = new Date(s.verified.verifiedAt).toISOString();
  return s.verified.ok
    ? `ok, ${links(s.verified.rows)} checked at ${at}`
    : `BROKEN: ${s.verified.broken!.message} (found at ${at})`;
}

// ---- retention: pruning the beginning of the chain keeps it verifiable ----

/**
 * Deletes the chain's links before the first one written at or after `cutoff` (a prefix, so what stays still
 * verifies from a checkpoint of the last link deleted), after checking that prefix: a broken one is kept as
 * evidence and nothing is pruned. Returns the rows deleted per table, or the break that stopped it.
 */
export async function pruneChain(
  trx: Transaction<Database>,
  raw: DatabaseSync,
  cutoff: number,
  now: number,
): Promise<{ changes: number; acks: number; broken?: ChainBreak }> {
  const cp = await lastCheckpoint(trx);
  const from = cp?.seq ?? 0;
  // The first link at or after the cutoff, in either table: a clock set back leaves some older rows for later.
  const firstKept = async (t: ChainTable) =>
    (await trx.selectFrom(t).select("seq").where("seq", ">", from).where("at", ">=", cutoff).orderBy("seq")
      .limit(1).executeTakeFirst())?.seq ?? undefined;
  const head = await readHead(trx);
  const bounds = [await firstKept("changes"), await firstKept("acks"), head.seq + 1].filter((s) =>
    s !== undefined && s !== null
  ) as number[];
  const through = Math.min(...bounds) - 1;
  if (through <= from) return { changes: 0, acks: 0 };
  // Check the links about to go: once gone, nothing could show they had been altered.
  const report = verifyChain(raw, { now, until: through });
  if (report.broken) return { changes: 0, acks: 0, broken: report.broken };
  const at = (await trx.selectFrom("changes").select("hash").where("seq", "=", through).executeTakeFirst()) ??
    (await trx.selectFrom("acks").select("hash").where("seq", "=", through).executeTakeFirst());
  await trx.insertInto("chain_checkpoints").values({
    at: now,
    pruned: (cp?.pruned ?? 0) + (through - from),
    through_seq: through,
    through_hash: at!.hash!,
  }).execute();
  const changes = await trx.deleteFrom("changes").where("seq", "<=", through).executeTakeFirst();
  const acks = await trx.deleteFrom("acks").where("seq", "<=", through).executeTakeFirst();
  return { changes: Number(changes.numDeletedRows), acks: Number(acks.numDeletedRows) };
}
