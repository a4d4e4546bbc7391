// Table types of the state database, as Kysely sees them. Times are epoch milliseconds.
import type { ColumnType, Generated } from "kysely";

/**
 * The items view (migration 010): each item's JSON written back from its compact row (item_rows, item_shapes;
 * written by db/items.ts only).
 */
export interface ItemsTable {
  collector: string;
  key: string;
  /**
   * SHA-256 of the item's JSON, or "" for an item with a fingerprint (which identifies its version); null while
   * the item has never been read without error.
   */
  checksum: string | null;
  /** JSON of the item (record fields). */
  data: string;
  /** Why the last read of this item failed; the data then holds the last good read. */
  error: string | null;
  first_seen: number;
  /** When the diffed fields last changed (or first_seen). */
  changed_at: number;
  /** What the collector said identifies this exact version (see ItemSink.add); null when it gave none. */
  fingerprint: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface ChangesTable {
  id: Generated<number>;
  run_id: number;
  at: number;
  collector: string;
  key: string;
  /** Added | Removed | Modified */
  category: string;
  /** JSON array of field names. */
  fields_changed: string;
  /** JSON of the item before (null when Added). */
  previous: string | null;
  /** JSON of the item after (null when Removed). */
  current: string | null;
  /** Position in the history's hash chain (db/chain.ts); null only for a row written around ctagent. */
  seq: ColumnType<number | null, number, never>;
  /** The chain hash of this row (db/chain.ts). */
  hash: ColumnType<string | null, string, never>;
  /**
   * Who made the change (migration 007): JSON of the record fields a realtime event gave (ProcessId,
   * ProcessName, …); null when unknown (a scheduled scan found it).
   */
  origin: ColumnType<string | null, string | null | undefined, never>;
}

/** Acknowledgements and notes of reviewers (migration 006; written by db/acks.ts), links of the chain too. */
export interface AcksTable {
  id: ColumnType<number, number, never>;
  seq: ColumnType<number | null, number, never>;
  hash: ColumnType<string | null, string, never>;
  at: number;
  /** The change acknowledged, or null when a group is. */
  change_id: number | null;
  /** The group acknowledged (a name the page gives a set of changes, e.g. `run:42`), or null for one change. */
  group_key: string | null;
  reviewer: string;
  note: string;
}

/** Where retention cut the chain's beginning (db/chain.ts): what stays verifies from the last one. */
export interface ChainCheckpointsTable {
  id: Generated<number>;
  at: number;
  /** Links pruned in all, up to and including through_seq. */
  pruned: number;
  through_seq: number;
  through_hash: string;
}

export interface RunsTable {
  id: Generated<number>;
  collector: string;
  started_at: number;
  finished_at: number;
  /** baseline | ok | failed | aborted */
  status: string;
  /** JSON: { items, added, removed, modified, errors } */
  counts: string;
  error: string | null;
  /** JSON array of warnings (limits hit, sources skipped). */
  warnings: string;
}

export interface OutboxTable {
  id: Generated<number>;
  /** Logical stream: CONFIG_CHANGE_BLOB | CONFIG_CHANGE_BLOB_V2 | CONFIG_DATA_BLOB_V2 */
  stream: string;
  /**
   * JSON of the record's Log Analytics columns, a flat map<str,str> (what AMA's streams carry); "" when none
   * of the record is for the table (it goes to full forward endpoints only).
   */
  record: string;
  /** JSON of what only the full record has (RecordId, ctagent's fields); null when the extras were not kept. */
  extra: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: number;
  attempts: number;
}

export interface ConfigTable {
  id: Generated<number>;
  /** file | ama | default | last-good */
  source: string;
  /** Where it came from (file path, endpoint). */
  origin: string;
  received_at: number;
  /** The DCR text exactly as received. */
  raw: string;
  /**
   * SHA-256 of what was read from it (normalized settings and streams, or the problems), to store a DCR once
   * however often it is seen: not of raw, whose envelope changes with every AMA poll (rows of earlier builds
   * hash raw: each DCR is stored once more).
   */
  hash: string;
  valid: number;
  /** JSON array of { path, message }. */
  errors: string;
  /** JSON of the normalized configuration (null when invalid). */
  normalized: string | null;
}

export interface StateTable {
  key: string;
  value: string;
}

export interface ContentsTable {
  /** SHA-256 (hex) of the content: the FileContentChecksum of the file version it belongs to. */
  checksum: string;
  /** The content, UTF-8 text (binary files are never captured). */
  text: string;
  size: number;
  captured_at: number;
}

/** Change counts per UTC hour (migration 003, kept by triggers on changes), for the page's charts. */
export interface ChangesHourlyTable {
  /** at / 3600000 */
  hour: number;
  collector: string;
  category: string;
  n: number;
}

/** Modified changes per UTC hour and set of fields changed (migration 008, kept by triggers on changes). */
export interface ChangesFieldsHourlyTable {
  /** at / 3600000 */
  hour: number;
  collector: string;
  /** The changes' fields_changed text (a JSON array, as stored). */
  fields_changed: string;
  n: number;
}

export interface Database {
  items: ItemsTable;
  changes: ChangesTable;
  runs: RunsTable;
  outbox: OutboxTable;
  config: ConfigTable;
  state: StateTable;
  contents: ContentsTable;
  changes_hourly: ChangesHourlyTable;
  changes_fields_hourly: ChangesFieldsHourlyTable;
  acks: AcksTable;
  chain_checkpoints: ChainCheckpointsTable;
}
