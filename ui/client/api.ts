// Fetch helpers for the page: JSON in, typed data out; writes carry the per-start token.
// The row shapes are the server's (type-only: nothing of the server is bundled).
import type {
  ChangeRow as ServerChangeRow,
  ConfigRow,
  FoldedRun as Group,
  Histogram,
  ItemRow,
  Page,
  RunRow,
} from "../queries.ts";
import type { LineSummary } from "../diff.ts";
import type { Facet } from "../inventory_index.ts";
export type { Facet };
export type { ConfigRow, Group, Histogram, ItemRow, LineSummary, Page, RunRow };
import type { ChainState } from "../../db/chain.ts";
import type { RealtimeStatus } from "../../agent/pipeline/realtime.ts";
export type { ChainState, RealtimeStatus };

export type Data = Record<string, unknown>;

/** A change as the page reads it: the category narrowed to the three there are. */
export interface ChangeRow extends Omit<ServerChangeRow, "category"> {
  category: "Added" | "Removed" | "Modified";
}

/** A page of changes: with how many timestamp-only changes its filters fold away (or, shown, hold). */
export interface ChangePage extends Page<ChangeRow> {
  timestamps: { n: number; capped: boolean };
  /** The runs folded into one row each, and how many changes they hold (a row each counted in `total`). */
  grouped: { runs: number; changes: number };
}

export interface CollectorStatus {
  name: string;
  enabled: boolean;
  frequency: number | null;
  nextRunAt: number | null;
  running: boolean;
  lastRun: RunRow | null;
  lastError: { at: number; error: string } | null;
  /** Realtime collection of the collector, when it has one (watching, fallen back to scans, …). */
  realtime?: { state: string; detail?: string };
}

export interface Status {
  now: number;
  /** The OS of the machine shown. */
  platform: "linux" | "windows";
  /** The server's IANA time zone. */
  timeZone: string;
  /** DCRs rejected after the one in force; fileInfo entries that match nothing here. */
  problems: { rejectedDcrs: number; missingPaths: { name: string; path: string }[] };
  /** "off": the agent runs with --no-auth. */
  auth: "token" | "off";
  version: string | null;
  hostname: string | null;
  os: string | null;
  startedAt: number | null;
  config: {
    source: string;
    origin: string | null;
    dcrId: string | null;
    receivedAt: number | null;
    warnings: string[];
    rejected: number;
  };
  collectors: CollectorStatus[];
  outbox: {
    depth: number;
    byStream: Record<string, number>;
    endpoint?: string;
    reachable?: boolean;
    lastError?: string | null;
    lastDeliveredAt?: number | null;
    dropped?: number;
    droppedReason?: string | null;
  };
  health: { level: "ok" | "warn" | "error"; text: string };
  /** The history's hash chain: its head and the last verification (null before the first). */
  chain: ChainState;
  /** What realtime follows and how it went; null before a daemon ran. */
  realtime: RealtimeStatus | null;
}

export interface DiffLine {
  op: " " | "-" | "+";
  text: string;
  a?: number;
  b?: number;
}

export interface Diff {
  hunks: { aStart: number; aLen: number; bStart: number; bLen: number; lines: DiffLine[] }[];
  added: number;
  removed: number;
  approximate: boolean;
}

export class ApiError extends Error {
  override name = "ApiError";
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

function token(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="ctagent-token"]')?.content ?? "";
}

export function query(params: Record<string, string | number | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") u.set(k, String(v));
  }
  const s = u.toString();
  return s ? `?${s}` : "";
}

/** The session ended (expired, or the token was rotated): the page itself then shows how to sign in. */
function signedOut(r: Response): void {
  if (r.status === 401) location.replace("/");
}

/**
 * The JSON of an answer. Only a failed answer may have none (its status says what); an answer whose body was cut
 * off (a load aborted by a newer one, a dropped connection) is an error, never data.
 */
async function answer<T>(r: Response): Promise<T> {
  if (r.ok) return await r.json() as T;
  const body = await r.json().catch(() => ({}));
  throw new ApiError(body.error ?? r.statusText, r.status);
}

export async function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  const r = await fetch(`/api/${path}`, { signal, headers: { Accept: "application/json" } });
  signedOut(r);
  return await answer<T>(r);
}

export async function post<T>(path: string, data: unknown): Promise<T> {
  const r = await fetch(`/api/${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CTAgent-Token": token() },
    body: JSON.stringify(data),
  });
  signedOut(r);
  return await answer<T>(r);
}
