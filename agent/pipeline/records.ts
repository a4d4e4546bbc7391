// Builds the records of a run as flat map<str,str> in two parts: the Log Analytics columns AMA's streams carry
// (SPEC §2, §7.15–7.17) and what only the full record keeps (the local output and --forward endpoints).
import type { CollectorSpec, Item, Value } from "../collectors/types.ts";
import type { Stream } from "../streams.ts";
import type { Change } from "./diff.ts";
import {
  CHANGE_COLUMNS,
  DATA_COLUMNS,
  documentedValue,
  IDENTITY_COLUMNS,
  INGESTION_COLUMNS,
  previousColumn,
  SVC_CHANGE_WORDS,
} from "./columns.ts";

export type WireRecord = Record<string, string>;

/**
 * One record in two parts: `la`, the columns of its Log Analytics table (null when none of it is for the table:
 * a change of ctagent-only fields, a collector the DCR does not know), and `extra`, what only the full record
 * has (RecordId, ctagent's own fields, values outside a column's documented set). The one key they may share
 * is FieldsChanged: the table's names the changed columns, extra's every changed field (it wins).
 */
export interface RecordParts {
  la: WireRecord | null;
  extra: WireRecord;
}

/** What of a record goes somewhere: "la", the table's columns only (AMA); "full", both parts. */
export type RecordFields = "la" | "full";

/** The full record: both parts (extra's FieldsChanged over the table's). */
export function fullRecord(p: RecordParts): WireRecord {
  return p.la ? { ...p.la, ...p.extra } : p.extra;
}

export interface RecordContext {
  /** ConfigChangeType / ConfigDataType: Software, Daemons, WindowsServices, Files, Registry. */
  dataType: string;
  computer: string;
  /** Epoch ms of the run that produced the record. */
  at: number;
  /** Field whose old/new values fill Previous/Current (e.g. CurrentVersion); JSON of changed fields otherwise. */
  currentField?: string;
  /** Whether the records are for AMA's streams at all (default true; SPEC §7.15). */
  toAma?: boolean;
}

function str(v: Value | undefined): string | undefined {
  if (v === null || v === undefined) return undefined;
  return typeof v === "string" ? v : String(v);
}

let lastTime: [number, string] = [NaN, ""];
/** The run's columns of every record: a run writes all its records with one time, formatted once. */
function head(ctx: RecordContext): WireRecord {
  if (lastTime[0] !== ctx.at) lastTime = [ctx.at, new Date(ctx.at).toISOString()];
  return { TimeGenerated: lastTime[1], Computer: ctx.computer };
}

/** Puts a value in the table's part when `columns` has it and the value is one the column documents. */
function placer(columns: ReadonlySet<string>, la: WireRecord, extra: WireRecord, dataType: string) {
  return (name: string, v: Value | undefined) => {
    const s = str(v);
    if (s === undefined || name in la || name in extra) return;
    if (columns.has(name) && !INGESTION_COLUMNS.has(name) && documentedValue(name, s, dataType)) la[name] = s;
    else extra[name] = s;
  };
}

/** Both parts when the table takes part of the record, or everything in `extra` when it takes none. */
function parts(la: WireRecord, extra: WireRecord, forTable: boolean): RecordParts {
  // Without a table part, extra's FieldsChanged (all fields) is the record's.
  return forTable ? { la, extra } : { la: null, extra: { ...la, ...extra } };
}

const isColumn = (f: string) => CHANGE_COLUMNS.has(f) || DATA_COLUMNS.has(f);

/**
 * A ConfigurationChange record for one change. Modified: the current values, the changed ones' previous
 * values in their Previous columns, SvcChangeType for services. Removed: the identifying columns, every last
 * value in its Previous column, the other current-value columns empty (SPEC §7.17).
 */
export function changeRecord(change: Change, ctx: RecordContext): RecordParts {
  const la = head(ctx);
  const extra: WireRecord = { RecordId: crypto.randomUUID() };
  const place = placer(CHANGE_COLUMNS, la, extra, ctx.dataType);
  const removed = change.category === "Removed";
  la.ConfigChangeType = ctx.dataType;
  la.ChangeCategory = change.category;
  const changed = change.category === "Modified" ? change.fieldsChanged : [];
  // FieldsChanged names the table's columns; a change of other fields only is not for the table.
  const columns = changed.filter(isColumn);
  const forTable = ctx.toAma !== false && (change.category !== "Modified" || columns.length > 0);
  const shown = forTable ? columns : changed;
  la.FieldsChanged = shown.join(", ");
  if (shown.length !== changed.length) extra.FieldsChanged = changed.join(", ");
  if (change.previousChangedAt !== undefined) {
    la.LastSnapshotAge = String(Math.max(0, Math.round((ctx.at - change.previousChangedAt) / 1000)));
  }
  const F = ctx.currentField;
  if (F) {
    place("Current", change.current?.[F]);
    place("Previous", change.previous?.[F]);
  } else if (change.category === "Modified") {
    la.Current = JSON.stringify(Object.fromEntries(shown.map((f) => [f, change.current?.[f] ?? null])));
    la.Previous = JSON.stringify(Object.fromEntries(shown.map((f) => [f, change.previous?.[f] ?? null])));
  }
  if (change.category === "Modified" && (ctx.dataType === "Daemons" || ctx.dataType === "WindowsServices")) {
    const words = SVC_CHANGE_WORDS.filter(([f]) => columns.includes(f)).map(([, w]) => w);
    if (words.length) la.SvcChangeType = words.join(" ");
  }
  const prev = change.previous ?? {};
  // The table's Removed shape (last values in Previous… columns, the others empty) is only for a record a table
  // takes; a collector not for AMA keeps a removed item's last values under their own names, as its Added did.
  const tableRemoved = removed && ctx.toAma !== false;
  if (change.category === "Modified") {
    for (const f of changed) if (f !== F) place(previousColumn(f), prev[f]);
  } else if (tableRemoved) {
    for (const [f, v] of Object.entries(prev)) {
      if (f !== F && CHANGE_COLUMNS.has(previousColumn(f))) place(previousColumn(f), v);
    }
  }
  for (const [f, v] of Object.entries(change.current ?? prev)) {
    if (tableRemoved && CHANGE_COLUMNS.has(f) && !IDENTITY_COLUMNS.has(f)) continue;
    place(f, v);
  }
  return parts(la, extra, forTable);
}

/** The head of an inventory record: the run's columns and ConfigDataType. */
function inventoryHeadRecord(ctx: RecordContext): WireRecord {
  return { ...head(ctx), ConfigDataType: ctx.dataType };
}

/**
 * An item's fields in the two parts of its inventory record (`error` is not a field of the record), the table's
 * after what `la` holds already (a field of a name it holds is left out).
 */
function inventoryFields(
  item: Item,
  toAma: boolean,
  dataType: string,
  la: WireRecord = {},
): { la: WireRecord; extra: WireRecord } {
  const extra: WireRecord = {};
  const place = placer(toAma ? DATA_COLUMNS : new Set(), la, extra, dataType);
  // for…in, not Object.entries: no array per field (a baseline makes an inventory body per item).
  for (const k in item) if (k !== "error") place(k, item[k]);
  return { la, extra };
}

/** A ConfigurationData record (inventory snapshot) for one item. */
export function inventoryRecord(item: Item, ctx: RecordContext): RecordParts {
  const toAma = ctx.toAma !== false;
  const f = inventoryFields(item, toAma, ctx.dataType);
  const id = crypto.randomUUID();
  // Members in the order Stage.snapshot writes them.
  if (!toAma) return { la: null, extra: { RecordId: id, ...inventoryHeadRecord(ctx), ...f.extra } };
  return { la: { ...inventoryHeadRecord(ctx), ...f.la }, extra: { RecordId: id, ...f.extra } };
}

/** JSON members of a record part without its braces ("" for an empty part). */
const members = (r: WireRecord) => JSON.stringify(r).slice(1, -1);

/**
 * An item's part of its inventory record as JSON members (every field a string, nulls left out), made when
 * the item is at hand so that the snapshot needs no parse: the table's members (null when the records are not
 * for AMA) and, when `extras`, the others (see inventoryHead and Stage.snapshot).
 */
export function inventoryBody(
  item: Item,
  opts: { dataType: string; toAma: boolean; extras: boolean },
): { la: string | null; extra: string | null } {
  const f = inventoryFields(item, opts.toAma, opts.dataType);
  return { la: opts.toAma ? members(f.la) : null, extra: opts.extras ? members(f.extra) : null };
}

/**
 * The table part of an item's inventory record, for AMA's table only (no extra part kept), in one string:
 * `{` + inventoryHead's table members + `,` + inventoryBody's + `}`, without making those apart and joining them
 * (a baseline makes one per item). `head`: the run's head as an object (those members parsed). Undefined where it
 * cannot be made so: the item has a field of a head member's name, which the joined text has twice.
 */
export function inventoryTableText(item: Item, head: WireRecord, dataType: string): string | undefined {
  for (const k in head) if (k in item) return undefined;
  // The table's columns only, none integer-like: the members stay in the joined text's order.
  return JSON.stringify(inventoryFields(item, true, dataType, { ...head }).la);
}

/**
 * The run's part of every inventory record of a snapshot, as JSON members: `{` + `la` + `,` + the item's
 * table members + `}` is the table part of inventoryRecord(item, ctx); `extra` (the same members, when the
 * records are not for AMA) goes after the RecordId of the extra part. See Stage.snapshot.
 */
export function inventoryHead(ctx: RecordContext): { la: string | null; extra: string } {
  const h = members(inventoryHeadRecord(ctx));
  return ctx.toAma === false ? { la: null, extra: h } : { la: h, extra: "" };
}

/**
 * The stream of a collector's change records: the one its spec names (registry: CONFIG_CHANGE_BLOB, SPEC §7.8),
 * CONFIG_CHANGE_BLOB_V2 otherwise; ctagent's own for a collector AMA does not take.
 */
export function changeStream(spec: Pick<CollectorSpec, "toAma" | "changeStream">): Stream {
  return spec.toAma ? spec.changeStream ?? "CONFIG_CHANGE_BLOB_V2" : "CTAGENT_CHANGE";
}

/** The stream of a collector's inventory records. */
export function inventoryStream(spec: Pick<CollectorSpec, "toAma">): Stream {
  return spec.toAma ? "CONFIG_DATA_BLOB_V2" : "CTAGENT_DATA";
}
