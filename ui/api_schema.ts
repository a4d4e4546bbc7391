// The shapes of what the page's API answers, as zod schemas: the OpenAPI document shows them, and the API's test
// checks real answers against them (the server does not validate its own answers at run time).
import * as z from "../agent/zod.ts";
import { MAX_NOTE, MAX_REVIEWER } from "../db/acks.ts";

const int = z.number().int();
/** Milliseconds since 1970 (UTC); not always whole (a next run is reckoned on the elapsed-time clock). */
const ms = z.number().meta({ description: "epoch milliseconds" });
const fields = z.record(z.string(), z.unknown());

export const ErrorAnswer = z.strictObject({ error: z.string() });

export const ItemRow = z.strictObject({
  collector: z.string(),
  key: z.string(),
  data: fields.meta({ description: "the item's fields, named as its records name them" }),
  error: z.string().nullable().meta({ description: "why its last read failed, or null" }),
  first_seen: ms,
  changed_at: ms.nullable().meta({ description: "when its fields last changed; null when they never did" }),
});

/** An acknowledgement as a change row carries it (its own, or its run's with `group`). */
export const RowAck = z.strictObject({
  id: int,
  at: ms,
  reviewer: z.string(),
  note: z.string(),
  group: z.string().optional(),
});

/** A text file's content change by its lines (`+1 −1 lines: workers = 8 → 16`). */
export const LineSummary = z.strictObject({
  added: int,
  removed: int,
  sample: z.union([
    z.strictObject({
      op: z.literal("~"),
      before: z.string(),
      old: z.string(),
      new: z.string(),
      after: z.string(),
    }),
    z.strictObject({ op: z.enum(["+", "-"]), text: z.string() }),
  ]).optional().meta({ description: "the first line changed: what in it (~), or the line added or removed" }),
});

/** A run's mass change a list shows as one row (readable.ts). */
export const FoldedRun = z.strictObject({
  run: int,
  collector: z.string(),
  at: ms,
  rep: int.meta({ description: "the id of the change shown for them all" }),
  n: int.meta({ description: "how many of the run's changes the filters keep" }),
  categories: z.record(z.string(), int),
  under: z.string().nullable().meta({ description: "the folder they are all under, for paths" }),
});

export const ChangeRow = z.strictObject({
  id: int,
  run_id: int,
  at: ms,
  collector: z.string(),
  key: z.string(),
  category: z.enum(["Added", "Removed", "Modified"]),
  fields_changed: z.array(z.string()),
  previous: fields.nullable(),
  current: fields.nullable(),
  origin: z.record(z.string(), z.string()).nullable().meta({
    description:
      "who made it, as realtime saw it (DetectedBy, ProcessId, ProcessCommandLine, UserName …), or null",
  }),
  ack: RowAck.nullable().meta({ description: "the latest acknowledgement of the change, or null" }),
  quiet: z.literal(true).optional().meta({ description: "a timestamp-only change (listed only when asked)" }),
  group: FoldedRun.optional().meta({ description: "the run's mass change this row stands for" }),
  lines: LineSummary.optional().meta({ description: "its content change by lines (both versions captured)" }),
});

export const page = <T extends z.ZodType>(row: T) =>
  z.strictObject({
    total: int,
    capped: z.boolean().meta({ description: "true when total is a lower bound (counting stopped)" }),
    offset: int,
    rows: z.array(row),
  });

export const ChangePage = page(ChangeRow).extend({
  timestamps: z.strictObject({ n: int, capped: z.boolean() }).meta({
    description: "timestamp-only changes the filters fold away (or, with timestamps=1, hold)",
  }),
  grouped: z.strictObject({ runs: int, changes: int }).meta({
    description: "runs shown as one row each (mass changes), and how many changes they hold",
  }),
});

/** Two moments compared (ui/compare.ts): a change row per item, from its state at `from` to its state at `to`. */
export const Comparison = z.strictObject({
  from: ms,
  to: ms,
  counts: z.record(z.string(), int).meta({ description: "net changes per category" }),
  events: int.meta({ description: "the changes between the two moments" }),
  total: int,
  offset: int,
  rows: z.array(
    ChangeRow.omit({ ack: true }).extend({
      ack: RowAck.nullable().optional(),
      changes: int.meta({ description: "how many changes the item went through between them" }),
      first_at: ms.meta({ description: "when the first of them was" }),
    }),
  ),
});

export const Facets = z.strictObject({
  facets: z.array(z.strictObject({
    field: z.string(),
    values: z.array(z.strictObject({ value: z.string(), n: int })).meta({
      description: "most frequent first",
    }),
    others: int.meta({ description: "items with a value not listed" }),
  })),
});

export const Search = z.strictObject({
  q: z.string(),
  pattern: z.enum(["glob", "regex"]).nullable().meta({
    description: "how q was read over keys; null: words",
  }),
  groups: z.array(z.strictObject({ collector: z.string(), total: int, rows: z.array(ItemRow) })),
});

export const RunRow = z.strictObject({
  id: int,
  collector: z.string(),
  started_at: ms,
  finished_at: ms,
  status: z.enum(["baseline", "ok", "realtime", "failed", "aborted"]).meta({
    description: "realtime: a re-collection of what a realtime event touched",
  }),
  counts: z.record(z.string(), z.number()),
  error: z.string().nullable(),
  warnings: z.array(z.string()),
});

const Link = z.strictObject({ seq: int, hash: z.string() });

export const ChainState = z.strictObject({
  head: Link,
  verified: z.strictObject({
    ok: z.boolean(),
    rows: int,
    last: Link,
    broken: z.strictObject({
      kind: z.string(),
      table: z.enum(["changes", "acks"]).optional(),
      id: int.optional(),
      seq: int.optional(),
      message: z.string(),
    }).optional(),
    verifiedAt: ms,
  }).nullable(),
});

export const Status = z.strictObject({
  now: ms,
  auth: z.enum(["token", "off"]),
  platform: z.enum(["linux", "windows"]),
  timeZone: z.string().meta({ description: "the server's IANA time zone" }),
  problems: z.strictObject({
    rejectedDcrs: int.meta({ description: "DCRs rejected after the one in force" }),
    missingPaths: z.array(z.strictObject({ name: z.string(), path: z.string() })).meta({
      description: "fileInfo entries of the DCR in force that match nothing here",
    }),
  }),
  version: z.string().nullable(),
  hostname: z.string().nullable(),
  os: z.string().nullable(),
  startedAt: ms.nullable(),
  config: z.strictObject({
    source: z.string(),
    origin: z.string().nullable(),
    dcrId: z.string().nullable(),
    receivedAt: ms.nullable(),
    warnings: z.array(z.string()),
    rejected: int,
  }),
  collectors: z.array(z.strictObject({
    name: z.string(),
    enabled: z.boolean(),
    frequency: int.nullable().meta({ description: "seconds between runs" }),
    nextRunAt: ms.nullable(),
    running: z.boolean(),
    lastRun: RunRow.nullable(),
    lastError: z.strictObject({ at: ms, error: z.string() }).nullable(),
  })),
  outbox: z.strictObject({
    depth: int,
    byStream: z.record(z.string(), int),
    endpoint: z.string().optional(),
    reachable: z.boolean().optional(),
    lastError: z.string().nullable().optional(),
    lastDeliveredAt: ms.nullable().optional(),
    dropped: int.optional(),
    droppedReason: z.string().nullable().optional(),
  }),
  health: z.strictObject({ level: z.enum(["ok", "warn", "error"]), text: z.string() }),
  chain: ChainState,
  realtime: z.strictObject({
    on: z.boolean(),
    backend: z.enum(["fanotify", "inotify", "watchfs"]).nullable(),
    attribution: z.boolean().meta({ description: "whether the watcher names the process of each change" }),
    tried: z.array(z.string()).meta({ description: "watchers that could not be used here, and why" }),
    watches: int,
    events: int,
    overflows: int,
    collectors: z.array(z.strictObject({
      name: z.string(),
      modes: z.array(z.enum(["fanotify", "inotify", "watchfs", "regnotify", "polling"])),
      targets: int,
      unwatched: z.array(z.strictObject({ path: z.string(), why: z.string() })),
      runs: int,
      changes: int,
      missed: int.meta({ description: "changes a scheduled run found that realtime did not" }),
      fallbacks: int.meta({ description: "rescans after lost events (overflow, a lost watch, an unmount)" }),
      lastFallback: z.strictObject({ at: ms, why: z.string() }).optional(),
      lastRunAt: ms.optional(),
    })),
    at: ms,
  }).nullable().meta({ description: "realtime watching, or null when no agent ever told it" }),
});

export const Counts = z.record(
  z.string(),
  z.strictObject({
    items: int,
    errors: int.meta({ description: "items whose last read failed" }),
    changed: int.meta({ description: "items changed since `since`" }),
    changes: int.optional(),
    unreviewed: int.optional(),
  }),
);

export const Histogram = z.strictObject({
  since: ms,
  until: ms,
  bucket: int.meta({ description: "bucket width in milliseconds" }),
  points: z.array(z.strictObject({ t: ms, collector: z.string(), category: z.string(), n: int })),
});

export const ItemHistory = z.strictObject({
  item: ItemRow.nullable(),
  history: z.array(ChangeRow),
  contents: z.array(z.string()).meta({ description: "checksums of its versions whose content may be shown" }),
  withheld: z.record(z.string(), z.string()).meta({
    description: "checksums of captured versions not shown, with why",
  }),
  notCaptured: z.string().nullable().meta({
    description:
      "why the content of its current version was not captured (size over the limit, binary, private)",
  }),
  firstSeen: z.strictObject({ at: ms, exact: z.boolean() }).nullable(),
});

const ConfigRow = z.strictObject({
  id: int,
  source: z.string(),
  origin: z.string(),
  received_at: ms,
  raw: z.string().meta({ description: "the DCR as received" }),
  valid: z.boolean(),
  errors: z.array(z.strictObject({ path: z.string(), message: z.string() })),
  normalized: z.unknown().meta({ description: "the settings read from it (null when rejected)" }),
});

export const Configs = z.strictObject({
  current: ConfigRow.nullable(),
  rejected: z.array(ConfigRow),
  live: z.strictObject({
    source: z.string().optional(),
    origin: z.string().optional(),
    dcrId: z.string().optional(),
    receivedAt: ms.optional(),
    warnings: z.array(z.string()).optional(),
  }).nullable(),
});

export const Content = z.strictObject({
  checksum: z.string(),
  text: z.string(),
  size: int,
  captured_at: ms,
});

export const Diff = z.strictObject({
  from: z.string(),
  to: z.string(),
  hunks: z.array(z.strictObject({
    aStart: int,
    aLen: int,
    bStart: int,
    bLen: int,
    lines: z.array(z.strictObject({
      op: z.enum([" ", "-", "+"]),
      text: z.string(),
      a: int.optional(),
      b: int.optional(),
    })),
  })),
  added: int,
  removed: int,
  approximate: z.boolean(),
});

export const Ack = z.strictObject({
  id: int,
  seq: int,
  hash: z.string(),
  at: ms,
  changeId: int.nullable(),
  group: z.string().nullable(),
  reviewer: z.string().max(MAX_REVIEWER),
  note: z.string().max(MAX_NOTE),
});

export const Scan = z.strictObject({
  collector: z.string().nullable(),
  done: z.boolean().meta({ description: "false when the run still goes on (202)" }),
  failed: z.array(z.strictObject({ collector: z.string(), error: z.string().nullable() })).optional(),
  error: z.string().optional(),
});

// Examples of the answers (the OpenAPI document shows them; the API's test checks them against the schemas).

export const SUM_EXAMPLE = "8d4a6f2c71e0b39a5d5e4f1c2b3a49687f6e5d4c3b2a19080716253443526170";

/** An example run of `collector`. */
export const runExample = (collector: string): z.input<typeof RunRow> => ({
  id: 12,
  collector,
  started_at: 1764575990000,
  finished_at: 1764576000000,
  status: "ok",
  counts: { items: 1204, added: 1, removed: 0, modified: 2, errors: 0 },
  error: null,
  warnings: [],
});

/** An item of `collector` whose name field is `nameField` (a file when it captures content). */
export function itemExample(collector: string, nameField: string, content: boolean): z.input<typeof ItemRow> {
  return content
    ? {
      collector,
      key: "/etc/app.conf",
      data: { FileSystemPath: "/etc/app.conf", Size: 12, FileContentChecksum: SUM_EXAMPLE, Owner: "root" },
      error: null,
      first_seen: 1764489600000,
      changed_at: 1764576000000,
    }
    : {
      collector,
      key: "example",
      data: { [nameField]: "example" },
      error: null,
      first_seen: 1764489600000,
      changed_at: null,
    };
}

/** An example change of `collector` (a file's). */
export const changeExample = (collector: string): z.input<typeof ChangeRow> => ({
  id: 42,
  run_id: 12,
  at: 1764576000000,
  collector,
  key: "/etc/app.conf",
  category: "Modified",
  fields_changed: ["FileContentChecksum", "Size"],
  previous: { FileSystemPath: "/etc/app.conf", Size: 11 },
  current: { FileSystemPath: "/etc/app.conf", Size: 12 },
  origin: {
    DetectedBy: "fanotify",
    ProcessId: "4242",
    ProcessName: "vim",
    ProcessPath: "/usr/bin/vim.basic",
    ProcessCommandLine: "vim /etc/app.conf",
    UserName: "alice",
  },
  ack: null,
});

/** An example status of an agent running `collector`. */
export const statusExample = (collector: string): z.input<typeof Status> => ({
  now: 1764576005000,
  auth: "token",
  platform: "linux",
  timeZone: "Europe/Berlin",
  problems: { rejectedDcrs: 0, missingPaths: [] },
  version: "0.1.0",
  hostname: "web-01",
  os: "Debian GNU/Linux 12 (bookworm)",
  startedAt: 1764489000000,
  config: {
    source: "file",
    origin: "/etc/ctagent/dcr.json",
    dcrId: null,
    receivedAt: 1764489000000,
    warnings: [],
    rejected: 0,
  },
  collectors: [{
    name: collector,
    enabled: true,
    frequency: 900,
    nextRunAt: 1764576900000,
    running: false,
    lastRun: runExample(collector),
    lastError: null,
  }],
  outbox: {
    depth: 0,
    byStream: {},
    endpoint: "unix:/run/azuremonitoragent/default_fluent.socket",
    reachable: true,
  },
  health: { level: "ok", text: "All collectors ran" },
  chain: { head: { seq: 1043, hash: SUM_EXAMPLE }, verified: null },
  realtime: {
    on: true,
    backend: "fanotify",
    attribution: true,
    tried: [],
    watches: 3,
    events: 17,
    overflows: 0,
    collectors: [{
      name: collector,
      modes: ["fanotify"],
      targets: 1,
      unwatched: [],
      runs: 5,
      changes: 6,
      missed: 0,
      fallbacks: 0,
      lastRunAt: 1764575000000,
    }],
    at: 1764576000000,
  },
});
