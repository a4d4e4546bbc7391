// `ctagent --once`: every enabled collector once, a summary (or JSON), and an exit code scripts branch on.
import type { DatabaseSync } from "node:sqlite";
import type { Begun, Collector, CollectorSettings, Item } from "./collectors/types.ts";
import { dataTypeOf, scheduleOf, switchedBy } from "./collectors/spec.ts";
import type { ConfigInForce } from "./config/load.ts";
import type { Host } from "./host/mod.ts";
import type { HeapCollector } from "./heap.ts";
import type { Logger } from "./log.ts";
import { connectionOf, type Db } from "../db/open.ts";
import { changeBits, EXIT } from "./exit_codes.ts";
import { fullRecord, inventoryRecord, type RecordFields } from "./pipeline/records.ts";
import { runCollector, type RunSummary } from "./pipeline/run.ts";
import { itemFieldPages, itemObject } from "../db/items.ts";
import type { ChangeSpill } from "../db/change_spill.ts";
import { VERSION } from "./version.ts";
import { statesStartingWith } from "../db/state.ts";

export interface OnceResult {
  summaries: RunSummary[];
  skipped: { collector: string; reason: string }[];
  exitCode: number;
  /** Where every change record of the runs went (`--json`): each summary's spillRun names its run there. */
  spill?: ChangeSpill;
}

export async function runOnce(opts: {
  db: Db;
  raw: DatabaseSync;
  collectors: readonly Collector[];
  config: ConfigInForce;
  host: Host;
  log: Logger;
  signal: AbortSignal;
  outboxMax?: number;
  /** ctagent's own settings of the collectors the DCR does not schedule. */
  collectorSettings?: CollectorSettings;
  /** What the outbox keeps of each record (see recordFields in agent/ama/mod.ts). */
  fields?: RecordFields;
  /** Where the JSON mirrors go: a baseline writes its own as it stores its items (RunOptions.mirrorDir). */
  mirrorDir?: string;
  /** Most change records kept per run, the first by key (default all; the text output prints PRINTED_CHANGES). */
  keepChanges?: number;
  /** Where every change record also goes (`--json`, with keepChanges 0: none is then held in memory). */
  spill?: ChangeSpill;
  /** Told when each run begins and ends: it gives back, meanwhile, what the process does not use (heap.ts). */
  heap?: Pick<HeapCollector, "running">;
  /** What was begun for the runs before their turn (beginRuns), by collector: handed over, then stopped. */
  begun?: ReadonlyMap<string, Begun>;
}): Promise<OnceResult> {
  const summaries: RunSummary[] = [];
  const { spill } = opts;
  const skipped: OnceResult["skipped"] = [];
  for (const collector of opts.collectors) {
    // Stopped after the collector's turn, taken over or not (the run stops what it took over itself).
    const begun = opts.begun?.get(collector.name);
    try {
      if (opts.signal.aborted) {
        skipped.push({ collector: collector.name, reason: "not run: stopped before its turn" });
        continue;
      }
      if (!collector.platforms.includes(opts.host.os)) {
        skipped.push({ collector: collector.name, reason: `does not apply to ${opts.host.os}` });
        continue;
      }
      if (!scheduleOf(collector, opts.config.settings, opts.collectorSettings).enabled) {
        skipped.push({ collector: collector.name, reason: `disabled by ${switchedBy(collector)}` });
        continue;
      }
      const name = collector.name;
      const ended = opts.heap?.running();
      const summary = await runCollector({
        ...opts,
        collector,
        settings: opts.config.settings,
        spill: spill && { add: (key, record) => spill.add(name, key, record), commit: () => spill.flush() },
        begun,
      }).finally(ended);
      if (spill) summary.spillRun = name;
      summaries.push(summary);
    } finally {
      begun?.stop();
    }
  }
  return { summaries, skipped, exitCode: onceExitCode(summaries), spill };
}

/**
 * Begins, for each collector that can, what its last run said the next can begin before its turn
 * (Collected.ahead, Collector.begin); by collector. What cannot be begun is left: the run does it in its turn.
 */
export async function beginRuns(
  db: Db,
  collectors: readonly Collector[],
  host: Host,
  log: Logger,
): Promise<Map<string, Begun>> {
  const begun = new Map<string, Begun>();
  for (const { key, value } of await statesStartingWith(db, "ahead.")) {
    const collector = collectors.find((c) => key === `ahead.${c.name}`);
    if (!collector?.begin || !collector.platforms.includes(host.os)) continue;
    try {
      const b = collector.begin(value, host);
      if (!b) continue;
      begun.set(collector.name, b);
      log.debug("begun ahead of its turn", { collector: collector.name });
    } catch (e) {
      log.debug("cannot begin the run ahead of its turn; it begins in its turn", {
        collector: collector.name,
        error: e,
      });
    }
  }
  return begun;
}

/** The exit code of a pass: the database's failure, a collector's, or the kinds of change found. */
export function onceExitCode(summaries: RunSummary[]): number {
  const totals = { added: 0, removed: 0, modified: 0 };
  for (const s of summaries) {
    totals.added += s.counts.added;
    totals.removed += s.counts.removed;
    totals.modified += s.counts.modified;
  }
  if (summaries.some((s) => s.storage)) return EXIT.DATABASE;
  if (summaries.some((s) => s.status === "failed" || s.status === "aborted")) return EXIT.COLLECTOR_FAILED;
  return changeBits(totals);
}

/**
 * The JSON document of `--once --json`: inventory and changes as full records (SPEC §2 columns and ctagent's own),
 * in pieces: the inventory is read from the database a page at a time, so that printing it costs a page of
 * records however large it is (as one object and one string, /usr's 119k files took 1 GB).
 */
export async function* onceJson(
  res: OnceResult,
  opts: { db: Db; collectors: readonly Collector[]; config: ConfigInForce; host: Host },
): AsyncGenerator<string> {
  const head = {
    version: VERSION,
    computer: opts.host.hostname,
    os: opts.host.os,
    config: {
      source: opts.config.source,
      origin: opts.config.origin,
      id: opts.config.id,
      warnings: opts.config.warnings,
    },
    exitCode: res.exitCode,
    runs: res.summaries.map((s) => ({
      collector: s.collector,
      status: s.status,
      durationMs: s.finishedAt - s.startedAt,
      counts: s.counts,
      warnings: s.warnings,
      error: s.error ?? null,
    })),
    skipped: res.skipped,
  };
  yield `${JSON.stringify(head).slice(0, -1)},"changes":`;
  const spill = res.spill;
  yield* textArray((function* () {
    for (const s of res.summaries) {
      // A run that failed stored nothing: the records it kept, if any, are not changes (it reports them again).
      if (s.status === "failed" || s.status === "aborted") continue;
      if (spill && s.spillRun !== undefined) yield* spill.pages(s.spillRun);
      else for (const page of slices(s.changes, 500)) yield page.map((r) => JSON.stringify(r));
    }
  })());
  yield `,"inventory":{`;
  for (const [n, s] of res.summaries.entries()) {
    const collector = opts.collectors.find((c) => c.name === s.collector)!;
    const ctx = {
      dataType: dataTypeOf(collector, opts.host.os),
      computer: opts.host.hostname,
      at: s.finishedAt,
      toAma: collector.toAma,
    };
    yield `${n ? "," : ""}${JSON.stringify(s.collector)}:`;
    yield* jsonArray(
      itemFieldPages(connectionOf(opts.db), s.collector),
      (i) => {
        const rec = fullRecord(inventoryRecord(itemObject(i) as Item, ctx));
        if (i.error) rec.error = i.error;
        return rec;
      },
    );
  }
  const errors = res.summaries.filter((s) => s.error).map((s) => ({
    collector: s.collector,
    error: s.error,
  }));
  yield `},"errors":${JSON.stringify(errors)}}`;
}

/** `values` in slices of `size`. */
function slices<T>(values: T[], size: number): T[][] {
  return Array.from(
    { length: Math.ceil(values.length / size) },
    (_, i) => values.slice(i * size, (i + 1) * size),
  );
}

/** A JSON array of the values of `pages` (each mapped by `as`), a piece per page. */
async function* jsonArray<T>(
  pages: Iterable<T[]> | AsyncIterable<T[]>,
  as: (v: T) => unknown = (v) => v,
): AsyncGenerator<string> {
  yield* textArray((async function* () {
    for await (const page of pages) yield page.map((v) => JSON.stringify(as(v)));
  })());
}

/**
 * A JSON array of the JSON texts of `pages`, a piece per text. Never a page joined: a string above V8's ~128 kB
 * goes to its large-object space, which only a full collection frees, and pages of 500 change records (~625 kB
 * each) had a `--json` of 17,800 changes peak 40 MB above what it held.
 */
async function* textArray(pages: Iterable<string[]> | AsyncIterable<string[]>): AsyncGenerator<string> {
  let first = true;
  yield "[";
  for await (const page of pages) {
    for (const text of page) {
      yield first ? text : `,${text}`;
      first = false;
    }
  }
  yield "]";
}

/** Changes the text output of `--once` lists (by collector, each's in key order); the rest are counted. */
export const PRINTED_CHANGES = 200;

/** The human summary of `--once`. */
export function onceText(
  res: OnceResult,
  opts: { collectors: readonly Collector[]; config: ConfigInForce; host: Host },
): string {
  const { config, host } = opts;
  const lines = [
    `ctagent ${VERSION} on ${host.hostname} (${host.os}); DCR ${config.id} from ${config.source} (${config.origin})`,
  ];
  // Columns as wide as the longest collector name and change type shown (listening_ports, ScheduledTasks).
  const width = Math.max(9, ...[...res.summaries, ...res.skipped].map((s) => s.collector.length));
  for (const s of res.summaries) {
    const c = s.counts;
    const what = s.status === "baseline"
      ? `${c.items} items (baseline: first run, no changes reported)`
      : s.error
      ? `error: ${s.error}`
      : `${c.items} items, +${c.added} added, -${c.removed} removed, ~${c.modified} modified`;
    lines.push(
      `  ${s.collector.padEnd(width)} ${s.status.padEnd(8)} ${what}${
        c.errors ? `, ${c.errors} unreadable` : ""
      } ` +
        `(${((s.finishedAt - s.startedAt) / 1000).toFixed(2)} s)`,
    );
    for (const w of s.warnings) lines.push(`${" ".repeat(width + 3)}warning: ${w}`);
  }
  for (const k of res.skipped) lines.push(`  ${k.collector.padEnd(width)} skipped  ${k.reason}`);
  // Each change is named by its collector's name field.
  const changes = res.summaries.flatMap((s) => {
    const field = opts.collectors.find((c) => c.name === s.collector)?.nameField ?? "";
    return s.changes.map((r) => ({ r, field }));
  });
  // Every change counted, whether or not its record was kept (runOnce's keepChanges).
  const total = res.summaries.reduce((n, s) => n + s.counts.added + s.counts.removed + s.counts.modified, 0);
  if (changes.length) {
    lines.push("", "Changes:");
    const shown = changes.slice(0, PRINTED_CHANGES);
    const types = Math.max(9, ...shown.map(({ r }) => r.ConfigChangeType.length));
    for (const { r, field } of shown) {
      const name = r[field] || "?";
      const detail = r.ChangeCategory === "Modified" ? `  [${r.FieldsChanged}]` : "";
      const ver = r.Previous !== undefined || r.Current !== undefined
        ? `  ${r.Previous ?? ""}${r.Previous && r.Current ? " → " : ""}${r.Current ?? ""}`
        : "";
      lines.push(
        `  ${r.ChangeCategory.padEnd(8)} ${r.ConfigChangeType.padEnd(types)} ${name}${ver}${detail}`,
      );
    }
    if (total > shown.length) lines.push(`  … and ${total - shown.length} more (use --json for all)`);
  } else lines.push("", "No changes.");
  return lines.join("\n");
}
