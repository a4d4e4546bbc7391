// What the fake AMA checks of every record on a CT stream: the tables' columns and documented values (SPEC §2, §7.15–7.17).
import {
  CHANGE_CATEGORIES,
  CHANGE_COLUMNS,
  CHANGE_ROW_COLUMNS,
  DATA_COLUMNS,
  DATA_TYPES,
  DATETIME_COLUMNS,
  documentedValue,
  IDENTITY_COLUMNS,
  INGESTION_COLUMNS,
  LONG_COLUMNS,
  SVC_CHANGE_WORDS,
  VALUE_SETS,
  WINDOWS_VALUE_SETS,
} from "../agent/pipeline/columns.ts";

/** Change columns that say something of the change rather than of the item's current values. */
const ABOUT_THE_CHANGE = new Set(["TimeGenerated", "Computer", ...CHANGE_ROW_COLUMNS]);
const isPrevious = (c: string) => c.startsWith("Previous") || c.startsWith("SvcPrevious");
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;
const WORDS = SVC_CHANGE_WORDS.map(([, w]) => w);

/** The CT output stream a tag names (`dcr-…:CTDataSource-Linux:CONFIG_DATA_BLOB_V2`), or undefined. */
export function ctStream(tag: string): string | undefined {
  const stream = tag.slice(tag.lastIndexOf(":") + 1);
  return ["CONFIG_CHANGE_BLOB", "CONFIG_CHANGE_BLOB_V2", "CONFIG_DATA_BLOB_V2"].includes(stream)
    ? stream
    : undefined;
}

/** The problems of one record received under a CT stream's `tag` (none: AMA would take it as it is). */
export function checkRecord(tag: string, record: Record<string, unknown>): string[] {
  const stream = ctStream(tag);
  if (!stream) return [`tag ${tag} is not one of CT's output streams`];
  const change = stream !== "CONFIG_DATA_BLOB_V2";
  const table = change ? "ConfigurationChange" : "ConfigurationData";
  const columns = change ? CHANGE_COLUMNS : DATA_COLUMNS;
  const out: string[] = [];
  const bad = (column: string, why: string) =>
    out.push(`${column}=${JSON.stringify(record[column])}: ${why}`);
  const typeColumn = change ? "ConfigChangeType" : "ConfigDataType";
  const dataType = String(record[typeColumn] ?? "");
  for (const [k, v] of Object.entries(record)) {
    if (!columns.has(k)) out.push(`${k}: not a column of ${table}`);
    else if (INGESTION_COLUMNS.has(k)) out.push(`${k}: set by the ingestion pipeline, never by an agent`);
    if (typeof v !== "string") bad(k, "not a string (records are map<str,str>)");
    else if (LONG_COLUMNS.has(k) && !/^-?\d+$/.test(v)) bad(k, "not a long");
    else if (DATETIME_COLUMNS.has(k) && !(ISO.test(v) && Number.isFinite(Date.parse(v)))) {
      bad(k, "not an ISO 8601 datetime");
    } else if (!documentedValue(k, v, dataType)) {
      const set = VALUE_SETS[k] ?? WINDOWS_VALUE_SETS[k];
      bad(k, set.length ? `not one of ${set.join(", ")}` : `not a column of ${dataType} rows`);
    }
  }
  for (const k of ["TimeGenerated", "Computer", typeColumn]) if (!(k in record)) out.push(`${k}: missing`);
  if (typeof record.Computer === "string" && (record.Computer === "" || record.Computer.includes("."))) {
    bad("Computer", "not a short host name");
  }
  if (typeColumn in record && !DATA_TYPES.includes(dataType)) {
    bad(typeColumn, `not one of ${DATA_TYPES.join(", ")}`);
  }
  if (!change) return out;

  // Registry changes on CONFIG_CHANGE_BLOB, the others on _V2 (SPEC §7.8).
  if (DATA_TYPES.includes(dataType) && (dataType === "Registry") !== (stream === "CONFIG_CHANGE_BLOB")) {
    bad(typeColumn, `does not go to ${stream}`);
  }
  const category = String(record.ChangeCategory ?? "");
  if (!CHANGE_CATEGORIES.includes(category)) {
    bad("ChangeCategory", `not one of ${CHANGE_CATEGORIES.join(", ")}`);
  }
  const fields = typeof record.FieldsChanged === "string" && record.FieldsChanged
    ? record.FieldsChanged.split(", ")
    : [];
  for (const f of fields) {
    if (!CHANGE_COLUMNS.has(f) && !DATA_COLUMNS.has(f)) {
      bad("FieldsChanged", `names ${JSON.stringify(f)}, no column`);
    }
  }
  if (category === "Modified" && !fields.length) bad("FieldsChanged", "empty on a Modified row");
  if (category !== "Modified" && fields.length) bad("FieldsChanged", `not empty on an ${category} row`);
  const services = dataType === "Daemons" || dataType === "WindowsServices";
  if ("SvcChangeType" in record) {
    const words = String(record.SvcChangeType).split(" ");
    const at = words.map((w) => WORDS.indexOf(w));
    if (!services || category !== "Modified") bad("SvcChangeType", "only on a Modified service row");
    if (at.some((i) => i < 0)) bad("SvcChangeType", `a word is not one of ${WORDS.join(" ")}`);
    else if (at.some((i, n) => n > 0 && i <= at[n - 1])) {
      bad("SvcChangeType", `not in the order ${WORDS.join(" ")}`);
    }
  } else if (services && category === "Modified" && fields.some((f) => f.startsWith("Svc"))) {
    out.push("SvcChangeType: missing on a Modified service row");
  }
  for (const k of Object.keys(record)) {
    if (ABOUT_THE_CHANGE.has(k) || IDENTITY_COLUMNS.has(k)) continue;
    if (category === "Removed" && !isPrevious(k)) bad(k, "a current value on a Removed row");
    if (category === "Added" && isPrevious(k)) bad(k, "a previous value on an Added row");
  }
  if (category === "Added" && "Previous" in record) bad("Previous", "a previous value on an Added row");
  if (category === "Removed" && "Current" in record) bad("Current", "a current value on a Removed row");
  return out;
}

/**
 * A received record with what differs from run to run checked for its form and written as a placeholder
 * (TimeGenerated "<time>", LastSnapshotAge "<age>"), so a test can compare the rest whole.
 */
export function withRunValuesBlanked(record: Record<string, unknown>): Record<string, string> {
  const rec = { ...record } as Record<string, string>;
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(rec.TimeGenerated)) {
    throw new Error(
      `TimeGenerated ${JSON.stringify(rec.TimeGenerated)} is not ISO 8601 UTC with milliseconds`,
    );
  }
  rec.TimeGenerated = "<time>";
  if ("LastSnapshotAge" in rec) {
    if (!/^\d+$/.test(rec.LastSnapshotAge)) {
      throw new Error(`LastSnapshotAge ${JSON.stringify(rec.LastSnapshotAge)} is not a number of seconds`);
    }
    rec.LastSnapshotAge = "<age>";
  }
  return rec;
}
