// Builds the records handed to AMA: flat map<str,str> in the Log Analytics column shapes (SPEC §2, §7.9).
import type { CollectorSpec, Item, Value } from "../collectors/types.ts";
import type { Stream } from "../streams.ts";
import type { Change } from "./diff.ts";

export type WireRecord = Record<string, string>;

export interface RecordContext {
  /** ConfigChangeType / ConfigDataType: Software, Daemons, WindowsServices, Files, Registry. */
  dataType: string;
  computer: string;
  /** Epoch ms of the run that produced the record. */
  at: number;
  /** Field whose old/new values fill Previous/Current (e.g. CurrentVersion); JSON of changed fields otherwise. */
  currentField?: string;
}

function str(v: Value | undefined): string | undefined {
  if (v === null || v === undefined) return undefined;
  return typeof v === "string" ? v : String(v);
}

function putItem(rec: WireRecord, item: Item): void {
  for (const [k, v] of Object.entries(item)) {
    const s = str(v);
    if (s !== undefined && !(k in rec)) rec[k] = s;
  }
}

/** The column that holds a field's previous value: SvcState → SvcPreviousState, Size → PreviousSize. */
export function previousColumn(field: string): string {
  return field.startsWith("Svc") ? `SvcPrevious${field.slice(3)}` : `Previous${field}`;
}

let lastTime: [number, string] = [NaN, ""];
function common(ctx: RecordContext): WireRecord {
  // A run writes all its records with one time: format it once.
  if (lastTime[0] !== ctx.at) lastTime = [ctx.at, new Date(ctx.at).toISOString()];
  return {
    RecordId: crypto.randomUUID(),
    TimeGenerated: lastTime[1],
    Computer: ctx.computer,
  };
}

/** A ConfigurationChange record for one change. */
export function changeRecord(change: Change, ctx: RecordContext): WireRecord {
  const rec = common(ctx);
  rec.ConfigChangeType = ctx.dataType;
  rec.ChangeCategory = change.category;
  const item = change.current ?? change.previous ?? {};
  const fields = change.category === "Modified" ? change.fieldsChanged : [];
  rec.FieldsChanged = fields.join(", ");
  if (change.previousChangedAt !== undefined) {
    rec.LastSnapshotAge = String(Math.max(0, Math.round((ctx.at - change.previousChangedAt) / 1000)));
  }
  if (change.category === "Modified" && change.previous) {
    for (const f of fields) {
      if (f === ctx.currentField) continue;
      const s = str(change.previous[f]);
      if (s !== undefined) rec[previousColumn(f)] = s;
    }
    if (ctx.dataType === "Daemons" || ctx.dataType === "WindowsServices") {
      rec.SvcChangeType = fields.map((f) => f.startsWith("Svc") ? f.slice(3) : f).join(", ");
    }
  }
  if (ctx.currentField) {
    const cur = str(change.current?.[ctx.currentField]);
    const prev = str(change.previous?.[ctx.currentField]);
    if (cur !== undefined) rec.Current = cur;
    if (prev !== undefined) rec.Previous = prev;
  } else if (change.category === "Modified") {
    rec.Current = JSON.stringify(Object.fromEntries(fields.map((f) => [f, change.current?.[f] ?? null])));
    rec.Previous = JSON.stringify(Object.fromEntries(fields.map((f) => [f, change.previous?.[f] ?? null])));
  }
  putItem(rec, item);
  return rec;
}

/** A ConfigurationData record (inventory snapshot) for one item. */
export function inventoryRecord(item: Item, ctx: RecordContext): WireRecord {
  const rec = common(ctx);
  rec.ConfigDataType = ctx.dataType;
  putItem(rec, item);
  return rec;
}

/** Fields of an inventory record that come from the run, not the item. */
const HEAD = new Set(["RecordId", "TimeGenerated", "Computer", "ConfigDataType"]);

/**
 * An item's part of its inventory record as JSON text (every field a string, nulls left out), made when the
 * item is at hand so that the snapshot needs no parse: see inventoryRecordText.
 */
export function inventoryBody(item: Item): string {
  const rec: WireRecord = {};
  for (const [k, v] of Object.entries(item)) {
    const s = str(v);
    if (s !== undefined && !HEAD.has(k) && k !== "error") rec[k] = s;
  }
  return JSON.stringify(rec);
}

/**
 * The run's part of every inventory record after its RecordId, as JSON members (no braces):
 * `"TimeGenerated":…,"Computer":…,"ConfigDataType":…`. `{"RecordId":"<id>",` + this + the body's members
 * + `}` is the text of inventoryRecord(item, ctx) (see Stage.snapshot).
 */
export function inventoryHead(ctx: RecordContext): string {
  const { RecordId: _id, ...rest } = common(ctx);
  return JSON.stringify({ ...rest, ConfigDataType: ctx.dataType }).slice(1, -1);
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
