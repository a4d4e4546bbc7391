// The migrations, imported statically so they travel inside the single bundled file.
import type { Migration } from "kysely/migration";
import * as m001 from "./001_init.ts";
import * as m002 from "./002_contents.ts";
import * as m003 from "./003_ui_indexes.ts";
import * as m004 from "./004_fingerprints.ts";
import * as m005 from "./005_outbox_extra.ts";
import * as m006 from "./006_chain.ts";
import * as m007 from "./007_items_by_key.ts";
import * as m008 from "./008_change_fields.ts";
import * as m009 from "./009_change_origin.ts";
import * as m010 from "./010_compact_items.ts";
import * as m011 from "./011_items_view_format.ts";
import * as m012 from "./012_change_indexes_by_writer.ts";

export const migrations: Record<string, Migration> = {
  "001_init": m001,
  "002_contents": m002,
  "003_ui_indexes": m003,
  "004_fingerprints": m004,
  "005_outbox_extra": m005,
  "006_chain": m006,
  "007_items_by_key": m007,
  "008_change_fields": m008,
  "009_change_origin": m009,
  "010_compact_items": m010,
  "011_items_view_format": m011,
  "012_change_indexes_by_writer": m012,
};

/**
 * The tables, indexes and triggers ("type name", in that order) the migrations above leave in a database made
 * from empty. Each open checks that they are there (db/open.ts); open_test checks this list against a freshly
 * migrated database, so a migration that adds or drops one must change it here too. Written out rather than
 * found by migrating an empty database at each start, which cost some 20 ms of every process's start.
 */
export const SCHEMA_OBJECTS: readonly string[] = [
  "table acks",
  "table chain_checkpoints",
  "table changes",
  "table changes_fields_hourly",
  "table changes_fts",
  "table changes_fts_config",
  "table changes_fts_data",
  "table changes_fts_docsize",
  "table changes_fts_idx",
  "table changes_hourly",
  "table config",
  "table contents",
  "table item_rows",
  "table item_shapes",
  "table kysely_migration",
  "table kysely_migration_lock",
  "table outbox",
  "table runs",
  "table state",
  "index acks_change",
  "index acks_group",
  "index acks_seq",
  "index changes_at",
  "index changes_collector_at",
  "index changes_item",
  "index changes_seq",
  "index items_errors",
  "index items_unprinted",
  "index outbox_stream",
  "index runs_collector",
  "trigger changes_fields_hourly_del",
  "trigger changes_fts_del",
  "trigger changes_hourly_del",
  "trigger items_delete",
  "trigger items_insert",
  "trigger items_update",
];
