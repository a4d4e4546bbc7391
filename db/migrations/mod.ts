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
};
