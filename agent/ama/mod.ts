// ctagent's side of AMA in one place: the config fetcher for the loader and the delivery loop started with the agent.
import type { Platform } from "../platform.ts";
import type { AmaFetch, ConfigInForce } from "../config/load.ts";
import type { Logger } from "../log.ts";
import type { DatabaseSync } from "node:sqlite";
import type { Db } from "../../db/open.ts";
import { CONFIG_ENDPOINTS, requestAmaConfig } from "./config_client.ts";
import { amaRoutes, createSender, forwardRoutes, type Routes, type Sender } from "./sender.ts";
import { parseEndpoint } from "./transport.ts";
import { outboxDepth } from "../../db/outbox.ts";
import type { RecordFields } from "../pipeline/records.ts";

/** How ctagent talks to AMA or a forward receiver (from flags). */
export interface AmaOptions {
  os: Platform;
  /** `--forward URL`: send every stream to this forward receiver (fluentd, fluent-bit, Vector), with acks. */
  forward?: string;
  /** `--forward-fields`: what the forward receiver gets of each record (default "full"; AMA always "la"). */
  forwardFields?: RecordFields;
  /** `--ama-config ENDPOINT`: where to ask AMA for the DCR (default: SPEC §4.1 per OS). */
  configEndpoints?: readonly string[];
  /** `--ama-data ENDPOINT`: where to send records to AMA (default: the CT data socket / pipes). */
  dataEndpoint?: string;
  /** `--no-ama`: neither ask AMA for config nor send to it (a --forward endpoint still gets records). */
  noAma?: boolean;
  /** Deadline of one config request (default 10 s). */
  configTimeoutMs?: number;
}

/** Checks endpoint flags early, so a typo is a usage error rather than a log line an hour later. */
export function checkAmaOptions(o: AmaOptions): string | undefined {
  const check = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    try {
      parseEndpoint(v);
    } catch (e) {
      return `${flag}: ${(e as Error).message}`;
    }
  };
  return check("--forward", o.forward) ?? check("--ama-data", o.dataEndpoint) ??
    (o.configEndpoints ?? []).map((e) => check("--ama-config", e)).find((m) => m);
}

/** The loader's AMA source (SPEC §7.3), or undefined with --no-ama. */
export function amaFetch(o: AmaOptions, log?: Logger): AmaFetch | undefined {
  if (o.noAma) return undefined;
  const endpoints = o.configEndpoints?.length ? o.configEndpoints : CONFIG_ENDPOINTS[o.os];
  return async (signal) => {
    const reply = await requestAmaConfig({ os: o.os, endpoints, log, timeoutMs: o.configTimeoutMs, signal });
    return { raw: reply.text, origin: reply.endpoint };
  };
}

/**
 * What the outbox keeps of each record for where records go: everything for a full forward endpoint, the
 * Log Analytics columns only for AMA (or a forward endpoint given "la").
 */
export function recordFields(o: AmaOptions): RecordFields {
  return o.forward && (o.forwardFields ?? "full") === "full" ? "full" : "la";
}

/** Where each stream goes under the configuration in force. */
export function routesFor(config: ConfigInForce, o: AmaOptions): Routes {
  if (o.forward) return forwardRoutes(o.forward, config.outputStreams, o.forwardFields ?? "full");
  if (o.noAma) return {};
  return amaRoutes({
    os: o.os,
    outputStreams: config.outputStreams,
    namedPipes: config.namedPipes,
    dataEndpoint: o.dataEndpoint,
  });
}

export interface Delivery {
  sender: Sender;
  /** Call after a run: wakes the sender (new records may be in the outbox). */
  notify(): void;
  stop(): Promise<void>;
}

/**
 * Starts delivering the outbox in the background (at least once, SPEC §7.11). The routes follow the
 * configuration in force.
 */
export function startDelivery(opts: {
  db: Db;
  raw: DatabaseSync;
  log: Logger;
  config: () => ConfigInForce;
  ama: AmaOptions;
}): Delivery {
  const sender = createDelivery(opts);
  const ac = new AbortController();
  const running = sender.run(ac.signal);
  return {
    sender,
    notify: () => sender.notify(),
    async stop() {
      ac.abort();
      // Closing first ends a write or an ack wait in flight at once (a stalled peer would hold them for their
      // whole deadline); what they carried stays in the outbox.
      sender.close();
      await running;
    },
  };
}

/** A sender for the configuration in force (not started: `--once` drains it). */
export function createDelivery(
  opts: { db: Db; raw: DatabaseSync; log: Logger; config: () => ConfigInForce; ama: AmaOptions },
) {
  return createSender({
    db: opts.db,
    raw: opts.raw,
    log: opts.log,
    routes: () => routesFor(opts.config(), opts.ama),
    ack: !!opts.ama.forward,
    peer: opts.ama.forward ? "forward receiver" : "AMA",
  });
}

/**
 * `--once` delivery (SPEC §7.14): what the run produced goes out when the endpoint is there, waiting at most
 * `timeoutMs`; an endpoint that is not there is not waited for. Returns a warning for stderr, or undefined.
 */
export async function deliverOnce(opts: {
  db: Db;
  raw: DatabaseSync;
  log: Logger;
  config: ConfigInForce;
  ama: AmaOptions;
  timeoutMs: number;
  /** Stops delivering (the process is stopping); what is not delivered stays in the outbox. */
  signal?: AbortSignal;
}): Promise<{ delivered: number; left: number; warning?: string }> {
  if (opts.ama.noAma && !opts.ama.forward) {
    // Nowhere to send: the records wait in the outbox (a later run with an endpoint delivers them).
    return { delivered: 0, left: await outboxDepth(opts.db) };
  }
  // The one summary warning below says it all for a script; the link's own "not there" lines go to debug.
  const quiet: Logger = { ...opts.log, info: opts.log.debug, warn: opts.log.debug, child: () => quiet };
  const sender = createDelivery({ ...opts, log: quiet, config: () => opts.config });
  try {
    const r = await sender.drain(opts.timeoutMs, { giveUpUnreachable: true, signal: opts.signal });
    const where = opts.ama.forward ?? "AMA";
    return {
      ...r,
      warning: r.left
        ? `${r.left} record(s) not delivered to ${where} (${
          r.error ?? "unknown reason"
        }); they stay in the outbox for the next run or the daemon`
        : undefined,
    };
  } finally {
    sender.close();
  }
}
