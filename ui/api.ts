// The page's JSON API: status, inventory, changes, item history, DCRs, file contents and diffs, exports,
// acknowledgements, scan now; each route declared once with its schemas (route.ts), documented at /api/openapi.json.
import { type Context, Hono } from "hono";
import type { Db } from "../db/open.ts";
import type { Logger } from "../agent/log.ts";
import { statusModel } from "../agent/status.ts";
import type { RealtimeStatus } from "../agent/pipeline/realtime.ts";
import { recentRuns, type RunRow } from "../db/runs.ts";
import { content } from "../db/contents.ts";
import type { UiCollector } from "./collectors.ts";
import { sortFieldsOf } from "../agent/collectors/spec.ts";
import * as q from "./queries.ts";
import { inventoryIndex } from "./inventory_index.ts";
import { diffLines } from "./diff.ts";
import { type ContentGate, contentGate } from "./privacy.ts";
import { streamSSE } from "hono/streaming";
import { sql } from "kysely";
import * as z from "../agent/zod.ts";
import { changeFeed, type Feed } from "./events.ts";
import { parseRule } from "../agent/collectors/files/match.ts";
import type { Platform } from "../agent/platform.ts";
import { type Ack, type AckInput, MAX_NOTE, MAX_REVIEWER } from "../db/acks.ts";
import { exportChanges, type ExportFormat, exportInventory } from "./export.ts";
import { mount, type Route, route } from "./route.ts";
import { openApiDocument } from "./openapi.ts";
import * as S from "./api_schema.ts";
import { VERSION } from "../agent/version.ts";
import { lineSummaries, massRuns, quietSets } from "./readable.ts";
import { keyPattern } from "./search.ts";
import { compare } from "./compare.ts";

/** What the agent's scheduler offers the page: run one collector (or all) now. */
export interface Scheduler {
  /** Resolves when the run(s) finished; the page waits up to `scanWaitMs` for it. */
  scanNow(collector?: string): Promise<unknown> | unknown;
}

export type { RealtimeStatus };

/** Live facts only the running agent knows; every field is optional (the page shows what it gets). */
export interface AgentStatus {
  version?: string;
  hostname?: string;
  /** e.g. "Debian GNU/Linux 12 (bookworm)". */
  os?: string;
  startedAt?: number;
  config?: {
    /** file | ama | last-good | default */
    source?: string;
    origin?: string;
    /** The DCR's id (or immutableId) when the source carries one. */
    dcrId?: string;
    receivedAt?: number;
    warnings?: string[];
  };
  collectors?: {
    name: string;
    enabled: boolean;
    /** Seconds between runs. */
    frequency?: number;
    nextRunAt?: number | null;
    running?: boolean;
    /** A failed run the agent could not store (full or read-only database): newer than any stored run. */
    unrecordedRun?: RunRow;
  }[];
  /** What realtime follows per collector, and how it went (fanotify / inotify / polling / off). */
  realtime?: RealtimeStatus;
  delivery?: {
    /** Where records go (AMA socket, forward endpoint) and whether it is reachable. */
    endpoint?: string;
    reachable?: boolean;
    lastError?: string | null;
    lastDeliveredAt?: number | null;
    /** Records dropped (by a safety limit), with the reason. */
    dropped?: number;
    droppedReason?: string | null;
  };
}

export interface ApiOptions {
  db: Db;
  /** The collectors the API knows (their specs: `COLLECTORS` for all of them). */
  collectors: readonly UiCollector[];
  scheduler?: Scheduler;
  status?: () => AgentStatus | Promise<AgentStatus>;
  log?: Logger;
  now?: () => number;
  /** How long POST /api/scan waits for the run before answering 202 (default 60 s). */
  scanWaitMs?: number;
  /** "off" when the page runs without sign-in (--no-auth): the page shows a banner. */
  auth?: "token" | "off";
  /** Which captured contents may be shown (default: nothing that not every user may read). */
  contents?: ContentGate;
  /** What the page is told as it happens (default: a feed of its own over `db`). */
  feed?: Feed;
  /** The OS of the machine shown (its paths' form; the collectors it has). */
  os?: Platform;
  /** Writes an acknowledgement (db/acks.ts, through the state's writer); absent: the page only reads. */
  acknowledge?: (input: AckInput) => Promise<Ack>;
  /** The session cookie's name (the OpenAPI document names it). */
  cookieName?: () => string;
}

const RANGES: Record<string, number> = {
  "1h": 3600_000,
  "24h": 86400_000,
  "7d": 7 * 86400_000,
  "30d": 30 * 86400_000,
};

/** `since` as epoch ms: a range name (1h, 24h, 7d, 30d), epoch ms, or an ISO date. */
export function parseTime(v: string | undefined, now: number): number | undefined {
  if (v === undefined || v === "") return undefined;
  if (v in RANGES) return now - RANGES[v];
  if (/^\d+$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t)) {
    throw new RangeError(
      `Cannot parse time ${JSON.stringify(v)}: expected 1h, 24h, 7d, 30d, epoch ms or ISO 8601`,
    );
  }
  return t;
}

/** The longest text search: longer ones cost a scan for nothing anyone types. */
const MAX_SEARCH = 256;
/** The most chart buckets one histogram may ask for. */
const MAX_BUCKETS = 10_000;

const CHECKSUM = /^[0-9a-fA-F]{64}$/;

/** A query parameter holding a whole number. */
const whole = z.string().regex(/^\d+$/, {
  error: (i) => `expected a whole number, got ${JSON.stringify(i.input)}`,
})
  .transform(Number);

/** A 0/1 query parameter. */
const flag = (name: string, description: string) =>
  z.enum(["0", "1"], { error: (i) => `${name} must be 0 or 1, got ${JSON.stringify(i.input)}` })
    .transform((v) => v === "1").optional().meta({ description });

/** A comma-separated list of `allowed` values. */
const listOf = (allowed: readonly string[], description: string) => {
  const one = allowed.map((a) => a.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
  const item = ` *(?:${one}) *`;
  return z.string().regex(new RegExp(`^${item}(?:,${item})*$`), {
    error: (i) =>
      `expected one or more of ${allowed.join(", ")} (comma-separated), got ${JSON.stringify(i.input)}`,
  }).transform((v) => v.split(",").map((s) => s.trim())).optional().meta({ description });
};

const searchText = z.string().max(MAX_SEARCH, {
  error: (i) => `at most ${MAX_SEARCH} characters, got ${(i.input as string).length}`,
}).optional();

const hex64 = (name: string) =>
  z.string().regex(CHECKSUM, { error: `${name} must be 64 hex digits` }).transform((v) => v.toLowerCase())
    .meta({ description: "a SHA-256 in hex" });

const int = z.number().int();

const exportFormat = z.enum(["csv", "ndjson"], {
  error: (i) => `format must be csv or ndjson, got ${JSON.stringify(i.input)}`,
});

export function createApi(opts: ApiOptions): Hono {
  const { db } = opts;
  const specs = opts.collectors;
  const names = specs.map((s) => s.name);
  const now = opts.now ?? Date.now;
  const index = inventoryIndex(db, { now });
  const gate = opts.contents ??
    contentGate({ settings: () => undefined, os: Deno.build.os === "windows" ? "windows" : "linux" });
  /** The collector that captures content (files): contents are asked for as versions of one of its items. */
  const holder = specs.find((s) => s.content);
  /** The collector the document's examples are of: the one that captures content (files), or the first. */
  const sample = holder ?? specs[0];
  /** Captured content, when it was a version of the item `key` and may be shown. */
  const shown = async (key: string, sum: string) => {
    const versions = holder && holder.content
      ? await q.contentVersions(db, holder.name, holder.content.checksumField, key, sum)
      : [];
    if (!versions.length) return { status: 404 as const, error: `content ${sum} is not a version of ${key}` };
    const why = gate.withheld(key, versions);
    if (why) return { status: 403 as const, error: `content not shown: ${why}` };
    const row = await content(db, sum);
    return row ? { row } : { status: 404 as const, error: `content of ${sum} not captured` };
  };
  const os: Platform = opts.os ?? (Deno.build.os === "windows" ? "windows" : "linux");
  const feed = opts.feed ?? changeFeed(db);
  const lines = lineSummaries(
    db,
    holder && holder.content ? { name: holder.name, checksumField: holder.content.checksumField } : undefined,
    gate,
  );
  /** Answers of `make` kept while the data (and acknowledgements) stay as they are, the last few of them. */
  const memo = <T>(make: (key: string) => Promise<T>) => {
    const kept = new Map<string, Promise<T>>();
    return async (key: string): Promise<T> => {
      const v = `${await q.dataVersion(db)}|${await q.ackVersion(db)}|${key}`;
      let p = kept.get(v);
      if (!p) {
        p = make(key);
        p.catch(() => kept.delete(v));
        kept.set(v, p);
        if (kept.size > 32) kept.delete(kept.keys().next().value!);
      }
      return await p;
    };
  };
  const quiet = memo(() => quietSets(db, specs));
  const isPath = (name: string) => !!specs.find((s) => s.name === name)?.page.path;
  const folded = memo((key: string) => massRuns(db, JSON.parse(key), isPath));
  /** Marks the timestamp-only changes of `rows` and says text file changes by their lines; the sets used. */
  const readable = async (rows: q.ChangeRow[]) => {
    const sets = await quiet("");
    for (const row of rows) {
      if (row.category === "Modified" && sets[row.collector]?.includes(JSON.stringify(row.fields_changed))) {
        row.quiet = true;
      }
    }
    await lines.add(rows);
    return sets;
  };

  /**
   * What the top status counts besides runs: DCRs rejected after the one in force (the agent runs on an older
   * one), and fileInfo entries of the DCR in force that match nothing here (their path does not exist).
   */
  const problems = async (current: q.ConfigRow | null) => {
    // Received after the one in force; in the same millisecond, stored after it (its id is higher).
    const at = current?.received_at ?? 0, id = current?.id ?? 0;
    const rejected = await db.selectFrom("config").where("valid", "=", 0)
      .where((eb) =>
        eb.or([eb("received_at", ">", at), eb.and([eb("received_at", "=", at), eb("id", ">", id)])])
      )
      .select(sql<number>`count(*)`.as("n")).executeTakeFirstOrThrow();
    const settings = (current?.normalized as { settings?: { enableFiles?: boolean; fileSettings?: unknown } })
      ?.settings;
    const rules = settings?.enableFiles
      ? ((settings.fileSettings as { fileInfo?: { name?: string; path: string; enabled?: boolean }[] })
        ?.fileInfo ?? [])
      : [];
    const missing: { name: string; path: string }[] = [];
    for (const rule of rules.filter((r) => r.enabled !== false)) {
      if (!(await tracked(rule.path))) missing.push({ name: rule.name ?? "", path: rule.path });
    }
    return { rejectedDcrs: Number(rejected.n), missingPaths: missing };
  };
  /** Whether a fileInfo path has any item: the file itself, or anything under its directory. */
  const tracked = async (path: string) => {
    let rule;
    try {
      rule = parseRule(path, os);
    } catch {
      return true; // a path the collector refuses is the DCR's problem, said with the run's warnings
    }
    const sep = os === "windows" ? "\\" : "/";
    const under = rule.pattern ? rule.base : `${rule.base === sep ? "" : rule.base}${sep}${rule.segment}`;
    const prefix = under.endsWith(sep) ? under : under + sep;
    const next = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    if (!holder) return true;
    const hit = await db.selectFrom("items").where("collector", "=", holder.name)
      .where((eb) => eb.or([eb("key", "=", under), eb.and([eb("key", ">=", prefix), eb("key", "<", next)])]))
      .select("key").limit(1).executeTakeFirst();
    return !!hit;
  };

  /** A time: a range back from now (1h, 24h, 7d, 30d), epoch ms or ISO 8601; read as epoch ms. */
  const time = (description: string) =>
    z.string().transform((v, ctx) => {
      try {
        return parseTime(v, now())!;
      } catch (e) {
        ctx.issues.push({ code: "custom", message: (e as Error).message, input: v });
        return z.NEVER;
      }
    }).optional().meta({ description, examples: ["24h", "2026-11-30T08:00:00Z"] });

  /** The filters of the change list, its export and its chart. */
  const changeFilters = {
    since: time("the oldest change: 1h, 24h, 7d, 30d (back from now), epoch ms or ISO 8601"),
    until: time("the newest change (excluded), in the same forms as since"),
    type: listOf(names, `only changes of these collectors: ${names.join(", ")}`),
    category: listOf(q.CATEGORIES, "only changes of these categories: Added, Removed, Modified"),
    reviewed: flag("reviewed", "1: only acknowledged changes; 0: only changes not acknowledged yet"),
    timestamps: flag("timestamps", "1: timestamp-only changes too (folded away by default)"),
    run: whole.optional().meta({ description: "only the changes of this run (its id)" }),
  };
  type ChangeFilters = z.output<z.ZodObject<typeof changeFilters>>;
  const filtersOf = async (f: ChangeFilters): Promise<q.ChangesQuery> => {
    const run = f.run === undefined ? undefined : await db.selectFrom("runs").where("id", "=", f.run)
      .select(["id", "collector", "finished_at as at"]).executeTakeFirst();
    if (f.run !== undefined && !run) throw new RangeError(`run ${f.run} does not exist (or was pruned)`);
    return {
      since: f.since,
      until: f.until,
      collectors: f.type,
      categories: f.category,
      reviewed: f.reviewed,
      run,
      // Timestamp-only changes are folded away unless asked for.
      quiet: f.timestamps ? undefined : { sets: await quiet("") },
    };
  };

  /** The query of one collector's inventory list: its sort fields and filters come from its spec. */
  const inventoryQuery = (spec: UiCollector) => {
    const sorts = sortFieldsOf(spec) as [string, ...string[]];
    return {
      q: searchText.meta({
        description: "text anywhere in an item's values or key (case-insensitive); with * or ? a glob over " +
          "keys (/etc/**/*.conf); re: and a regex found in the key (linear-time subset)",
      }),
      sort: z.enum(sorts, {
        error: (i) =>
          `Cannot sort ${spec.name} by ${JSON.stringify(i.input)}: expected one of ${sorts.join(", ")}`,
      }).optional().meta({ description: "the field to sort by (default key)" }),
      dir: z.enum(["asc", "desc"], {
        error: (i) => `dir must be asc or desc, got ${JSON.stringify(i.input)}`,
      })
        .optional(),
      offset: whole.optional(),
      limit: whole.optional().meta({ description: `rows (default 100, at most ${q.MAX_LIMIT})` }),
      errors: flag("errors", "1: only items whose last read failed"),
      ...Object.fromEntries(
        (spec.filterable ?? []).map((f) => [
          `filter.${f}`,
          z.string().optional().meta({ description: `only items whose ${f} is exactly this` }),
        ]),
      ),
    };
  };
  /** An inventory search: words in the values, or (with * ? or re:) a pattern over keys (ui/search.ts). */
  const searchOf = (text: string | undefined) => {
    const keys = keyPattern(text, os);
    return { q: keys ? undefined : text, keys: keys?.test };
  };
  /** The inventory filters from a parsed inventory query. */
  const whereOf = (spec: UiCollector, query: Record<string, unknown>) => {
    const where: Record<string, string> = {};
    for (const f of spec.filterable ?? []) {
      const v = query[`filter.${f}`];
      if (typeof v === "string") where[f] = v;
    }
    return where;
  };

  /** The headers of an export's download. */
  const download = (c: Context, what: string, format: ExportFormat) => {
    const stamp = new Date(now()).toISOString().slice(0, 19).replaceAll(":", "");
    c.header("Content-Type", format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson");
    c.header("Content-Disposition", `attachment; filename="ctagent-${what}-${stamp}.${format}"`);
  };
  const exported = {
    description: "a download, streamed a page of rows at a time (CSV: RFC 4180, a header line first)",
    type: "text/csv",
  };

  const routes: Route[] = [];
  routes.push(route({
    method: "get",
    path: "/status",
    summary: "The agent's health: each collector's last run, the DCR in force, the outbox, the history chain",
    answers: { 200: { description: "the status", schema: S.Status } },
    example: { answer: S.statusExample(sample.name) },
    handle: async (c) => {
      const live: AgentStatus = (await opts.status?.()) ?? {};
      const [model, cfg] = await Promise.all([statusModel(db), q.configs(db, 1)]);
      const runs = new Map(model.runs.map((r) => [r.collector, r]));
      const errors = model.lastErrors;
      const known = new Set(specs.map((x) => x.name));
      const names = new Set<string>(
        [...(live.collectors ?? []).map((x) => x.name), ...runs.keys()].filter((n) => known.has(n)),
      );
      const collectors = [...names].map((name) => {
        const l = live.collectors?.find((x) => x.name === name);
        return {
          name,
          enabled: l?.enabled ?? true,
          frequency: l?.frequency ?? null,
          nextRunAt: l?.nextRunAt ?? null,
          running: l?.running ?? false,
          lastRun: l?.unrecordedRun ?? runs.get(name) ?? null,
          lastError: errors[name] ?? null,
        };
      });
      const outbox = model.outbox.depth;
      const failed = collectors.filter((x) => x.enabled && x.lastRun && x.lastRun.status === "failed");
      const health = failed.length
        ? { level: "error", text: `${failed.map((x) => x.name).join(", ")} failed` }
        : live.delivery?.reachable === false
        ? { level: "warn", text: `AMA unreachable, ${outbox.toLocaleString("en")} records waiting` }
        : live.delivery?.dropped
        ? { level: "warn", text: `${live.delivery.dropped.toLocaleString("en")} records dropped` }
        : { level: "ok", text: "All collectors ran" };
      return c.json({
        now: now(),
        auth: opts.auth ?? "token",
        platform: os,
        timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
        problems: await problems(cfg.current),
        version: live.version ?? null,
        hostname: live.hostname ?? null,
        os: live.os ?? null,
        startedAt: live.startedAt ?? null,
        config: {
          source: live.config?.source ?? cfg.current?.source ?? "default",
          origin: live.config?.origin ?? cfg.current?.origin ?? null,
          dcrId: live.config?.dcrId ?? null,
          receivedAt: live.config?.receivedAt ?? cfg.current?.received_at ?? null,
          warnings: live.config?.warnings ?? [],
          rejected: model.rejectedDcrs,
        },
        collectors,
        outbox: { depth: outbox, byStream: model.outbox.byStream, ...live.delivery },
        health,
        chain: model.chain,
        // The running agent's, or what the daemon last stored.
        realtime: live.realtime ?? model.realtime ?? null,
      });
    },
  }));

  routes.push(route({
    method: "get",
    path: "/events",
    summary: "What happens, as it happens (Server-Sent Events)",
    description:
      "Events: `hello` once (what is stored before it is in what is read after it; later runs come as events), `run` (a run was stored: id, collector, status, finishedAt, counts, " +
      "error), `acks` (acknowledgements were written: the newest id), `status` (the collectors' live state " +
      "moved); a comment line every 15 s keeps the stream open. The stream does not end by itself.",
    answers: { 200: { description: "an event stream", type: "text/event-stream" } },
    example: {},
    handle: (c) => {
      c.header("Cache-Control", "no-store");
      return streamSSE(c, async (stream) => {
        let wake!: () => void;
        const done = new Promise<void>((r) => wake = r);
        const off = feed.subscribe((e) => {
          const write = e.event === "ping"
            ? stream.write(": ping\n\n")
            : stream.writeSSE({ event: e.event, data: JSON.stringify(e.data) });
          write.catch(wake);
        });
        stream.onAbort(wake);
        await Promise.race([feed.primed(), done, feed.closed]);
        await stream.writeSSE({ event: "hello", data: "{}" });
        await Promise.race([done, feed.closed]);
        off();
      });
    },
  }));

  let itemCounts: { version: string; counts: q.Counts } | undefined;
  routes.push(route({
    method: "get",
    path: "/counts",
    summary: "Per collector: items, failed reads, items changed and changes since a time, unreviewed changes",
    query: z.strictObject({ since: time("count changes since (default 24h)") }),
    answers: { 200: { description: "counts by collector", schema: S.Counts } },
    example: {
      query: { since: "24h" },
      answer: { [sample.name]: { items: 1204, errors: 0, changed: 3, changes: 5, unreviewed: 4 } },
    },
    handle: async (c, { query }) => {
      const since = query.since ?? parseTime("24h", now())!;
      const version = await q.dataVersion(db);
      if (itemCounts?.version !== version) itemCounts = { version, counts: await q.itemCounts(db, names) };
      const sets = await quiet("");
      const counts = await q.withChanged(db, itemCounts.counts, since, sets);
      const reviewed = await q.reviewedCounts(db, since, sets);
      for (const [name, n] of Object.entries(counts)) n.unreviewed = (n.changes ?? 0) - (reviewed[name] ?? 0);
      return c.json(counts);
    },
  }));

  for (const spec of specs) {
    const collector = spec.name;
    const listed = inventoryQuery(spec);
    routes.push(route({
      method: "get",
      path: `/inventory/${collector}`,
      summary: `The ${spec.nouns[1]} now: search, filters, sort, a page of rows`,
      query: z.strictObject(listed),
      answers: { 200: { description: `a page of ${spec.nouns[1]}`, schema: S.page(S.ItemRow) } },
      example: {
        query: { sort: "key", limit: "1" },
        answer: {
          total: 1,
          capped: false,
          offset: 0,
          rows: [S.itemExample(collector, spec.nameField, !!spec.content)],
        },
      },
      handle: async (c, { query }) =>
        c.json(
          await index.query({
            collector,
            ...searchOf(query.q),
            sort: query.sort,
            dir: query.dir,
            offset: query.offset,
            limit: query.limit,
            errors: query.errors ?? false,
            where: whereOf(spec, query),
          }),
        ),
    }));
    routes.push(route({
      method: "get",
      path: `/export/inventory/${collector}`,
      summary: `Every ${spec.nouns[0]} the inventory view lists (its search and filters) as CSV or NDJSON`,
      query: z.strictObject({
        q: listed.q,
        errors: listed.errors,
        format: exportFormat,
        ...Object.fromEntries(Object.entries(listed).filter(([k]) => k.startsWith("filter."))),
      }),
      answers: { 200: exported },
      example: { query: { format: "csv" } },
      handle: (c, { query }) => {
        download(c, collector, query.format);
        const pattern = keyPattern(query.q, os);
        const needle = pattern ? undefined : query.q?.trim().toLowerCase();
        const errors = query.errors ?? false;
        const where = Object.entries(whereOf(spec, query));
        // The same rows the view lists: its text search over the key and field values, its filters.
        const keep = (i: { key: string; data: Record<string, unknown>; error: string | null }) =>
          (!errors || i.error !== null) && (!pattern || pattern.test(i.key)) &&
          where.every(([f, v]) => String(i.data[f] ?? "") === v) &&
          (!needle || i.key.toLowerCase().includes(needle) ||
            Object.values(i.data).some((v) => v !== null && String(v).toLowerCase().includes(needle)));
        return c.body(exportInventory(db, collector, spec.columns.map((x) => x.field), query.format, keep));
      },
    }));
    routes.push(route({
      method: "get",
      path: `/facets/${collector}`,
      summary: `The values of the ${
        spec.nouns[1]
      }' filterable fields among those the view lists, with counts`,
      description: "Each field's values are counted with the other fields' filters only (its own aside).",
      query: z.strictObject({
        q: listed.q,
        errors: listed.errors,
        ...Object.fromEntries(Object.entries(listed).filter(([k]) => k.startsWith("filter."))),
      }),
      answers: { 200: { description: "the facets", schema: S.Facets } },
      example: {
        answer: {
          facets: (spec.filterable ?? []).slice(0, 1).map((field) => ({
            field,
            values: [{ value: "example", n: 3 }],
            others: 0,
          })),
        },
      },
      handle: async (c, { query }) => {
        const facets = await index.facets(
          {
            collector,
            ...searchOf(query.q),
            errors: query.errors ?? false,
            where: whereOf(spec, query),
          },
          spec.filterable ?? [],
        );
        return c.json({ facets: facets ?? [] });
      },
    }));
  }

  routes.push(route({
    method: "get",
    path: "/search",
    summary:
      "One search over every collector the page shows: how many items of each match, and the first few",
    query: z.strictObject({
      q: z.string({ error: "q is required" }).min(1, { error: "q is required" }).max(MAX_SEARCH).meta({
        description: "words in any value; with * or ? a glob over keys; re: and a regex found in the key",
      }),
      limit: whole.optional().meta({ description: "items shown per collector (default 5, at most 50)" }),
    }),
    answers: { 200: { description: "the matches per collector", schema: S.Search } },
    example: {
      query: { q: "app.conf" },
      answer: {
        q: "app.conf",
        pattern: null,
        groups: [{
          collector: sample.name,
          total: 1,
          rows: [S.itemExample(sample.name, sample.nameField, !!sample.content)],
        }],
      },
    },
    handle: async (c, { query }) => {
      const text = query.q.trim();
      if (!text) throw new RangeError("q is required");
      const limit = Math.min(Math.max(query.limit ?? 5, 1), 50);
      const keys = keyPattern(text, os);
      const groups = [];
      for (const spec of specs) {
        const page = await index.query({
          collector: spec.name,
          q: keys ? undefined : text,
          keys: keys?.test,
          limit,
        });
        if (page.total) groups.push({ collector: spec.name, total: page.total, rows: page.rows });
      }
      return c.json({ q: text, pattern: keys?.kind ?? null, groups });
    },
  }));

  routes.push(route({
    method: "get",
    path: "/changes",
    summary: "Changes, newest first: filters, text search, a page of rows",
    query: z.strictObject({
      ...changeFilters,
      q: searchText.meta({
        description:
          "text in the changed item's key (3+ characters: its words); with * or ? a glob over keys " +
          "(/etc/**/*.conf); re: and a regex found in the key (linear-time subset)",
      }),
      group: flag("group", "0: a run's mass change listed change by change (1, the default: as one row)"),
      offset: whole.optional(),
      limit: whole.optional().meta({ description: `rows (default 100, at most ${q.MAX_LIMIT})` }),
    }),
    answers: { 200: { description: "a page of changes", schema: S.ChangePage } },
    example: {
      query: { since: "24h", type: sample.name, limit: "1" },
      answer: {
        total: 1,
        capped: false,
        offset: 0,
        rows: [S.changeExample(sample.name)],
        timestamps: { n: 0, capped: false },
        grouped: { runs: 0, changes: 0 },
      },
    },
    handle: async (c, { query }) => {
      const keys = keyPattern(query.q, os);
      // A pattern walks the keys (no index answers it); other text searches the keys' words.
      const filters = { ...await filtersOf(query), keys: keys?.test };
      const text = keys ? undefined : query.q;
      // A run's mass change is one row (not in a search, which lists what matches).
      const runs = query.group === false || query.q?.trim()
        ? []
        : await folded(JSON.stringify({ ...filters, quiet: filters.quiet && { sets: filters.quiet.sets } }));
      const page = await q.changes(db, {
        ...filters,
        folded: runs,
        q: text,
        offset: query.offset,
        limit: query.limit,
      });
      const groups = new Map(runs.map((r) => [r.rep, r]));
      for (const row of page.rows) {
        const group = groups.get(row.id);
        if (group) row.group = group;
      }
      const sets = await readable(page.rows);
      // How many timestamp-only changes the same filters fold away (or, shown, hold).
      const only = { ...filters, quiet: { sets, only: true }, folded: undefined };
      const hidden = query.q?.trim() || filters.reviewed !== undefined
        ? await q.countCapped(db, only, text)
        : { n: await q.countChanges(db, only), capped: false };
      // The changes the folded rows stand for, so the count line says how many changes there are, not rows.
      const grouped = { runs: runs.length, changes: runs.reduce((n, r) => n + r.n, 0) };
      return c.json({ ...page, timestamps: hidden, grouped });
    },
  }));

  routes.push(route({
    method: "get",
    path: "/export/changes",
    summary: "Every change the change list shows (its filters; q: text in the key) as CSV or NDJSON",
    query: z.strictObject({
      ...changeFilters,
      q: searchText.meta({
        description: "text in the changed item's key; a glob or re: regex as in /changes",
      }),
      format: exportFormat,
    }),
    answers: { 200: exported },
    example: { query: { since: "7d", format: "ndjson" } },
    handle: async (c, { query }) => {
      const text = query.q?.trim();
      const keys = keyPattern(text, os); // a pattern that cannot be read is refused before the download starts
      const filters = await filtersOf(query);
      download(c, "changes", query.format);
      return c.body(
        exportChanges(
          db,
          keys ? { ...filters, keys: keys.test } : { ...filters, keyLike: text || undefined },
          query.format,
        ),
      );
    },
  }));

  routes.push(route({
    method: "get",
    path: "/histogram",
    summary: "Changes counted per time bucket, collector and category (the overview's chart)",
    query: z.strictObject({
      ...changeFilters,
      bucket: whole.optional().meta({
        description: `bucket width in ms (default: by the range; at most ${MAX_BUCKETS} buckets)`,
      }),
    }),
    answers: { 200: { description: "the counts", schema: S.Histogram } },
    example: {
      query: { since: "24h" },
      answer: {
        since: 1764489600000,
        until: 1764576000000,
        bucket: 3600000,
        points: [{ t: 1764547200000, collector: sample.name, category: "Modified", n: 3 }],
      },
    },
    handle: async (c, { query }) => {
      const f = await filtersOf(query);
      const until = f.until ?? now();
      const since = f.since ?? until - RANGES["24h"];
      const bucket = query.bucket ?? defaultBucket(until - since);
      if ((until - since) / Math.max(bucket, 1000) > MAX_BUCKETS) {
        throw new RangeError(
          `bucket ${bucket} ms makes more than ${MAX_BUCKETS} buckets of that range: choose a wider one`,
        );
      }
      return c.json(await q.histogram(db, { ...f, since, until, bucket }));
    },
  }));

  routes.push(route({
    method: "get",
    path: "/compare",
    summary:
      "The net change between two moments: each item changed between them, its state at `from` and at `to`",
    description: "An item added and removed again, or modified and put back (volatile and timestamp fields " +
      "aside), is no change; `changes` says how many changes an item went through between them.",
    query: z.strictObject({
      from: time("the first moment (required): epoch ms, ISO 8601, or 1h, 24h, 7d, 30d back from now"),
      to: time("the second moment (default now)"),
      type: changeFilters.type,
      category: listOf(q.CATEGORIES, "only these net categories: Added, Removed, Modified"),
      q: searchText.meta({ description: "text in the item's key" }),
      offset: whole.optional(),
      limit: whole.optional().meta({ description: `rows (default 100, at most ${q.MAX_LIMIT})` }),
    }),
    answers: { 200: { description: "the net changes, keys in order per collector", schema: S.Comparison } },
    example: {
      query: { from: "24h", type: sample.name, limit: "1" },
      answer: {
        from: 1764489600000,
        to: 1764576000000,
        counts: { Modified: 1 },
        events: 2,
        total: 1,
        offset: 0,
        rows: [{ ...S.changeExample(sample.name), changes: 2, first_at: 1764540000000 }],
      },
    },
    handle: async (c, { query }) => {
      const from = query.from, to = query.to ?? now();
      if (from === undefined) throw new RangeError("from is required (epoch ms, ISO 8601, or 24h …)");
      if (from >= to) throw new RangeError(`from (${new Date(from).toISOString()}) must be before to`);
      const text = query.q?.trim();
      const result = await compare(db, specs, {
        from,
        to,
        collectors: query.type,
        categories: query.category,
        keyLike: text || undefined,
        offset: query.offset,
        limit: query.limit,
      });
      // A file's content from T1 to T2 said by its lines, as a change is.
      await lines.add(result.rows);
      return c.json(result);
    },
  }));

  routes.push(route({
    method: "get",
    path: "/item",
    summary: "One item: its fields now, its changes, the captured versions of its content that may be shown",
    query: z.strictObject({
      collector: z.enum(names as [string, ...string[]], {
        error: (i) => `collector must be one of ${names.join(", ")}, got ${JSON.stringify(i.input ?? "")}`,
      }),
      key: z.string({ error: "key is required" }).meta({ description: "the item's key (a file: its path)" }),
    }),
    answers: { 200: { description: "the item and its history", schema: S.ItemHistory } },
    example: {
      query: { collector: sample.name, key: "/etc/app.conf" },
      answer: {
        item: S.itemExample(sample.name, sample.nameField, !!sample.content),
        history: [S.changeExample(sample.name)],
        contents: [S.SUM_EXAMPLE],
        withheld: {},
        notCaptured: null,
        firstSeen: { at: 1764489600000, exact: true },
      },
    },
    handle: async (c, { query: { collector, key } }) => {
      const field = specs.find((s) => s.name === collector)?.content || undefined;
      const h = await q.itemHistory(db, collector, key, { checksumField: field?.checksumField });
      await readable(h.history);
      const why = field && field.notCapturedField ? h.item?.data[field.notCapturedField] : undefined;
      const notCaptured = typeof why === "string" ? why : null;
      if (!field || !h.contents.length) return c.json({ ...h, withheld: {}, notCaptured });
      // Captured versions the page may not show are left out, with why.
      const versions = [h.item?.data, ...h.history.flatMap((x) => [x.previous, x.current])];
      const withheld: Record<string, string> = {};
      const contents = h.contents.filter((sum) => {
        const mine = versions.filter((v) => String(v?.[field.checksumField] ?? "").toLowerCase() === sum);
        const why = gate.withheld(key, mine as Record<string, unknown>[]);
        if (why) withheld[sum] = why;
        return !why;
      });
      return c.json({ ...h, contents, withheld, notCaptured });
    },
  }));

  routes.push(route({
    method: "get",
    path: "/config",
    summary: "The DCR in force and the rejected ones (newest first), with their problems",
    answers: { 200: { description: "the DCRs", schema: S.Configs } },
    example: {
      answer: {
        current: {
          id: 1,
          source: "file",
          origin: "/etc/ctagent/dcr.json",
          received_at: 1764489600000,
          raw: '{"enableFiles":true}',
          valid: true,
          errors: [],
          normalized: { settings: { enableFiles: true } },
        },
        rejected: [],
        live: { source: "file", origin: "/etc/ctagent/dcr.json", warnings: [] },
      },
    },
    handle: async (c) => {
      const live: AgentStatus = (await opts.status?.()) ?? {};
      return c.json({ ...(await q.configs(db)), live: live.config ?? null });
    },
  }));

  routes.push(route({
    method: "get",
    path: "/runs",
    summary: "Each collector's last runs, newest first",
    query: z.strictObject({
      limit: whole.optional().meta({ description: "runs per collector (default 10)" }),
    }),
    answers: { 200: { description: "runs by collector", schema: z.record(z.string(), z.array(S.RunRow)) } },
    example: { query: { limit: "1" }, answer: { [sample.name]: [S.runExample(sample.name)] } },
    handle: async (c, { query }) => c.json(await recentRuns(db, query.limit ?? 10)),
  }));

  const fileKey = z.string({ error: "key is required: the path of the file whose content this is" })
    .meta({ description: "the file whose version this content was" });
  routes.push(route({
    method: "get",
    path: "/content/:checksum",
    summary: "A captured content, as a version of one file (only if that file's content may be shown)",
    params: z.strictObject({ checksum: hex64("checksum") }),
    query: z.strictObject({ key: fileKey }),
    answers: {
      200: { description: "the content", schema: S.Content },
      403: {
        description: "content not shown (the file was not readable by every user)",
        schema: S.ErrorAnswer,
      },
      404: { description: "not a version of that file, or not captured", schema: S.ErrorAnswer },
    },
    example: {
      params: { checksum: S.SUM_EXAMPLE },
      query: { key: "/etc/app.conf" },
      answer: { checksum: S.SUM_EXAMPLE, text: "port = 8080\n", size: 12, captured_at: 1764489600000 },
    },
    handle: async (c, { params: { checksum }, query: { key } }) => {
      const r = await shown(key, checksum);
      return r.row ? c.json({ checksum, ...r.row }) : c.json({ error: r.error }, r.status);
    },
  }));

  routes.push(route({
    method: "get",
    path: "/diff",
    summary: "The line diff between two captured versions of one file",
    query: z.strictObject({ from: hex64("from"), to: hex64("to"), key: fileKey }),
    answers: {
      200: { description: "the diff", schema: S.Diff },
      403: { description: "content not shown", schema: S.ErrorAnswer },
      404: { description: "not versions of that file, or not captured", schema: S.ErrorAnswer },
    },
    example: {
      query: { from: S.SUM_EXAMPLE, to: S.SUM_EXAMPLE.replace(/^8/, "9"), key: "/etc/app.conf" },
      answer: {
        from: S.SUM_EXAMPLE,
        to: S.SUM_EXAMPLE.replace(/^8/, "9"),
        hunks: [{
          aStart: 1,
          aLen: 1,
          bStart: 1,
          bLen: 1,
          lines: [{ op: "-", text: "port = 8080", a: 1 }, { op: "+", text: "port = 8081", b: 1 }],
        }],
        added: 1,
        removed: 1,
        approximate: false,
      },
    },
    handle: async (c, { query: { from, to, key } }) => {
      const [a, b] = [await shown(key, from), await shown(key, to)];
      if (!a.row) return c.json({ error: a.error }, a.status);
      if (!b.row) return c.json({ error: b.error }, b.status);
      return c.json({ from, to, ...diffLines(a.row.text, b.row.text) });
    },
  }));

  routes.push(route({
    method: "post",
    path: "/acks",
    summary: "Acknowledge changes (a list of ids) or a whole run, with the reviewer's name and a note",
    description: "Each acknowledgement is a link of the history's hash chain; never sent to AMA.",
    body: z.strictObject({
      changeIds: z.array(int.positive()).min(1).max(q.MAX_LIMIT).optional(),
      run: int.positive().optional().meta({ description: "a run id: every change of that run" }),
      reviewer: z.string().max(MAX_REVIEWER),
      note: z.string().max(MAX_NOTE).optional(),
    }).refine((b) => (b.changeIds === undefined) !== (b.run === undefined), {
      error: "an acknowledgement names changeIds (a list) or a run (its id), exactly one of them",
    }),
    answers: {
      200: { description: "the acknowledgements written", schema: z.strictObject({ acks: z.array(S.Ack) }) },
      503: { description: "this agent writes no acknowledgements (read-only page)", schema: S.ErrorAnswer },
    },
    example: {
      body: { changeIds: [42], reviewer: "ana", note: "planned upgrade" },
      answer: {
        acks: [{
          id: 7,
          seq: 1043,
          hash: "5f1d3c0a9b8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a392817065f4e",
          at: 1764576000000,
          changeId: 42,
          group: null,
          reviewer: "ana",
          note: "planned upgrade",
        }],
      },
    },
    handle: async (c, { body }) => {
      if (!opts.acknowledge) return c.json({ error: "acknowledging is not available in this mode" }, 503);
      const { changeIds, run, reviewer, note } = body;
      const acks = [];
      if (run !== undefined) {
        const known = await db.selectFrom("runs").where("id", "=", run).select("id").executeTakeFirst();
        if (!known) throw new RangeError(`run ${run} does not exist (or was pruned)`);
        acks.push(await opts.acknowledge({ reviewer, note, group: `run:${run}` }));
      } else {
        for (const id of changeIds!) acks.push(await opts.acknowledge({ reviewer, note, changeId: id }));
      }
      opts.log?.info("changes acknowledged from the page", {
        reviewer,
        changes: run === undefined ? changeIds!.length : `run ${run}`,
      });
      return c.json({ acks });
    },
  }));

  routes.push(route({
    method: "post",
    path: "/scan",
    summary: "Run one collector (or all) now; answers when the runs are stored, or 202 while they go on",
    body: z.strictObject({
      collector: z.enum(names as [string, ...string[]], {
        error: (i) => `collector must be one of ${names.join(", ")}, got ${JSON.stringify(i.input)}`,
      }).optional().meta({ description: "absent: every collector" }),
    }),
    bodyOptional: true,
    answers: {
      200: { description: "the runs are stored; failed lists the ones that failed", schema: S.Scan },
      202: { description: "the runs still go on", schema: S.Scan },
      503: { description: "no scheduler here (read-only page)", schema: S.ErrorAnswer },
    },
    example: { body: { collector: sample.name }, answer: { collector: sample.name, done: true, failed: [] } },
    handle: async (c, { body: { collector } }) => {
      if (!opts.scheduler) return c.json({ error: "scanning is not available in this mode" }, 503);
      opts.log?.info("scan requested from the page", { collector: collector ?? "all" });
      const before = (await db.selectFrom("runs").select(sql<number | null>`max(id)`.as("id"))
        .executeTakeFirstOrThrow()).id ?? 0;
      const run = Promise.resolve(opts.scheduler.scanNow(collector));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waited = await Promise.race([
        run.then(() => "done" as const, (e: unknown) => e instanceof Error ? e : new Error(String(e))),
        new Promise<"pending">((r) => timer = setTimeout(() => r("pending"), opts.scanWaitMs ?? 60_000)),
      ]).finally(() => clearTimeout(timer));
      if (waited === "pending") {
        run.catch((e) => opts.log?.warn("scan from the page failed", { error: e }));
        return c.json({ collector: collector ?? null, done: false }, 202);
      }
      if (waited instanceof Error) {
        // The scheduler says RangeError for a collector that is off or unknown: the request was wrong.
        const code = waited instanceof RangeError ? 400 : 500;
        return c.json({ collector: collector ?? null, done: true, error: waited.message }, code);
      }
      // The runs the scan stored: a collector that failed is said, not "finished".
      const failed = await db.selectFrom("runs").where("id", ">", before)
        .where("status", "in", ["failed", "aborted"]).select(["collector", "error"]).orderBy("id").execute();
      return c.json({ collector: collector ?? null, done: true, failed });
    },
  }));

  let document: Record<string, unknown> | undefined;
  routes.push(route({
    method: "get",
    path: "/openapi.json",
    summary:
      "This document: the API described in OpenAPI 3.1, made from the schemas each request is checked with",
    answers: {
      200: {
        description: "the OpenAPI document",
        schema: z.looseObject({
          openapi: z.literal("3.1.0"),
          info: z.looseObject({}),
          paths: z.looseObject({}),
        }),
      },
    },
    example: {
      answer: { openapi: "3.1.0", info: { title: "ctagent local page API", version: "0.1.0" }, paths: {} },
    },
    handle: (c) =>
      c.json(
        document ??= openApiDocument(routes, {
          version: VERSION,
          auth: opts.auth ?? "token",
          cookieName: opts.cookieName?.(),
        }),
      ),
  }));

  const app = new Hono();
  app.onError((err, c) => {
    if (err instanceof RangeError || err instanceof TypeError) return c.json({ error: err.message }, 400);
    opts.log?.error("ui api error", { path: c.req.path, error: err });
    return c.json({ error: "internal error" }, 500);
  });
  mount(app, routes);
  app.all("*", (c) => {
    // Each collector shown here has routes of its own: another name is a wrong parameter, as it always was.
    const other = /^(?:\/api)?\/(?:export\/)?inventory\/([^/]+)$/.exec(c.req.path)?.[1];
    if (other !== undefined && c.req.method === "GET") {
      throw new RangeError(`Unknown collector ${JSON.stringify(other)}: expected one of ${names.join(", ")}`);
    }
    return c.json({ error: `no such API route: ${c.req.method} ${c.req.path}` }, 404);
  });
  return app;
}

/** Chart buckets: minutes for an hour, hours for a day, 6 hours for a week, days beyond. */
export function defaultBucket(span: number): number {
  if (span <= 3 * 3600_000) return 5 * 60_000;
  if (span <= 2 * 86400_000) return 3600_000;
  if (span <= 8 * 86400_000) return 6 * 3600_000;
  return 86400_000;
}
