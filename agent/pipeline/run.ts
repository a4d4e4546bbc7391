// One collector run: collect → diff against the stored items → one transaction (items, changes, outbox, run).
import type { DatabaseSync } from "node:sqlite";
import type { Transaction } from "kysely";
import type { Collected, Collector } from "../collectors/types.ts";
import { dataTypeOf } from "../collectors/spec.ts";
import type { Settings } from "../config/dcr.ts";
import type { Host } from "../host/mod.ts";
import type { Logger } from "../log.ts";
import type { Db } from "../../db/open.ts";
import type { Database } from "../../db/schema.ts";
import { addToCounter, getState, setState } from "../../db/state.ts";
import { storageProblem } from "../../db/errors.ts";
import { dirname } from "node:path";
import { type Change, diffOne, isUnseen, removedChange, type StoredItem, type Upsert } from "./diff.ts";
import {
  changeRecord,
  changeStream,
  inventoryHead,
  inventoryRecord,
  inventoryStream,
  type WireRecord,
} from "./records.ts";
import { arrays, PAGE, Stage, STORED, stored, type StoredRow } from "./stage.ts";

export type RunStatus = "baseline" | "ok" | "failed" | "aborted";

export interface RunCounts {
  items: number;
  added: number;
  removed: number;
  modified: number;
  errors: number;
  /** Records put in the outbox by this run. */
  records: number;
}

export interface RunSummary {
  /** The runs row; 0 when even that could not be written (see `storage`). */
  runId: number;
  collector: string;
  status: RunStatus;
  startedAt: number;
  finishedAt: number;
  counts: RunCounts;
  warnings: string[];
  error?: string;
  /** The change records of this run (ConfigurationChange shape); empty when `keepChanges` is false. */
  changes: WireRecord[];
  /** Item rows this run wrote or deleted: 0 means the stored inventory is as it was (mirrors need no rewrite). */
  itemsWritten: number;
  /**
   * Set when the run failed because the database could not store it (full, read-only, damaged), not because
   * of the collector: what the operator can do. `--once` exits 19 for it.
   */
  storage?: string;
}

export interface RunOptions {
  db: Db;
  /** The same connection as `db`, for the hot paths (staging, paged reads). */
  raw: DatabaseSync;
  collector: Collector;
  settings: Settings;
  host: Host;
  log: Logger;
  signal: AbortSignal;
  now?: () => number;
  /** Most records the outbox keeps; the oldest are dropped, counted and logged beyond it (SPEC §7.11). */
  outboxMax?: number;
  /** Return the change records in the summary (default true); the daemon needs only the counts. */
  keepChanges?: boolean;
  /**
   * A `--forward` endpoint takes the records of collectors AMA does not (`toAma: false`); without one their
   * records stay in the local store only (the outbox would keep them for nobody).
   */
  forwarding?: boolean;
}

export const DEFAULT_OUTBOX_MAX = 500_000;
const zero = (): RunCounts => ({ items: 0, added: 0, removed: 0, modified: 0, errors: 0, records: 0 });

/** The stored items of a collector, by key (JSON left unparsed): for readers that want them all (--once --json). */
export function loadItems(raw: DatabaseSync, collector: string): Map<string, StoredItem> {
  const rows = arrays(raw.prepare(`SELECT ${STORED} FROM items WHERE collector = ?`)).all(collector);
  return new Map((rows as unknown as StoredRow[]).map((r) => [r[0], stored(r)]));
}

async function insertChunked<T>(rows: T[], write: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += PAGE) await write(rows.slice(i, i + PAGE));
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Writes the runs row of a run that could not be written when it ended (it failed for the database's sake). */
export async function recordRun(db: Db, s: RunSummary): Promise<number> {
  const row = await db.insertInto("runs").values({
    collector: s.collector,
    started_at: s.startedAt,
    finished_at: s.finishedAt,
    status: s.status,
    counts: JSON.stringify(s.counts),
    error: s.error ?? null,
    warnings: JSON.stringify(s.warnings),
  }).returning("id").executeTakeFirstOrThrow();
  return row.id;
}

/**
 * Runs one collector and stores its result atomically. Never throws for a collector failure, nor for a
 * database that cannot store the result (full, read-only, damaged): that run is failed, with `storage` set,
 * and recorded if even its runs row can be written (`runId` 0 when not).
 */
export async function runCollector(opts: RunOptions): Promise<RunSummary> {
  const { db, collector, log } = opts;
  const now = opts.now ?? Date.now;
  const startedAt = now();
  const name = collector.name;
  const fail = async (
    status: "failed" | "aborted",
    error: string,
    warnings: string[] = [],
    storage?: string,
  ): Promise<RunSummary> => {
    const summary: RunSummary = {
      runId: 0,
      collector: name,
      status,
      startedAt,
      finishedAt: now(),
      counts: zero(),
      warnings,
      error,
      changes: [],
      itemsWritten: 0,
      ...(storage ? { storage } : {}),
    };
    try {
      summary.runId = await recordRun(db, summary);
    } catch (e) {
      const problem = storageProblem(e);
      if (!problem) throw e;
      log.error(`${name} run ${status}, and its record cannot be stored either`, {
        collector: name,
        error: problem.message,
      });
      return { ...summary, storage: summary.storage ?? problem.advice };
    }
    (status === "failed" ? log.error : log.warn)(`${name} run ${status}`, { collector: name, error });
    return summary;
  };
  try {
    return await collectAndStore(opts, startedAt, fail);
  } catch (e) {
    const where = opts.raw.location() ?? "the state database";
    const problem = storageProblem(e, opts.raw.location() ? dirname(where) : undefined);
    if (!problem) throw e;
    return await fail("failed", `cannot store the run in ${where}: ${problem.message}`, [], problem.advice);
  }
}

async function collectAndStore(
  opts: RunOptions,
  startedAt: number,
  fail: (status: "failed" | "aborted", error: string) => Promise<RunSummary>,
): Promise<RunSummary> {
  const { db, collector, settings, host, log, signal } = opts;
  const name = collector.name;
  // The first run is the baseline; the whole inventory goes out on it and every inventoryCollectionFrequency.
  const baseline = !(await db.selectFrom("runs").select("id").where("collector", "=", name)
    .where("status", "in", ["baseline", "ok"]).limit(1).executeTakeFirst());
  const snapshotDue = settings.enableInventory && (baseline ||
    startedAt - Number(await getState(db, `snapshot.${name}`) ?? 0) >=
      settings.inventorySettings.inventoryCollectionFrequency * 1000);
  // What the collector finds goes to the staging tables as it comes (a streaming collector writes there
  // itself), so no run holds its whole collection; the previous items are known by fingerprint only.
  let stage: Stage;
  try {
    stage = await Stage.open(db, opts.raw, name, (i) => collector.key(i), {
      bodies: snapshotDue,
      checksums: baseline,
    });
  } catch (e) {
    return fail("failed", `cannot stage the collection: ${errorText(e)}`);
  }
  try {
    let collected;
    try {
      collected = await collector.collect(settings, {
        host,
        signal,
        log: log.child({ collector: name }),
        previous: stage.previous,
        sink: stage,
      });
      for (const i of collected.items) await stage.add(i);
      for (const k of collected.same ?? []) await stage.same(k);
      for (const c of collected.contents ?? []) await stage.content(c);
      await stage.flush();
    } catch (e) {
      return await fail(signal.aborted ? "aborted" : "failed", errorText(e));
    }
    // An abort that lands after collect() returned still must not write a result.
    if (signal.aborted) return await fail("aborted", "aborted before the result was stored");
    return await store(opts, stage, collected, { startedAt, baseline, snapshotDue });
  } finally {
    await stage.close().catch((e) =>
      log.warn("cannot drop the staging tables", { collector: name, error: e })
    );
  }
}

/** The run's one transaction: the staged collection against the stored items, a page at a time. */
async function store(
  opts: RunOptions,
  stage: Stage,
  collected: Collected,
  plan: { startedAt: number; baseline: boolean; snapshotDue: boolean },
): Promise<RunSummary> {
  const { db, raw, collector, host, log } = opts;
  const { startedAt, baseline, snapshotDue } = plan;
  const name = collector.name;
  const warnings = [...(collected.warnings ?? [])];
  if (stage.duplicates) {
    warnings.push(
      `${stage.duplicates} duplicate item key(s) dropped, e.g. ${stage.duplicateExamples.join(", ")}`,
    );
  }
  const finishedAt = (opts.now ?? Date.now)();
  const ctx = {
    dataType: dataTypeOf(collector, host.os),
    computer: host.hostname,
    at: finishedAt,
    currentField: collector.currentField,
  };
  const counts = zero();
  counts.items = stage.count;
  counts.errors = stage.errors;
  const changeRecords: [string, WireRecord][] = [];
  const keep = opts.keepChanges ?? true;
  let itemsWritten = 0;

  const runId = await db.transaction().execute(async (trx) => {
    const run = await trx.insertInto("runs").values({
      collector: name,
      started_at: startedAt,
      finished_at: finishedAt,
      status: baseline ? "baseline" : "ok",
      counts: "{}",
      error: null,
      warnings: JSON.stringify(warnings),
    }).returning("id").executeTakeFirstOrThrow();
    const out = writers(raw, name, finishedAt, collector.toAma || !!opts.forwarding);
    const changeTo = changeStream(collector), inventoryTo = inventoryStream(collector);
    const report = async (changes: Change[]) => {
      if (!changes.length) return;
      changes.sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
      for (const c of changes) {
        counts[c.category === "Added" ? "added" : c.category === "Removed" ? "removed" : "modified"]++;
      }
      await writeChanges(trx, run.id, name, changes, finishedAt);
      const records = changes.map((c) => changeRecord(c, ctx));
      if (keep) changes.forEach((c, i) => changeRecords.push([c.key, records[i]]));
      out.records(changeTo, records);
      // A change also emits inventory (SPEC §3.2), unless the whole inventory goes out anyway.
      if (!snapshotDue) {
        out.records(
          inventoryTo,
          changes.flatMap((c) => c.current && !c.current.error ? [inventoryRecord(c.current, ctx)] : []),
        );
      }
    };

    // Staged items (all but the ones the collector said are the same) against their stored versions. A
    // baseline with nothing stored is every staged item written as it is: one statement.
    const diffOpts = { volatile: collector.volatile, baseline };
    const fresh = baseline && !raw.prepare("SELECT 1 FROM items WHERE collector = ? LIMIT 1").get(name);
    if (fresh) itemsWritten += stage.insertAll(finishedAt);
    for (let after = 0; !fresh;) {
      const page = stage.page(after);
      if (!page.length) break;
      after = page[page.length - 1].id;
      const upserts: Upsert[] = [];
      const changes: Change[] = [];
      for (const { prev, next } of page) {
        const d = diffOne(prev, next, diffOpts);
        if (d.upsert) upserts.push(d.upsert);
        if (d.change) changes.push(d.change);
      }
      out.items(upserts);
      itemsWritten += upserts.length;
      await report(changes);
    }
    // Stored items not reported: gone (Removed), unless under a prefix the collector could not see.
    const unseen = collected.unseen ?? [];
    for (const page of stage.unreported()) {
      const gone = page.filter((p) => !isUnseen(p.key, unseen));
      if (!gone.length) continue;
      itemsWritten += gone.length;
      await trx.deleteFrom("items").where("collector", "=", name).where("key", "in", gone.map((p) => p.key))
        .execute();
      await report(gone.flatMap((p) => removedChange(p, baseline) ?? []));
    }
    // The whole inventory: staged items from the bodies made while collecting, the others (the same as
    // before, or not seen) from the stored items.
    if (snapshotDue) {
      if (out.delivering) {
        out.count(stage.snapshot(inventoryTo, inventoryHead(ctx), finishedAt));
        for (const items of stage.unstagedGood()) {
          out.records(inventoryTo, items.map((i) => inventoryRecord(i, ctx)));
        }
      }
      await setState(trx, `snapshot.${name}`, String(finishedAt));
    }
    stage.storeContents(finishedAt);
    counts.records = out.written();
    await enforceOutboxBound(trx, opts.outboxMax ?? DEFAULT_OUTBOX_MAX, log);
    await trx.updateTable("runs").set({ counts: JSON.stringify(counts) }).where("id", "=", run.id).execute();
    return run.id;
  });

  const summary: RunSummary = {
    runId,
    collector: name,
    status: baseline ? "baseline" : "ok",
    startedAt,
    finishedAt,
    counts,
    warnings,
    changes: changeRecords.sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0).map((c) => c[1]),
    itemsWritten,
  };
  for (const w of warnings) log.warn(w, { collector: name });
  log.info(`${name} run ${summary.status}`, {
    collector: name,
    items: counts.items,
    added: counts.added,
    removed: counts.removed,
    modified: counts.modified,
    ms: finishedAt - startedAt,
  });
  return summary;
}

/**
 * The two big writes of a run, items and outbox records, as prepared statements on the raw connection: a
 * baseline writes hundreds of thousands of rows, and building each through Kysely cost more than SQLite's work.
 * Only called inside the run's transaction, which holds the connection.
 */
function writers(raw: DatabaseSync, collector: string, at: number, delivering: boolean) {
  const item = raw.prepare(
    `INSERT INTO items (collector, key, checksum, data, error, fingerprint, first_seen, changed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (collector, key) DO UPDATE SET checksum = excluded.checksum, data = excluded.data,
       error = excluded.error, fingerprint = excluded.fingerprint, changed_at = excluded.changed_at`,
  );
  const record = raw.prepare("INSERT INTO outbox (stream, record, created_at, attempts) VALUES (?, ?, ?, 0)");
  let written = 0;
  return {
    items(upserts: Upsert[]) {
      for (const u of upserts) {
        // An existing row keeps its first_seen: the conflict update leaves it alone.
        const changedAt = u.changed || u.changedAt === undefined ? at : u.changedAt;
        item.run(collector, u.key, u.checksum, u.json, u.error, u.fingerprint, at, changedAt);
      }
    },
    /** Whether records go to the outbox at all (see RunOptions.forwarding). */
    delivering,
    records(stream: string, records: WireRecord[]) {
      if (!delivering) return;
      for (const r of records) record.run(stream, JSON.stringify(r), at);
      written += records.length;
    },
    /** Records written some other way. */
    count(n: number) {
      written += n;
    },
    written: () => written,
  };
}

async function writeChanges(
  trx: Transaction<Database>,
  runId: number,
  collector: string,
  changes: Change[],
  at: number,
) {
  await insertChunked(changes, (chunk) =>
    trx.insertInto("changes").values(chunk.map((c) => ({
      run_id: runId,
      at,
      collector,
      key: c.key,
      category: c.category,
      fields_changed: JSON.stringify(c.fieldsChanged),
      previous: c.previous ? JSON.stringify(c.previous) : null,
      current: c.current ? JSON.stringify(c.current) : null,
    }))).execute());
}

async function enforceOutboxBound(trx: Transaction<Database>, max: number, log: Logger): Promise<void> {
  const { n } = await trx.selectFrom("outbox").select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  const excess = Number(n) - max;
  if (excess <= 0) return;
  const cut = await trx.selectFrom("outbox").select("id").orderBy("id").offset(excess - 1).limit(1)
    .executeTakeFirstOrThrow();
  await trx.deleteFrom("outbox").where("id", "<=", cut.id).execute();
  const total = await addToCounter(trx, "outbox.dropped", excess);
  await setState(trx, "outbox.dropped_at", String(Date.now()));
  log.error("outbox full: oldest records dropped", { dropped: excess, dropped_total: total, max });
}
