// Delivers the outbox at least once: batches per stream in id order, rows deleted only once the peer has them.
import type { Platform } from "../platform.ts";
import { AMA_STREAMS, type AmaStream, OWN_STREAMS } from "../streams.ts";
import type { Logger } from "../log.ts";
import type { DatabaseSync } from "node:sqlite";
import type { Db } from "../../db/open.ts";
import { outboxReader, type OutboxRow as Row } from "../../db/outbox.ts";
import type { RecordFields } from "../pipeline/records.ts";
import { ackScanner, encodeForwardJson, eventTimeFromMs, newChunkId, type Time } from "./codec.ts";
import {
  type Backoff,
  type Connection,
  createLink,
  type Link,
  type LinkOptions,
  parseEndpoint,
  sleep,
  TransportError,
} from "./transport.ts";

/** Where one logical stream goes: the forward tag, the endpoint, and what of each record it takes. */
export interface Route {
  tag: string;
  endpoint: string;
  /**
   * "la": only the Log Analytics columns (what AMA takes, SPEC §7.15); "full": the whole record. Default "la".
   */
  fields?: RecordFields;
}
export type Routes = Partial<Record<string, Route>>;

/** The CT data socket on Linux (SPEC §4.1): one per extension name. */
export const LINUX_DATA_ENDPOINT = "@CAgentStream_CloudAgentInfo_ChangeTracking-Linux_default_fluent.socket";

/** The tag used when AMA named no output stream (SPEC §7.9). */
export const fallbackTag = (stream: string) => `ctagent:${stream}`;

/**
 * Routes to AMA for the configuration in force. Tags are AMA's output stream ids. On Windows each stream has
 * its own pipe, `\\.\pipe\` + `outputStreamDefinitions[id].namedPipe` (as Container Insights opens it); on
 * Linux every stream goes to the extension's data socket.
 */
export function amaRoutes(opts: {
  os: Platform;
  outputStreams?: Partial<Record<AmaStream, string>>;
  namedPipes?: Record<string, string>;
  /** Overrides the data endpoint (all streams). */
  dataEndpoint?: string;
}): Routes {
  const routes: Routes = {};
  for (const stream of AMA_STREAMS) {
    const tag = opts.outputStreams?.[stream] ?? fallbackTag(stream);
    let endpoint = opts.dataEndpoint;
    if (!endpoint && opts.os === "windows") {
      const pipe = opts.namedPipes?.[tag];
      endpoint = pipe
        ? (/^(\\\\|\/\/)/.test(pipe) ? pipe : `\\\\.\\pipe\\${pipe}`)
        : `\\\\.\\pipe\\CAgentStream_ChangeTracking-Windows_${tag}_AzureMonitorAgent`;
    }
    routes[stream] = { tag, endpoint: endpoint ?? LINUX_DATA_ENDPOINT };
  }
  return routes;
}

/**
 * Routes for a generic forward receiver (`--forward URL`): every stream to one endpoint, ctagent's own streams
 * (collectors AMA does not take) too, with the full records unless `fields` says "la" (`--forward-fields`).
 */
export function forwardRoutes(
  url: string,
  outputStreams: Partial<Record<AmaStream, string>> = {},
  fields: RecordFields = "full",
): Routes {
  parseEndpoint(url); // fail early on a bad URL
  return {
    ...Object.fromEntries(
      AMA_STREAMS.map((s) => [s, { tag: outputStreams[s] ?? fallbackTag(s), endpoint: url, fields }]),
    ),
    ...Object.fromEntries(OWN_STREAMS.map((s) => [s, { tag: fallbackTag(s), endpoint: url, fields }])),
  };
}

/**
 * The record a route takes of an outbox row, or undefined when nothing of it is for that route: the table part
 * ("la"), or both parts ("full"). The parts share no key but FieldsChanged (see RecordParts), so they join as
 * text unless extra has its own FieldsChanged (a change of fields beyond the table's columns): then parsed.
 */
export function routedRecord(
  row: { record: string; extra: string | null },
  fields: RecordFields,
): string | undefined {
  if (fields === "la" || row.extra === null) return row.record || undefined;
  if (!row.record) return row.extra;
  if (row.extra === "{}") return row.record;
  if (row.extra.includes('"FieldsChanged":')) {
    return JSON.stringify({ ...JSON.parse(row.record), ...JSON.parse(row.extra) });
  }
  return `${row.record.slice(0, -1)},${row.extra.slice(1)}`;
}

export interface SenderOptions {
  db: Db;
  /** The same connection as node:sqlite, for the hot reads and deletes (used under Kysely's lock). */
  raw: DatabaseSync;
  /** The routes in force; asked before every pass (the configuration may change). */
  routes: () => Routes;
  log: Logger;
  /** Ask for an ack per batch (`chunk` option) and delete only when it arrives. AMA does not ack. */
  ack?: boolean;
  /** Time on the wire: integer seconds (what AMA's own clients send) or EventTime (nanoseconds). */
  time?: "int" | "eventtime";
  /** Most records in one forward message. */
  batchRecords?: number;
  /** Most bytes of record JSON in one message (AMA caps a msgpack str at 10 MiB). */
  batchBytes?: number;
  ackTimeoutMs?: number;
  writeTimeoutMs?: number;
  /** How long a peer without acks may take to close its end after ours (default DEFAULT_CONFIRM_TIMEOUT_MS). */
  confirmTimeoutMs?: number;
  connectTimeoutMs?: number;
  backoff?: Backoff;
  /** How long to sleep when the outbox is empty and nobody called notify(). */
  idleMs?: number;
  /** What is at the other end, for the log. */
  peer?: string;
  connectFn?: LinkOptions["connectFn"];
  now?: () => number;
}

export interface SenderStats {
  delivered: number;
  batches: number;
  failures: number;
  lastError?: string;
  lastDeliveredAt?: number;
  /** The endpoint last written to, and whether that write went through (unknown until something was sent). */
  endpoint?: string;
  reachable?: boolean;
}

export interface Sender {
  /** Delivers until `signal` aborts; never throws. */
  run(signal: AbortSignal): Promise<void>;
  /** Wakes the loop: new rows are in the outbox. */
  notify(): void;
  /**
   * Delivers what is in the outbox now, waiting at most `timeoutMs` for the endpoint (for `--once`, SPEC §7.14).
   * With `giveUpUnreachable`, a pass that fails without delivering anything ends it (nobody is there: do not
   * wait). Returns how many records left and how many are still there.
   */
  drain(
    timeoutMs: number,
    opts?: { giveUpUnreachable?: boolean; signal?: AbortSignal },
  ): Promise<{ delivered: number; left: number; error?: string }>;
  /** One pass over every stream: delivers what it can, returns records delivered. Throws nothing. */
  pass(signal?: AbortSignal): Promise<number>;
  stats(): SenderStats;
  close(): void;
}

export const DEFAULT_BATCH_RECORDS = 1000;
export const DEFAULT_BATCH_BYTES = 4 * 1024 * 1024;
/** How long a peer without acks may take to close its end after ours (see Connection.finish). */
export const DEFAULT_CONFIRM_TIMEOUT_MS = 10_000;
/**
 * Most bytes written to a peer without acks before it must confirm them by closing (then the sender reconnects),
 * where the OS does not bound what it holds unread (TCP): what a failure there sends again.
 */
const UNCONFIRMED_BYTES = 8 * 1024 * 1024;

export function createSender(opts: SenderOptions): Sender {
  const log = opts.log.child({ component: "sender" });
  const batchRecords = opts.batchRecords ?? DEFAULT_BATCH_RECORDS;
  const batchBytes = opts.batchBytes ?? DEFAULT_BATCH_BYTES;
  const ackTimeoutMs = opts.ackTimeoutMs ?? 30_000;
  const timeMode = opts.time ?? (opts.ack ? "eventtime" : "int");
  const now = opts.now ?? Date.now;
  const links = new Map<string, Link>();
  const scanners = new WeakMap<Connection, ReturnType<typeof ackScanner>>();
  const warnedJunk = new WeakSet<Connection>();
  const unrouted = new Set<string>();
  const stats: SenderStats = { delivered: 0, batches: 0, failures: 0 };
  let wake: (() => void) | undefined;
  let closed = false;

  const linkFor = (endpoint: string): Link => {
    let link = links.get(endpoint);
    if (!link) {
      link = createLink({
        endpoint: parseEndpoint(endpoint),
        log,
        peer: opts.peer ?? (opts.ack ? "forward receiver" : "AMA"),
        connectTimeoutMs: opts.connectTimeoutMs,
        backoff: opts.backoff,
        connectFn: opts.connectFn,
      });
      links.set(endpoint, link);
    }
    return link;
  };

  const scannerOf = (conn: Connection) => {
    let scanner = scanners.get(conn);
    if (!scanner) scanners.set(conn, scanner = ackScanner());
    return scanner;
  };

  /**
   * Waits for the ack of `chunk`. The peer's bytes are searched for acks, so garbage around them (bytes that are
   * no msgpack, values that are no ack) neither hides an ack nor fails the connection; an ack for another chunk
   * (one sent before a reconnect) is no ack for this one.
   */
  async function awaitAck(conn: Connection, chunk: string): Promise<void> {
    const scanner = scannerOf(conn);
    const deadline = performance.now() + ackTimeoutMs;
    try {
      while (true) {
        let bytes: Uint8Array | null;
        try {
          bytes = await conn.read(Math.max(1, deadline - performance.now()));
        } catch (e) {
          if (!(e instanceof TransportError && e.code === "ETIMEDOUT")) throw e;
          throw new TransportError(
            `No ack from ${conn.endpoint.label} within ${ackTimeoutMs} ms`,
            "ETIMEDOUT",
          );
        }
        if (bytes === null) {
          throw new TransportError(`${conn.endpoint.label} closed the connection before acking`, "ECLOSED");
        }
        if (scanner.push(bytes).includes(chunk)) return;
      }
    } finally {
      if (scanner.ignored() && !warnedJunk.has(conn)) {
        warnedJunk.add(conn);
        log.warn("the forward receiver sends bytes that are no ack; ignored (acks among them still count)", {
          endpoint: conn.endpoint.label,
        });
      }
    }
  }

  const outbox = outboxReader(opts.db, opts.raw);

  async function nextBatch(stream: string, afterId: number): Promise<Row[]> {
    const rows = await outbox.batch(stream, afterId, batchRecords);
    let bytes = 0;
    for (let i = 0; i < rows.length; i++) {
      bytes += rows[i].record.length + (rows[i].extra?.length ?? 0);
      if (bytes > batchBytes && i > 0) return rows.slice(0, i);
    }
    return rows;
  }

  /** The forward message of a batch and how many records it holds (none: nothing of it is for this route). */
  function encodeBatch(
    route: Route,
    rows: Row[],
    option?: { chunk: string },
  ): { bytes?: Uint8Array; n: number } {
    const entries: (readonly [Time, string])[] = [];
    for (const r of rows) {
      const json = routedRecord(r, route.fields ?? "la");
      if (json === undefined) continue;
      entries.push([
        timeMode === "int" ? Math.floor(r.created_at / 1000) : eventTimeFromMs(r.created_at),
        json,
      ]);
    }
    return {
      bytes: entries.length ? encodeForwardJson(route.tag, entries, option) : undefined,
      n: entries.length,
    };
  }

  /**
   * Deletes the rows of a delivered batch (a range of one stream: ids are in order) and counts the `sent` ones
   * (the others had nothing for the route).
   */
  async function commit(stream: string, rows: Row[], sent: number): Promise<void> {
    await outbox.acknowledge(stream, rows[0].id, rows[rows.length - 1].id, sent, now());
    if (!sent) return;
    stats.delivered += sent;
    stats.batches++;
    stats.lastDeliveredAt = now();
  }

  /**
   * Sends one stream's rows in order until it is empty, the endpoint fails, or `signal` aborts. With acks a batch
   * leaves the outbox when its ack arrives. Without (AMA), a completed write only means the OS took the bytes: a
   * batch leaves once the peer has provably read it, when as many bytes followed it as the OS can hold unread
   * (Connection.unreadBound), or when the peer, told there is no more, closes its end (Connection.finish) at the
   * end of the stream or every UNCONFIRMED_BYTES. The next batch is read and encoded while one is written.
   */
  async function sendStream(stream: string, route: Route, signal?: AbortSignal): Promise<number> {
    const link = linkFor(route.endpoint);
    let sent = 0;
    let afterId = 0;
    /** Batches written but not yet known to be read, oldest first; `end`: `written` after them. */
    const unconfirmed: { rows: Row[]; n: number; end: number }[] = [];
    let inflight: { done: Promise<void>; rows: Row[]; n: number; conn: Connection } | undefined;
    let current: Row[] | undefined;
    const confirm = async (upTo: number) => {
      while (unconfirmed.length && unconfirmed[0].end <= upTo) {
        const u = unconfirmed.shift()!;
        await commit(stream, u.rows, u.n);
        sent += u.n;
      }
    };
    const settle = async () => {
      if (!inflight) return;
      const { done, rows, n, conn } = inflight;
      await done;
      inflight = undefined;
      unconfirmed.push({ rows, n, end: conn.written });
      await confirm(conn.written - conn.unreadBound);
    };
    /** The peer closes its end after ours: everything written is read. The next batch reconnects. */
    const finish = async (conn: Connection) => {
      await settle();
      if (!unconfirmed.length) return;
      await conn.finish(opts.confirmTimeoutMs ?? DEFAULT_CONFIRM_TIMEOUT_MS, signal);
      await confirm(Infinity);
    };
    let conn: Connection | undefined;
    try {
      while (!signal?.aborted && !closed) {
        const rows = await nextBatch(stream, afterId);
        if (!rows.length) break;
        current = rows;
        const chunk = opts.ack ? newChunkId() : undefined;
        const { bytes, n } = encodeBatch(route, rows, chunk ? { chunk } : undefined);
        if (!bytes) {
          // Nothing of these rows is for this route: done with them, nothing to wait for.
          await commit(stream, rows, 0);
          afterId = rows[rows.length - 1].id;
          current = undefined;
          continue;
        }
        conn = await link.get(signal); // waits out the backoff; throws on abort
        afterId = rows[rows.length - 1].id;
        if (chunk) {
          await conn.write(bytes, opts.writeTimeoutMs, signal);
          await awaitAck(conn, chunk);
          await commit(stream, rows, n);
          sent += n;
          current = undefined;
          continue;
        }
        const done = conn.write(bytes, opts.writeTimeoutMs, signal);
        done.catch(() => {}); // awaited in settle(); a failure there fails this one too (same socket)
        await settle();
        inflight = { done, rows, n, conn };
        current = undefined;
        const first = unconfirmed[0]?.end ?? conn.written;
        if (conn.written - first > UNCONFIRMED_BYTES) await finish(conn);
      }
      if (conn) await finish(conn);
    } catch (e) {
      // Stopped: what was not confirmed stays in the outbox, sent again next time.
      if (e instanceof TransportError && e.code === "ABORTED") throw e;
      link.fail(e);
      const from = unconfirmed[0]?.rows[0].id ?? inflight?.rows[0].id ?? current?.[0].id;
      // Counted on failure only: on the happy path rows are deleted, and an update costs a rewrite.
      if (from !== undefined && afterId >= from) await outbox.attempted(stream, from, afterId);
      throw e;
    }
    return sent;
  }

  async function pass(signal?: AbortSignal): Promise<number> {
    let total = 0;
    const pending = await outbox.streams();
    if (!pending.length) return 0;
    const routes = opts.routes();
    for (const stream of pending) {
      const route = routes[stream];
      if (!route) {
        if (!unrouted.has(stream)) {
          unrouted.add(stream);
          log.warn("no route for outbox stream; its records wait in the outbox", { stream });
        }
        continue;
      }
      stats.endpoint = route.endpoint;
      try {
        const n = await sendStream(stream, route, signal);
        if (n > 0) stats.reachable = true;
        total += n;
      } catch (e) {
        if (e instanceof TransportError && e.code === "ABORTED") break;
        stats.failures++;
        stats.lastError = (e as Error).message;
        if (e instanceof TransportError) stats.reachable = false;
        if (!(e instanceof TransportError)) log.error("delivery failed", { stream, error: e });
        // Transport failures are logged (rate-limited) by the link; the stream is retried next pass.
      }
    }
    return total;
  }

  const sender: Sender = {
    async run(signal) {
      while (!signal.aborted && !closed) {
        let sent = 0;
        try {
          sent = await pass(signal);
        } catch (e) {
          // A database problem (disk full, locked): say so and try again later; delivery never stops the agent.
          stats.failures++;
          stats.lastError = (e as Error).message;
          log.error("delivery pass failed; retrying", { error: e });
        }
        const anyFailing = [...links.values()].some((l) => l.failures > 0);
        if (sent === 0 || anyFailing) {
          const idle = new Promise<void>((resolve) => wake = resolve);
          await Promise.race([idle, sleep(opts.idleMs ?? 1000, signal)]);
          wake = undefined;
        }
      }
    },
    notify() {
      wake?.();
    },
    async drain(timeoutMs, dopts = {}) {
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = dopts.signal ? AbortSignal.any([timeout, dopts.signal]) : timeout;
      let delivered = 0;
      let error: string | undefined;
      while (true) {
        const before = stats.failures;
        const sent = await pass(signal);
        delivered += sent;
        if (stats.failures > before) error = stats.lastError;
        const left = await outbox.depth();
        if (left === 0) return { delivered, left };
        if (signal.aborted) {
          const why = timeout.aborted ? `not delivered within ${timeoutMs} ms` : "delivery stopped";
          return { delivered, left, error: error ?? why };
        }
        if (dopts.giveUpUnreachable && sent === 0 && stats.failures > before) {
          return { delivered, left, error };
        }
        if (stats.failures === before) {
          // A whole pass without a failure that leaves rows behind: they have no route.
          return { delivered, left, error: `no route for ${[...unrouted].join(", ") || "some streams"}` };
        }
      }
    },
    pass,
    stats: () => ({ ...stats }),
    close() {
      closed = true;
      for (const l of links.values()) l.close();
      links.clear();
      wake?.();
    },
  };
  return sender;
}
