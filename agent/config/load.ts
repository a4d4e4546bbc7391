// Config sources in the order of SPEC §7.3 (file, AMA, last good, built-in); every DCR seen is stored.
import { createHash } from "node:crypto";
import { open, stat } from "node:fs/promises";
import type { Platform } from "../platform.ts";
import type { Logger } from "../log.ts";
import type { Db } from "../../db/open.ts";
import { getState, setState } from "../../db/state.ts";
import type { Problem, Settings } from "./dcr.ts";
import { chooseEntry, type DcrEntry, parseDcrDocument } from "./document.ts";
import { defaultExtensionSettings } from "./defaults.ts";
import { MAX_DCR_BYTES } from "./json.ts";

export type ConfigSource = "file" | "ama" | "last-good" | "default";

/** The configuration the agent runs with. */
export interface ConfigInForce {
  source: ConfigSource;
  /** Where it came from: the file path, the AMA endpoint, "built-in". */
  origin: string;
  /** The CT configuration id (DCR data source or AMA `dcr-…:CTDataSource-…`). */
  id: string;
  settings: Settings;
  outputStreams: DcrEntry["outputStreams"];
  namedPipes: Record<string, string>;
  warnings: string[];
  /** Row id in the config table (0 for the built-in default). */
  configId: number;
  receivedAt: number;
}

/** ctagent's own settings (command line, --config file) that add to whichever DCR is in force. */
export interface LocalSettings {
  /** `--capture-restricted PATH`: added to fileSettings.captureRestrictedPaths. */
  captureRestrictedPaths?: readonly string[];
}

/** `config` with ctagent's own settings added: what the collectors and the page go by. */
export function withLocalSettings(config: ConfigInForce, local: LocalSettings = {}): ConfigInForce {
  const paths = local.captureRestrictedPaths ?? [];
  if (!paths.length) return config;
  const fs = config.settings.fileSettings;
  return {
    ...config,
    settings: {
      ...config.settings,
      fileSettings: { ...fs, captureRestrictedPaths: [...(fs.captureRestrictedPaths ?? []), ...paths] },
    },
  };
}

export interface Accepted {
  config?: ConfigInForce;
  problems: Problem[];
  warnings: string[];
}

/** The built-in default DCR of `os` (Microsoft's defaults). */
export function builtInConfig(os: Platform): ConfigInForce {
  const { entry } = chooseEntry(parseDcrDocument(defaultExtensionSettings(os), os), os);
  return {
    source: "default",
    origin: "built-in",
    id: `built-in:CTDataSource-${os === "linux" ? "Linux" : "Windows"}`,
    settings: entry!.settings!,
    outputStreams: {},
    namedPipes: {},
    warnings: [],
    configId: 0,
    receivedAt: 0,
  };
}

/** Distinct DCRs kept in the config table besides the ones in force (the page lists this history). */
export const CONFIG_HISTORY = 20;

/**
 * Validates a DCR text and stores it with its result in the config table, once per distinct content and
 * origin: what was read from it (the settings and streams, or the problems), not the text, whose envelope
 * changes with every AMA poll (a new RequestId). Seeing it again only moves `received_at`. Returns the
 * configuration when it is valid for `os`.
 */
export async function acceptDcr(
  db: Db,
  opts: { source: "file" | "ama"; origin: string; raw: string; os: Platform; now?: number },
): Promise<Accepted> {
  const now = opts.now ?? Date.now();
  const doc = parseDcrDocument(opts.raw, opts.os);
  const { entry, problems, warnings } = chooseEntry(doc, opts.os);

  const normalized = entry
    ? JSON.stringify({
      os: opts.os,
      id: entry.id,
      settings: entry.settings,
      outputStreams: entry.outputStreams,
      namedPipes: entry.namedPipes,
      warnings,
    })
    : null;
  const content = normalized ?? JSON.stringify({ os: opts.os, form: doc.form ?? null, problems, warnings });
  const hash = createHash("sha256").update(content).digest("hex");
  const seen = await db.selectFrom("config").select("id").where("source", "=", opts.source)
    .where("origin", "=", opts.origin).where("hash", "=", hash).orderBy("id", "desc").limit(1)
    .executeTakeFirst();
  let configId: number;
  if (seen) {
    await db.updateTable("config").set({ received_at: now }).where("id", "=", seen.id).execute();
    configId = seen.id;
  } else {
    const row = await db.insertInto("config").values({
      source: opts.source,
      origin: opts.origin,
      received_at: now,
      raw: opts.raw,
      hash,
      valid: entry ? 1 : 0,
      errors: JSON.stringify(problems),
      normalized,
    }).returning("id").executeTakeFirstOrThrow();
    configId = row.id;
    await pruneConfigs(db);
  }
  if (!entry) return { problems, warnings };
  return {
    config: {
      source: opts.source,
      origin: opts.origin,
      id: entry.id,
      settings: entry.settings!,
      outputStreams: entry.outputStreams,
      namedPipes: entry.namedPipes,
      warnings,
      configId,
      receivedAt: now,
    },
    problems: [],
    warnings,
  };
}

/**
 * Bounds the config table: the CONFIG_HISTORY most recently received DCRs stay, and whatever may be in force
 * however old: the one `config.in_force` names and, per OS, the last good one (what lastGoodConfig() takes).
 */
async function pruneConfigs(db: Db): Promise<void> {
  const recent = await db.selectFrom("config").select("id").orderBy("received_at", "desc").orderBy(
    "id",
    "desc",
  )
    .limit(CONFIG_HISTORY).execute();
  const keep = new Set(recent.map((r) => r.id));
  const inForce = await getState(db, "config.in_force");
  if (inForce) keep.add(Number(JSON.parse(inForce).configId));
  const good = await db.selectFrom("config").select(["id", "normalized"]).where("valid", "=", 1)
    .orderBy("received_at", "desc").orderBy("id", "desc").execute();
  const oses = new Set<string>();
  for (const g of good) {
    const os = (JSON.parse(g.normalized!) as { os: string }).os;
    if (!oses.has(os)) keep.add(g.id);
    oses.add(os);
  }
  await db.deleteFrom("config").where("id", "not in", [...keep]).execute();
}

/** The most recently received valid configuration for `os`, from any source. */
export async function lastGoodConfig(db: Db, os: Platform): Promise<ConfigInForce | undefined> {
  const rows = await db.selectFrom("config").selectAll().where("valid", "=", 1).orderBy("received_at", "desc")
    .orderBy("id", "desc").execute();
  for (const r of rows) {
    const n = JSON.parse(r.normalized!) as {
      os: Platform;
      id: string;
      settings: Settings;
      outputStreams: DcrEntry["outputStreams"];
      namedPipes: Record<string, string>;
      warnings: string[];
    };
    if (n.os !== os) continue;
    return {
      source: "last-good",
      origin: `${r.source}:${r.origin}`,
      id: n.id,
      settings: n.settings,
      outputStreams: n.outputStreams,
      namedPipes: n.namedPipes,
      warnings: n.warnings,
      configId: r.id,
      receivedAt: r.received_at,
    };
  }
  return undefined;
}

/** How many rejected (invalid) DCRs were seen. */
export async function rejectedCount(db: Db): Promise<number> {
  const { n } = await db.selectFrom("config").select((eb) => eb.fn.countAll<number>().as("n"))
    .where("valid", "=", 0).executeTakeFirstOrThrow();
  return Number(n);
}

/**
 * Reads a DCR file of at most `maxBytes` (MAX_DCR_BYTES); a read failure or a bigger file is a problem with the
 * path named, not an exception. A pipe (`--dcr /dev/stdin`) is read up to the limit too.
 */
export async function readDcrFile(
  path: string,
  maxBytes = MAX_DCR_BYTES,
): Promise<{ raw?: string; problem?: Problem }> {
  const tooBig = (size: string) => ({
    problem: {
      path: "(file)",
      message:
        `DCR file ${path} is ${size}, more than the ${maxBytes} bytes a DCR may have (a CT DCR is kilobytes)`,
    },
  });
  let file;
  try {
    file = await open(path, "r");
    const st = await file.stat();
    if (st.isDirectory()) throw new Error("it is a directory");
    if (st.size > maxBytes) return tooBig(`${st.size} bytes`);
    // The size stat gave may be 0 (a pipe) or grow meanwhile: read to the end, never past the limit.
    let buf = new Uint8Array(Math.min(maxBytes, st.size || 65536) + 1);
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        if (n > maxBytes) return tooBig("larger");
        const more = new Uint8Array(Math.min(maxBytes + 1, buf.length * 2));
        more.set(buf);
        buf = more;
      }
      const { bytesRead } = await file.read(buf, n, buf.length - n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    return { raw: new TextDecoder().decode(buf.subarray(0, n)) };
  } catch (e) {
    return { problem: { path: "(file)", message: `cannot read DCR file ${path}: ${(e as Error).message}` } };
  } finally {
    await file?.close();
  }
}

/** Asks AMA for the DCR; resolves to the raw reply text. Provided by agent/ama when AMA is in use. */
export type AmaFetch = (signal: AbortSignal) => Promise<{ raw: string; origin: string }>;

export interface ResolveOptions {
  db: Db;
  os: Platform;
  log: Logger;
  dcrFile?: string;
  fetchAma?: AmaFetch;
  signal?: AbortSignal;
}

/** Chooses the configuration to start with: --dcr file, AMA, last good, built-in (SPEC §7.3). Never fails. */
export async function resolveConfig(
  opts: ResolveOptions,
): Promise<{ config: ConfigInForce; rejected: Problem[] }> {
  const { db, os, log } = opts;
  let rejected: Problem[] = [];
  const note = (c: ConfigInForce) =>
    setState(db, "config.in_force", JSON.stringify({ ...c, settings: undefined }));
  if (opts.dcrFile) {
    const { raw, problem } = await readDcrFile(opts.dcrFile);
    if (raw !== undefined) {
      const acc = await acceptDcr(db, { source: "file", origin: opts.dcrFile, raw, os });
      if (acc.config) {
        await note(acc.config);
        return { config: acc.config, rejected };
      }
      rejected = acc.problems;
    } else rejected = [problem!];
    log.error(`DCR file ${opts.dcrFile} rejected; falling back`, {
      problems: rejected.map((p) => `${p.path}: ${p.message}`),
    });
  } else if (opts.fetchAma) {
    try {
      const { raw, origin } = await opts.fetchAma(opts.signal ?? new AbortController().signal);
      const acc = await acceptDcr(db, { source: "ama", origin, raw, os });
      if (acc.config) {
        await note(acc.config);
        return { config: acc.config, rejected };
      }
      rejected = acc.problems;
      log.error("DCR from AMA rejected; falling back", {
        problems: rejected.map((p) => `${p.path}: ${p.message}`),
      });
    } catch (e) {
      log.warn("no DCR from AMA; falling back", { error: e });
    }
  }
  const last = await lastGoodConfig(db, os);
  const config = last ?? builtInConfig(os);
  log.info(`using the ${last ? "last good" : "built-in default"} DCR`, {
    id: config.id,
    origin: config.origin,
  });
  await note(config);
  return { config, rejected };
}

export interface WatchOptions extends ResolveOptions {
  current: ConfigInForce;
  onChange(config: ConfigInForce): void;
  /** How often the DCR file's size and mtime are checked. */
  fileIntervalMs?: number;
  /** How often AMA is asked (SPEC §4.2: every 300 s). */
  amaIntervalMs?: number;
}

/**
 * Keeps the configuration current: re-reads the DCR file when it changes, re-asks AMA every 5 minutes.
 * A rejected DCR is logged with every problem and the configuration in force stays. Returns a stop function.
 */
export function watchConfig(opts: WatchOptions): () => void {
  const { db, os, log } = opts;
  let current = opts.current;
  const ac = new AbortController();
  const apply = async (acc: Accepted, what: string) => {
    if (!acc.config) {
      log.error(`${what} rejected; keeping DCR ${current.id}`, {
        problems: acc.problems.map((p) => `${p.path}: ${p.message}`),
      });
      return;
    }
    if (acc.config.configId === current.configId && current.source !== "last-good") return;
    if (
      JSON.stringify(acc.config.settings) === JSON.stringify(current.settings) && acc.config.id === current.id
    ) {
      current = acc.config;
      return;
    }
    current = acc.config;
    for (const w of acc.warnings) log.warn(w);
    log.info("DCR changed", { id: current.id, source: current.source, origin: current.origin });
    await setState(db, "config.in_force", JSON.stringify({ ...current, settings: undefined }));
    opts.onChange(current);
  };
  const timers: ReturnType<typeof setInterval>[] = [];
  if (opts.dcrFile) {
    const file = opts.dcrFile;
    let seen = "";
    const check = async () => {
      let st;
      try {
        st = await stat(file);
        const sig = `${st.size}:${st.mtimeMs}`;
        if (sig === seen) return;
        seen = sig;
      } catch (e) {
        if (seen !== "missing") {
          log.error(`cannot read DCR file ${file}; keeping DCR ${current.id}`, { error: e });
        }
        seen = "missing";
        return;
      }
      if (!st.isFile()) {
        // A FIFO put in its place would hold the read until someone writes to it.
        return void log.error(`DCR file ${file} is no longer a regular file; keeping DCR ${current.id}`);
      }
      const { raw, problem } = await readDcrFile(file);
      if (raw === undefined) return void log.error(problem!.message);
      await apply(await acceptDcr(db, { source: "file", origin: file, raw, os }), `DCR file ${file}`);
    };
    const checked = () => void check().catch((e) => log.error("DCR file check failed", { error: e }));
    timers.push(setInterval(checked, opts.fileIntervalMs ?? 2000));
    checked();
  } else if (opts.fetchAma) {
    const fetchAma = opts.fetchAma;
    const poll = async () => {
      try {
        const { raw, origin } = await fetchAma(ac.signal);
        await apply(await acceptDcr(db, { source: "ama", origin, raw, os }), "DCR from AMA");
      } catch (e) {
        if (!ac.signal.aborted) log.warn(`no DCR from AMA; keeping DCR ${current.id}`, { error: e });
      }
    };
    timers.push(setInterval(() => void poll(), opts.amaIntervalMs ?? 300_000));
  }
  return () => {
    ac.abort();
    for (const t of timers) clearInterval(t);
  };
}
