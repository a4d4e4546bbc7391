// One collector run: collect → diff against the stored items → one transaction (items, changes, outbox, run).
import type { DatabaseSync } from "node:sqlite";
import {
  type Begun,
  type Collected,
  type Collector,
  type Scope,
  STORED_COUNTED,
} from "../collectors/types.ts";
import { scopeTest } from "../collectors/scope.ts";
import { dataTypeOf } from "../collectors/spec.ts";
import type { Settings } from "../config/dcr.ts";
import type { Host } from "../host/mod.ts";
import type { Logger } from "../log.ts";
import type { Db } from "../../db/open.ts";
import type { Transaction } from "kysely";
import type { Database } from "../../db/schema.ts";
import { deleteState, getState, setState } from "../../db/state.ts";
import { storageProblem } from "../../db/errors.ts";
import { dirname } from "node:path";
import { countItems, deleteItems, itemWriter } from "../../db/items.ts";
import { boundOutbox, outboxAppender } from "../../db/outbox.ts";
import { hasStoredRun, insertRun, setRunCounts } from "../../db/runs.ts";
import { changeWriter } from "../../db/changes.ts";
import { type Change, diffOne, isUnseen, removedChange, type Upsert } from "./diff.ts";
import {
  changeRecord,
  changeStream,
  fullRecord,
  inventoryHead,
  inventoryRecord,
  inventoryStream,
  type RecordFields,
  type RecordParts,
  type WireRecord,
} from "./records.ts";
import { DirectSink, type RunSink, Stage } from "./stage.ts";
import { MirrorDraft } from "./mirrors.ts";
import { breather } from "../breathe.ts";
import { keyOrder } from "../key_order.ts";

/** realtime: a partial run (a realtime re-collection of a scope) that stored changes. */
export type RunStatus = "baseline" | "ok" | "realtime" | "failed" | "aborted";

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
  /** The change records of this run (full records) in key order, the first `keepChanges` of them. */
  changes: WireRecord[];
  /** Under which name this run's change records are in its caller's spill (RunOptions.spill), when it gave one. */
  spillRun?: string;
  /** Item rows this run wrote or deleted: 0 means the stored inventory is as it was (mirrors need no rewrite). */
  itemsWritten: number;
  /** The run put the collector's mirrors in place itself (RunOptions.mirrorDir): they need no rewrite. */
  mirrored?: boolean;
  /**
   * Set when the run failed because the database could not store it (full, read-only, damaged), not because
   * of the collector: what the operator can do. `--once` exits 19 for it.
   */
  storage?: string;
}

/** Where a run's change records go (RunOptions.spill). */
export interface RecordSpill {
  add(key: string, record: WireRecord): void;
  /** Called at the end of the run's transaction: a failure to keep them fails the run, which stores nothing. */
  commit(): void;
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
  /**
   * Most change records the summary returns, the first in key order (default all): the daemon needs only the
   * counts, `--once` what it prints. A record is some 1.5 kB: a run that modified 17,800 files held 25-29 MB of
   * them to print 200.
   */
  keepChanges?: number;
  /**
   * Where every change record also goes, as it is made (keepChanges still says how many the summary holds): a
   * run of any size then holds none (`--once --json` prints them from there: db/change_spill.ts).
   */
  spill?: RecordSpill;
  /**
   * What the outbox keeps of each record: "la", the Log Analytics columns AMA takes (records with none, such
   * as those of collectors AMA does not take, are not kept; the default); "full", also the extra fields a full
   * forward endpoint takes. See recordFields in agent/ama/mod.ts.
   */
  fields?: RecordFields;
  /**
   * Re-collect only this part of the collector's items (a realtime re-collection; "all": every item, as a
   * poll or a rescan after lost events does): nothing outside it is looked at or reported Removed, no snapshot
   * goes out, and a run that changed nothing leaves no runs row. Ignored (a scheduled run is made) while the
   * collector has no baseline or a revision is pending.
   */
  scope?: Scope | "all";
  /** Extra fields of a change's record, by the item's key (who made the change; realtime runs). */
  origin?: (key: string) => Record<string, string> | undefined;
  /** Told each change as it is stored (the realtime manager counts what a scheduled scan found). */
  onChange?: (change: { key: string; category: Change["category"] }) => void;
  /** What the collector's `begin` began for this run before its turn (CollectContext.begun). */
  begun?: Begun;
  /**
   * Where the collector's JSON mirrors go (File.json, ...): given, a baseline that writes straight into the tables
   * writes them too as it goes, and puts them in place once stored (`mirrored` in the summary).
   */
  mirrorDir?: string;
}

export const DEFAULT_OUTBOX_MAX = 500_000;
const zero = (): RunCounts => ({ items: 0, added: 0, removed: 0, modified: 0, errors: 0, records: 0 });

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Writes the runs row of a run that could not be written when it ended (it failed for the database's sake). */
export function recordRun(db: Db, s: RunSummary): Promise<number> {
  return insertRun(db, {
    collector: s.collector,
    started_at: s.startedAt,
    finished_at: s.finishedAt,
    status: s.status,
    counts: JSON.stringify(s.counts),
    error: s.error ?? null,
    warnings: JSON.stringify(s.warnings),
  });
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
  log.debug(`${name} run started`, { collector: name });
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
  const baseline = !(await hasStoredRun(db, name));
  // Fields a newer ctagent fills differently than the one that stored the items: refreshed, not reported.
  const revisions = collector.revisions ?? [];
  const revised = revisions.slice(Number(await getState(db, `revision.${name}`) ?? 0)).flat();
  // A last snapshot "in the future" means the clock was set back: send one now rather than when it catches up.
  // A partial run is one only once the whole collector was stored under this version's fields.
  const partial = opts.scope !== undefined && !baseline && !revised.length;
  const scope = partial && opts.scope !== "all" ? scopeTest(opts.scope!) : undefined;
  const sinceSnapshot = startedAt - Number(await getState(db, `snapshot.${name}`) ?? 0);
  const snapshotDue = !partial && settings.enableInventory && (baseline || sinceSnapshot < 0 ||
    sinceSnapshot >= settings.inventorySettings.inventoryCollectionFrequency * 1000);
  const bodies = snapshotDue && {
    dataType: dataTypeOf(collector, host.os),
    toAma: collector.toAma,
    extras: (opts.fields ?? "la") === "full",
  };
  const plan = { startedAt, baseline, snapshotDue, revised, partial };
  const stored = countItems(opts.raw, name, STORED_COUNTED);
  // What the last whole run left for this one (Collected.ahead); a partial run takes nothing from it.
  const ahead = !partial && collector.begin ? await getState(db, `ahead.${name}`) : undefined;
  /** Hands the collection to `sink`; the reason the run failed (or was aborted), or the collection. */
  type Outcome = { collected: Collected } | { failed: "failed" | "aborted"; error: string };
  const collect = async (
    sink: RunSink & { flush?(): Promise<void>; writeError?: unknown },
  ): Promise<Outcome> => {
    try {
      const collected = await collector.collect(settings, {
        host,
        signal,
        now: startedAt,
        log: log.child({ collector: name }),
        previous: sink.previous,
        stored,
        sink,
        scope,
        begun: opts.begun,
        ahead,
      });
      const breathe = breather(signal);
      for (const i of collected.items) {
        await sink.add(i);
        await breathe();
      }
      for (const k of collected.same ?? []) await sink.same(k);
      for (const c of collected.contents ?? []) await sink.content(c);
      await sink.flush?.();
      // An abort that lands after collect() returned still must not write a result.
      if (signal.aborted) {
        return { failed: "aborted" as const, error: "aborted before the result was stored" };
      }
      return { collected };
    } catch (e) {
      // The database could not take what the sink wrote (a baseline writes as it collects): the run failed for
      // the database's sake, not the collector's.
      if (!signal.aborted && sink.writeError) throw sink.writeError;
      return { failed: signal.aborted ? "aborted" : "failed", error: errorText(e) };
    }
  };

  // A baseline with nothing stored writes what it finds straight into the tables, inside the run's one
  // transaction opened now (nothing to stage and copy, and its items come in key order); the process's other
  // users of the connection wait for it (the page reads on its own).
  if (baseline && stored === 0) {
    let failure: { failed: "aborted" | "failed"; error: string } | undefined;
    const mirror = opts.mirrorDir === undefined ? undefined : MirrorDraft.of(opts.mirrorDir, host.os, name);
    try {
      const summary = await db.transaction().execute(async (trx) => {
        const head = inventoryHead({
          dataType: dataTypeOf(collector, host.os),
          computer: host.hostname,
          at: startedAt,
          toAma: collector.toAma,
        });
        const delivering = collector.toAma || (opts.fields ?? "la") === "full";
        const sink = new DirectSink(
          opts.raw,
          name,
          (i) => collector.key(i),
          startedAt,
          bodies && delivering ? { stream: inventoryStream(collector), head, bodies } : undefined,
          mirror,
        );
        const r = await collect(sink);
        if ("failed" in r) {
          failure = r;
          throw new Error(r.error); // rolls the run's writes back
        }
        return await store(opts, sink, r.collected, plan, trx);
      });
      // Stored: the mirrors written meanwhile go in place (or, given up, are written from the table later).
      return mirror?.commit() ? { ...summary, mirrored: true } : summary;
    } catch (e) {
      mirror?.abort();
      if (failure) return await fail(failure.failed, failure.error);
      // The transaction rolled back: nothing of the run is stored.
      if (signal.aborted) {
        return await fail("aborted", "aborted while its result was being stored; nothing stored");
      }
      throw e;
    }
  }

  // What the collector finds goes to the staging tables as it comes (a streaming collector writes there
  // itself), so no run holds its whole collection; the previous items are known by fingerprint only.
  let stage: Stage;
  try {
    stage = await Stage.open(db, opts.raw, name, (i) => collector.key(i), {
      bodies,
      checksums: baseline,
      scope,
    });
  } catch (e) {
    return fail("failed", `cannot stage the collection: ${errorText(e)}`);
  }
  try {
    const r = await collect(stage);
    if ("failed" in r) return await fail(r.failed, r.error);
    try {
      return await store(opts, stage, r.collected, plan);
    } catch (e) {
      // The transaction rolled back: nothing of the run is stored.
      if (signal.aborted) {
        return await fail("aborted", "aborted while its result was being stored; nothing stored");
      }
      throw e;
    }
  } finally {
    await stage.close().catch((e) =>
      log.warn("cannot drop the staging tables", { collector: name, error: e })
    );
  }
}

/**
 * The run's one transaction (`trx` when it was opened before collecting): the staged collection against the
 * stored items, a page at a time.
 */
async function store(
  opts: RunOptions,
  stage: RunSink,
  collected: Collected,
  plan: { startedAt: number; baseline: boolean; snapshotDue: boolean; revised: string[]; partial: boolean },
  open?: Transaction<Database>,
): Promise<RunSummary> {
  const { db, raw, collector, host, log } = opts;
  const { startedAt, baseline, snapshotDue, revised, partial } = plan;
  const status: RunStatus = baseline ? "baseline" : partial ? "realtime" : "ok";
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
    toAma: collector.toAma,
  };
  const counts = zero();
  counts.items = stage.count;
  counts.errors = stage.errors;
  const changeRecords: [string, WireRecord][] = [];
  const keep = opts.keepChanges ?? Infinity;
  let itemsWritten = 0;
  // Between pages: a stop signal is heard, and aborts the transaction (it rolls back).
  const breathe = breather(opts.signal);

  const inTransaction = async (trx: Transaction<Database>) => {
    // The runs row, written when the run has something to tell: at once for a whole run, with its first
    // change for a partial one (a realtime event that changed nothing leaves no trace).
    const run = { id: 0, collector: name, at: finishedAt };
    const written = async () =>
      run.id ||= await insertRun(trx, {
        collector: name,
        started_at: startedAt,
        finished_at: finishedAt,
        status,
        counts: "{}",
        error: null,
        warnings: JSON.stringify(warnings),
      });
    if (!partial) await written();
    const items = itemWriter(raw, name, finishedAt);
    const fields = opts.fields ?? "la";
    const out = outboxRecords(raw, finishedAt, fields, collector.toAma || fields === "full");
    const changeTo = changeStream(collector), inventoryTo = inventoryStream(collector);
    const report = async (changes: Change[]) => {
      if (!changes.length) return;
      changes.sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
      await written();
      for (const c of changes) {
        counts[c.category === "Added" ? "added" : c.category === "Removed" ? "removed" : "modified"]++;
        opts.onChange?.(c);
      }
      // One change at a time: its row, link and records are garbage before the next (a page of them alive at
      // once went to V8's old space, and a storm's runs grew the heap by megabytes each).
      const rows = await changeWriter(trx, raw, run);
      /** Whether each change's record is for the table (its inventory record follows it there). */
      const forTable: boolean[] = [];
      for (const c of changes) {
        const origin = opts.origin?.(c.key);
        rows.add(changeRow(c, origin));
        const r = changeRecord(c, ctx);
        // Who made it: the full record's, never the table's (AMA's streams carry Log Analytics columns only).
        if (origin) Object.assign(r.extra, origin);
        if (opts.spill || keep > 0) {
          const full = fullRecord(r);
          opts.spill?.add(c.key, full);
          if (keep > 0) keepChange(changeRecords, keep, c.key, full);
        }
        out.record(changeTo, r);
        forTable.push(r.la !== null);
      }
      await rows.end();
      // A change also emits inventory (SPEC §3.2), unless the whole inventory goes out anyway; for AMA only
      // when the change was (a change of ctagent's own fields leaves the table's row as it was).
      if (!snapshotDue) {
        changes.forEach((c, i) => {
          if (!c.current || c.current.error) return;
          const inv = inventoryRecord(c.current, ctx);
          out.record(inventoryTo, forTable[i] || !inv.la ? inv : { la: null, extra: fullRecord(inv) });
        });
      }
    };

    // Staged items (all but the ones the collector said are the same) against their stored versions. A
    // baseline with nothing stored wrote its items as it found them (DirectSink).
    const diffOpts = { volatile: [...collector.volatile ?? [], ...revised], baseline };
    const fresh = stage instanceof DirectSink;
    if (fresh) itemsWritten += stage.count;
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
      items.write(upserts);
      itemsWritten += upserts.length;
      await report(changes);
      await breathe();
    }
    // Stored items not reported: gone (Removed), unless under a prefix the collector could not see.
    const unseen = collected.unseen ?? [];
    for (const page of stage.unreported()) {
      const gone = page.filter((p) => !isUnseen(p.key, unseen));
      if (!gone.length) continue;
      itemsWritten += gone.length;
      deleteItems(raw, name, gone.map((p) => p.key));
      await report(gone.flatMap((p) => removedChange(p, baseline) ?? []));
      await breathe();
    }
    // The whole inventory: staged items from the bodies made while collecting, the others (the same as
    // before, or not seen) from the stored items.
    if (snapshotDue) {
      if (out.delivering) {
        out.count(stage.snapshot(inventoryTo, inventoryHead(ctx), finishedAt));
        for (const items of stage.unstagedGood()) {
          for (const i of items) out.record(inventoryTo, inventoryRecord(i, ctx));
          await breathe();
        }
      }
      await setState(trx, `snapshot.${name}`, String(finishedAt));
    }
    stage.storeContents(finishedAt);
    if (!partial && (revised.length || baseline)) {
      await setState(trx, `revision.${name}`, String(collector.revisions?.length ?? 0));
    }
    // What the next run can begin before its turn (Collector.begin), as this whole run left it.
    if (!partial && collector.begin) {
      if (collected.ahead !== undefined) await setState(trx, `ahead.${name}`, collected.ahead);
      else await deleteState(trx, `ahead.${name}`);
    }
    counts.records = out.written();
    const max = opts.outboxMax ?? DEFAULT_OUTBOX_MAX;
    const cut = await boundOutbox(trx, max, Date.now());
    if (cut) {
      log.error("outbox full: oldest records dropped", {
        dropped: cut.dropped,
        dropped_total: cut.total,
        max,
      });
    }
    if (run.id) await setRunCounts(trx, run.id, counts);
    opts.spill?.commit();
    return run.id;
  };
  const runId = open ? await inTransaction(open) : await db.transaction().execute(inTransaction);

  const summary: RunSummary = {
    runId,
    collector: name,
    status,
    startedAt,
    finishedAt,
    counts,
    warnings,
    changes: firstByKey(changeRecords, keep).map((c) => c[1]),
    itemsWritten,
  };
  for (const w of warnings) log.warn(w, { collector: name });
  (partial && !runId ? log.debug : log.info)(`${name} run ${summary.status}`, {
    collector: name,
    items: counts.items,
    added: counts.added,
    removed: counts.removed,
    modified: counts.modified,
    ms: finishedAt - startedAt,
  });
  return summary;
}

/** A change as the changes table stores it (with who made it, when known). */
function changeRow(c: Change, origin: Record<string, string> | undefined) {
  return {
    key: c.key,
    category: c.category,
    fields_changed: JSON.stringify(c.fieldsChanged),
    previous: c.previous ? JSON.stringify(c.previous) : null,
    current: c.current ? JSON.stringify(c.current) : null,
    origin: origin ? JSON.stringify(origin) : null,
  };
}

/**
 * A run's records for the outbox (inside its transaction), counted: with `fields` "la" only what AMA takes (the
 * Log Analytics part), with "full" the extra fields too; when nobody would take them, none are written.
 */
function outboxRecords(raw: DatabaseSync, at: number, fields: RecordFields, delivering: boolean) {
  const outbox = outboxAppender(raw);
  let written = 0;
  return {
    /** Whether records go to the outbox at all (a collector AMA does not take, and no full forward endpoint). */
    delivering,
    record(stream: string, r: RecordParts) {
      if (!delivering) return;
      if (fields === "la" && !r.la) return; // nothing of it for AMA, and nobody else to take it
      outbox.append(
        stream,
        r.la ? JSON.stringify(r.la) : "",
        fields === "full" ? JSON.stringify(r.extra) : null,
        at,
      );
      written++;
    },
    /** Records written some other way. */
    count(n: number) {
      written += n;
    },
    written: () => written,
  };
}

const byKey = (a: [string, WireRecord], b: [string, WireRecord]) => keyOrder(a[0], b[0]);

/** The first `keep` of `records` in key order (sorted in place, the rest dropped). */
function firstByKey(records: [string, WireRecord][], keep: number): [string, WireRecord][] {
  records.sort(byKey);
  if (records.length > keep) records.length = keep;
  return records;
}

/** Adds a change record to those kept, holding no more than twice `keep` of them between trims. */
function keepChange(records: [string, WireRecord][], keep: number, key: string, record: WireRecord): void {
  records.push([key, record]);
  if (records.length >= 2 * keep) firstByKey(records, keep);
}
