// The page's JSON API: status, inventory, changes, item history, DCRs, file contents and diffs, scan now.
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
import { changeFeed, type Feed } from "./events.ts";
import { parseRule } from "../agent/collectors/files/match.ts";
import type { Platform } from "../agent/platform.ts";
import type { Ack, AckInput } from "../db/acks.ts";
import { exportChanges, type ExportFormat, exportInventory } from "./export.ts";

/** What the agent's scheduler offers the page: run one collector (or all) now. */
export interface Scheduler {
  /** Resolves when the run(s) finished; the page waits up to `scanWaitMs` for it. */
  scanNow(collector?: string): Promise<unknown> | unknown;
}

/** Live facts only the running agent knows; every field is optional (the page shows what it gets). */
export type { RealtimeStatus };

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

function list(v: string | undefined, allowed?: readonly string[]): string[] | undefined {
  if (!v) return undefined;
  const out = v.split(",").map((s) => s.trim()).filter(Boolean);
  for (const s of out) {
    if (allowed && !allowed.includes(s)) {
      throw new RangeError(`Unknown value ${JSON.stringify(s)}: expected one of ${allowed.join(", ")}`);
    }
  }
  return out;
}

function int(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === "") return undefined;
  if (!/^\d+$/.test(v)) {
    throw new RangeError(`Cannot parse ${name} ${JSON.stringify(v)}: expected a whole number`);
  }
  return Number(v);
}

const CHECKSUM = /^[0-9a-fA-F]{64}$/;

/** A request's query parameters, each one of `allowed` (anything else is a 400 naming it and the allowed ones). */
function params(c: Context, allowed: readonly string[]): (name: string) => string | undefined {
  const url = new URL(c.req.url);
  for (const name of new Set(url.searchParams.keys())) {
    if (allowed.includes(name) || allowed.some((a) => a.endsWith(".*") && name.startsWith(a.slice(0, -1)))) {
      continue;
    }
    throw new RangeError(
      `Unknown parameter ${JSON.stringify(name)} for ${c.req.path}: expected ${
        allowed.length ? `one of ${allowed.join(", ")}` : "none"
      }`,
    );
  }
  return (name) => url.searchParams.get(name) ?? undefined;
}

const CHANGE_PARAMS = ["since", "until", "type", "category", "reviewed"];
/** The longest text search: longer ones cost a scan for nothing anyone types. */
const MAX_SEARCH = 256;
/** The most chart buckets one histogram may ask for. */
const MAX_BUCKETS = 10_000;

function searchText(v: string | undefined): string | undefined {
  if (v !== undefined && v.length > MAX_SEARCH) {
    throw new RangeError(`q: at most ${MAX_SEARCH} characters, got ${v.length}`);
  }
  return v;
}

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
  /** Captured content, when it was a version of the item `key` and may be shown. */
  const shown = async (key: string | undefined, sum: string) => {
    if (!key) throw new RangeError("key is required: the path of the file whose content this is");
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

  /**
   * What the top status counts besides runs: DCRs rejected after the one in force (the agent runs on an older
   * one), and fileInfo entries of the DCR in force that match nothing here (their path does not exist).
   */
  const problems = async (current: q.ConfigRow | null) => {
    const rejected = await db.selectFrom("config").where("valid", "=", 0)
      .where("received_at", ">", current?.received_at ?? 0).select(sql<number>`count(*)`.as("n"))
      .executeTakeFirstOrThrow();
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
  const app = new Hono();

  app.onError((err, c) => {
    if (err instanceof RangeError || err instanceof TypeError) return c.json({ error: err.message }, 400);
    opts.log?.error("ui api error", { path: c.req.path, error: err });
    return c.json({ error: "internal error" }, 500);
  });

  app.get("/status", async (c) => {
    params(c, []);
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
  });

  app.get("/events", (c) => {
    params(c, []);
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
      await stream.writeSSE({ event: "hello", data: "{}" });
      await Promise.race([done, feed.closed]);
      off();
    });
  });

  let itemCounts: { version: string; counts: q.Counts } | undefined;
  app.get("/counts", async (c) => {
    const since = parseTime(params(c, ["since"])("since") ?? "24h", now())!;
    const version = await q.dataVersion(db);
    if (itemCounts?.version !== version) itemCounts = { version, counts: await q.itemCounts(db, names) };
    const counts = await q.withChanged(db, itemCounts.counts, since);
    const reviewed = await q.reviewedCounts(db, since);
    for (const [name, n] of Object.entries(counts)) n.unreviewed = (n.changes ?? 0) - (reviewed[name] ?? 0);
    return c.json(counts);
  });

  app.get("/inventory/:collector", async (c) => {
    const collector = c.req.param("collector");
    list(collector, names);
    const spec = specs.find((s) => s.name === collector)!;
    const filterable = spec.filterable ?? [];
    const query = params(c, [
      "q",
      "sort",
      "dir",
      "offset",
      "limit",
      "errors",
      ...filterable.map((f) => `filter.${f}`),
    ]);
    const dir = query("dir");
    if (dir && dir !== "asc" && dir !== "desc") {
      throw new RangeError(`dir must be asc or desc, got ${JSON.stringify(dir)}`);
    }
    // Sorting costs an order kept per field: only the fields the collector's spec offers.
    const sort = query("sort") || undefined;
    const sorts = sortFieldsOf(spec);
    if (sort !== undefined && !sorts.includes(sort)) {
      throw new RangeError(
        `Cannot sort ${collector} by ${JSON.stringify(sort)}: expected one of ${sorts.join(", ")}`,
      );
    }
    const errors = query("errors");
    if (errors !== undefined && errors !== "0" && errors !== "1") {
      throw new RangeError(`errors must be 0 or 1, got ${JSON.stringify(errors)}`);
    }
    const where: Record<string, string> = {};
    for (const f of filterable) {
      const v = query(`filter.${f}`);
      if (v !== undefined) where[f] = v;
    }
    return c.json(
      await index.query({
        collector,
        q: searchText(query("q")),
        sort,
        dir: dir as "asc" | "desc" | undefined,
        offset: int(query("offset"), "offset"),
        limit: int(query("limit"), "limit"),
        errors: errors === "1",
        where,
      }),
    );
  });

  const changeFilters = (query: (k: string) => string | undefined) => {
    const reviewed = query("reviewed");
    if (reviewed !== undefined && reviewed !== "0" && reviewed !== "1") {
      throw new RangeError(`reviewed must be 0 or 1, got ${JSON.stringify(reviewed)}`);
    }
    return {
      since: parseTime(query("since"), now()),
      until: parseTime(query("until"), now()),
      collectors: list(query("type"), names),
      categories: list(query("category"), q.CATEGORIES),
      reviewed: reviewed === undefined ? undefined : reviewed === "1",
    };
  };

  app.get("/changes", async (c) => {
    const query = params(c, [...CHANGE_PARAMS, "q", "offset", "limit"]);
    return c.json(
      await q.changes(db, {
        ...changeFilters(query),
        q: searchText(query("q")),
        offset: int(query("offset"), "offset"),
        limit: int(query("limit"), "limit"),
      }),
    );
  });

  /** The format of an export, and the headers of its download. */
  const download = (c: Context, what: string, format: string | undefined) => {
    if (format !== "csv" && format !== "ndjson") {
      throw new RangeError(`format must be csv or ndjson, got ${JSON.stringify(format)}`);
    }
    const stamp = new Date(now()).toISOString().slice(0, 19).replaceAll(":", "");
    c.header("Content-Type", format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson");
    c.header("Content-Disposition", `attachment; filename="ctagent-${what}-${stamp}.${format}"`);
    return format as ExportFormat;
  };

  app.get("/export/changes", (c) => {
    const query = params(c, [...CHANGE_PARAMS, "q", "format"]);
    const format = download(c, "changes", query("format"));
    const text = searchText(query("q"))?.trim();
    return c.body(exportChanges(db, { ...changeFilters(query), keyLike: text || undefined }, format));
  });

  app.get("/export/inventory/:collector", (c) => {
    const collector = c.req.param("collector");
    list(collector, names);
    const spec = specs.find((s) => s.name === collector)!;
    const filterable = spec.filterable ?? [];
    const query = params(c, ["q", "errors", "format", ...filterable.map((f) => `filter.${f}`)]);
    const format = download(c, collector, query("format"));
    const needle = searchText(query("q"))?.trim().toLowerCase();
    const errors = query("errors") === "1";
    const where = filterable.flatMap((f) =>
      query(`filter.${f}`) === undefined ? [] : [[f, query(`filter.${f}`)!]]
    );
    // The same rows the view lists: its text search over the key and field values, its filters.
    const keep = (i: { key: string; data: Record<string, unknown>; error: string | null }) =>
      (!errors || i.error !== null) &&
      where.every(([f, v]) => String(i.data[f] ?? "") === v) &&
      (!needle || i.key.toLowerCase().includes(needle) ||
        Object.values(i.data).some((v) => v !== null && String(v).toLowerCase().includes(needle)));
    return c.body(exportInventory(db, collector, spec.columns.map((x) => x.field), format, keep));
  });

  app.get("/histogram", async (c) => {
    const query = params(c, [...CHANGE_PARAMS, "bucket"]);
    const f = changeFilters(query);
    const until = f.until ?? now();
    const since = f.since ?? until - RANGES["24h"];
    const bucket = int(query("bucket"), "bucket") ?? defaultBucket(until - since);
    if ((until - since) / Math.max(bucket, 1000) > MAX_BUCKETS) {
      throw new RangeError(
        `bucket ${bucket} ms makes more than ${MAX_BUCKETS} buckets of that range: choose a wider one`,
      );
    }
    return c.json(await q.histogram(db, { ...f, since, until, bucket }));
  });

  app.get("/item", async (c) => {
    const query = params(c, ["collector", "key"]);
    const collector = query("collector") ?? "";
    const key = query("key");
    list(collector || "?", names);
    if (!key) throw new RangeError("key is required");
    const field = specs.find((s) => s.name === collector)?.content || undefined;
    const h = await q.itemHistory(db, collector, key, { checksumField: field?.checksumField });
    if (!field || !h.contents.length) return c.json({ ...h, withheld: {} });
    // Captured versions the page may not show are left out, with why.
    const versions = [h.item?.data, ...h.history.flatMap((x) => [x.previous, x.current])];
    const withheld: Record<string, string> = {};
    const contents = h.contents.filter((sum) => {
      const mine = versions.filter((v) => String(v?.[field.checksumField] ?? "").toLowerCase() === sum);
      const why = gate.withheld(key, mine as Record<string, unknown>[]);
      if (why) withheld[sum] = why;
      return !why;
    });
    return c.json({ ...h, contents, withheld });
  });

  app.get("/config", async (c) => {
    params(c, []);
    const live: AgentStatus = (await opts.status?.()) ?? {};
    return c.json({ ...(await q.configs(db)), live: live.config ?? null });
  });

  app.get(
    "/runs",
    async (c) => c.json(await recentRuns(db, int(params(c, ["limit"])("limit"), "limit") ?? 10)),
  );

  app.get("/content/:checksum", async (c) => {
    const sum = c.req.param("checksum");
    if (!CHECKSUM.test(sum)) throw new RangeError("checksum must be 64 hex digits");
    const r = await shown(params(c, ["key"])("key"), sum.toLowerCase());
    return r.row ? c.json({ checksum: sum.toLowerCase(), ...r.row }) : c.json({ error: r.error }, r.status);
  });

  app.get("/diff", async (c) => {
    const query = params(c, ["from", "to", "key"]);
    const from = query("from") ?? "", to = query("to") ?? "";
    if (!CHECKSUM.test(from) || !CHECKSUM.test(to)) throw new RangeError("from and to must be 64 hex digits");
    const key = query("key");
    const [a, b] = [await shown(key, from.toLowerCase()), await shown(key, to.toLowerCase())];
    if (!a.row) return c.json({ error: a.error }, a.status);
    if (!b.row) return c.json({ error: b.error }, b.status);
    return c.json({ from, to, ...diffLines(a.row.text, b.row.text) });
  });

  app.post("/acks", async (c) => {
    params(c, []);
    if (!opts.acknowledge) return c.json({ error: "acknowledging is not available in this mode" }, 503);
    const body = await c.req.json().catch(() => null) as Record<string, unknown> | null;
    if (!body || typeof body !== "object") throw new TypeError("expected a JSON object");
    const unknown = Object.keys(body).filter((k) => !["changeIds", "run", "reviewer", "note"].includes(k));
    if (unknown.length) {
      throw new RangeError(`Unknown field ${unknown.join(", ")}: expected changeIds or run, reviewer, note`);
    }
    const { changeIds, run, reviewer, note } = body;
    if ((changeIds === undefined) === (run === undefined)) {
      throw new TypeError(
        "an acknowledgement names changeIds (a list) or a run (its id), exactly one of them",
      );
    }
    if (note !== undefined && typeof note !== "string") throw new TypeError("note: expected text");
    const base = { reviewer: reviewer as string, note: note as string | undefined };
    const acks = [];
    if (run !== undefined) {
      if (!Number.isSafeInteger(run) || (run as number) <= 0) {
        throw new TypeError(`run: expected a run id, got ${JSON.stringify(run)}`);
      }
      const known = await db.selectFrom("runs").where("id", "=", run as number).select("id")
        .executeTakeFirst();
      if (!known) throw new RangeError(`run ${run} does not exist (or was pruned)`);
      acks.push(await opts.acknowledge({ ...base, group: `run:${run}` }));
    } else {
      if (!Array.isArray(changeIds) || !changeIds.length || changeIds.length > q.MAX_LIMIT) {
        throw new TypeError(`changeIds: expected 1 to ${q.MAX_LIMIT} change ids`);
      }
      for (const id of changeIds) acks.push(await opts.acknowledge({ ...base, changeId: id as number }));
    }
    opts.log?.info("changes acknowledged from the page", {
      reviewer: base.reviewer,
      changes: run === undefined ? (changeIds as number[]).length : `run ${run}`,
    });
    return c.json({ acks });
  });

  app.post("/scan", async (c) => {
    if (!opts.scheduler) return c.json({ error: "scanning is not available in this mode" }, 503);
    const body = await c.req.json().catch(() => ({})) as { collector?: unknown };
    const collector = typeof body.collector === "string" && body.collector ? body.collector : undefined;
    if (collector) list(collector, names);
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
    const failed = await db.selectFrom("runs").where("id", ">", before).where("status", "in", [
      "failed",
      "aborted",
    ])
      .select(["collector", "error"]).orderBy("id").execute();
    return c.json({ collector: collector ?? null, done: true, failed });
  });

  app.all("*", (c) => c.json({ error: `no such API route: ${c.req.method} ${c.req.path}` }, 404));
  return app;
}

/** Chart buckets: minutes for an hour, hours for a day, 6 hours for a week, days beyond. */
export function defaultBucket(span: number): number {
  if (span <= 3 * 3600_000) return 5 * 60_000;
  if (span <= 2 * 86400_000) return 3600_000;
  if (span <= 8 * 86400_000) return 6 * 3600_000;
  return 86400_000;
}
