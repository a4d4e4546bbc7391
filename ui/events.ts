// What the page is told as it happens (Server-Sent Events): a run stored, acknowledgements written, the live
// status of the collectors moved. One watcher per page server, whatever the number of open pages, and only
// while one is open: a look at the newest run and ack ids (two index lookups) every WATCH_MS.
import { sql } from "kysely";
import type { Db } from "../db/open.ts";

/** How often the database is looked at while a page listens: a run shows within this much of its commit. */
export const WATCH_MS = 250;
/** A comment line this often keeps proxies and the browser from closing an idle stream. */
const KEEPALIVE_MS = 15_000;

/** A run that was stored (the page refreshes what it shows of its collector). */
export interface RunEvent {
  id: number;
  collector: string;
  status: string;
  finishedAt: number;
  counts: Record<string, number>;
  error: string | null;
}

export type PageEvent =
  | { event: "run"; data: RunEvent }
  | { event: "acks"; data: { id: number } }
  | { event: "status"; data: { digest: string } };

export interface Feed {
  /** Calls `send` with every event from now on until the returned function is called. */
  subscribe(send: (e: PageEvent | { event: "ping" }) => void): () => void;
  /**
   * Resolves once the feed knows where "now" is (the newest run and ack it looked at): whatever was stored
   * before is in what a page reads after this, whatever comes later is sent as an event. The stream says
   * "hello" only then, and the page reads its status at "hello": a run stored while a page's stream was opening
   * was in neither (the realtime browser test's 30 s timeouts in CI).
   */
  primed(): Promise<void>;
  /** How many pages listen. */
  listeners(): number;
  /** Ends every subscription (the server stops). */
  close(): void;
  /** Resolves when close() was called. */
  closed: Promise<void>;
}

export interface FeedOptions {
  /** What of the live status the page shows that moves without a run (running, next run, on/off). */
  liveDigest?: () => string | Promise<string>;
  intervalMs?: number;
}

export function changeFeed(db: Db, opts: FeedOptions = {}): Feed {
  const subs = new Set<(e: PageEvent | { event: "ping" }) => void>();
  let timer: ReturnType<typeof setInterval> | undefined;
  let ping: ReturnType<typeof setInterval> | undefined;
  let last: { run: number; ack: number; live: string } | undefined;
  /** Waiting for `last` (primed()). */
  let waiting: (() => void)[] = [];
  let busy = false;
  let close!: () => void;
  const closed = new Promise<void>((r) => close = r);
  const emit = (e: PageEvent | { event: "ping" }) => {
    for (const s of subs) s(e);
  };

  async function look() {
    if (busy) return;
    busy = true;
    try {
      const r = (await sql<{ run: number | null; ack: number | null }>`select
        (select max(id) from runs) as run, (select max(id) from acks) as ack`.execute(db)).rows[0];
      const now = { run: r.run ?? 0, ack: r.ack ?? 0, live: (await opts.liveDigest?.()) ?? "" };
      if (last) {
        if (now.run > last.run) {
          const runs = await db.selectFrom("runs").where("id", ">", last.run).orderBy("id")
            .select(["id", "collector", "status", "finished_at", "counts", "error"]).execute();
          for (const run of runs) {
            emit({
              event: "run",
              data: {
                id: run.id,
                collector: run.collector,
                status: run.status,
                finishedAt: run.finished_at,
                counts: JSON.parse(run.counts),
                error: run.error,
              },
            });
          }
        }
        if (now.ack > last.ack) emit({ event: "acks", data: { id: now.ack } });
        if (now.live !== last.live) emit({ event: "status", data: { digest: now.live } });
      }
      last = now;
      for (const w of waiting) w();
      waiting = [];
    } catch {
      // A look that failed (the database busy being replaced) is tried again at the next tick.
    } finally {
      busy = false;
    }
  }

  const stop = () => {
    clearInterval(timer);
    clearInterval(ping);
    timer = ping = undefined;
    last = undefined;
  };

  return {
    subscribe(send) {
      subs.add(send);
      if (!timer) {
        void look();
        timer = setInterval(look, opts.intervalMs ?? WATCH_MS);
        ping = setInterval(() => emit({ event: "ping" }), KEEPALIVE_MS);
      }
      return () => {
        subs.delete(send);
        if (!subs.size) stop();
      };
    },
    primed: () => last ? Promise.resolve() : new Promise<void>((r) => waiting.push(r)),
    listeners: () => subs.size,
    close() {
      subs.clear();
      stop();
      close();
    },
    closed,
  };
}
