// The agent's side of the page's listener worker (listener_worker.ts): starts it, answers what only this thread
// has ("scan now", acknowledgements through the state's writer, the live status and file settings), starts and
// ends the page's worker for it (page_channel.ts) and stops it.
import type { Logger } from "../agent/log.ts";
import type { Ack, AckInput } from "../db/acks.ts";
import type { AgentStatus } from "./api.ts";
import type { FilePrivacySettings } from "./privacy.ts";
import type { Listen } from "./security.ts";
import type { Failure, FromListener, ListenerInit, ToListener } from "./listener_worker.ts";
import { pageStarter } from "./page_channel.ts";

export interface ListenerOptions {
  init: ListenerInit;
  scheduler?: { scanNow(collector?: string): unknown };
  status?: () => AgentStatus | Promise<AgentStatus>;
  files: () => FilePrivacySettings | undefined;
  acknowledge: (input: AckInput) => Promise<Ack>;
  log?: Logger;
  /** How a failed listener is started again (default RESTART). */
  restart?: Partial<typeof RESTART>;
  /** The listener worker's module, relative to this file (tests: one that can be made to fail). */
  workerUrl?: string;
  /** How long the listener waits for this thread to start a page's worker (page_channel.ts; tests). */
  spawnWaitMs?: number;
  /** How long a listener worker may take to serve before it is taken for failed (default START_WAIT_MS). */
  startWaitMs?: number;
}

export interface Listener {
  /** The bound address (port 0 resolved). */
  listen: Listen;
  /** Whether the page's worker is running or starting (tests). */
  running(): boolean;
  /** How many page workers this thread runs for the listener (tests). */
  pageWorkers(): number;
  /** Closes the socket, stops the page's worker (open streams end) and the listener. */
  stop(): Promise<void>;
}

/** The error the listener met, as this thread would have thrown it (AddrInUse stays AddrInUse). */
function rebuilt(e: Failure): Error {
  const Kind = (Deno.errors as unknown as Record<string, (new (m: string) => Error) | undefined>)[e.name];
  const err = Kind ? new Kind(e.message) : new Error(e.message);
  if (!Kind) err.name = e.name;
  return err;
}

const plain = (e: unknown): Failure =>
  e instanceof Error ? { name: e.name, message: e.message } : { name: "Error", message: String(e) };

/**
 * How long a listener worker may take from its start to serving. It loads a few small modules and binds a socket
 * (milliseconds; seconds only when `deno test` type-checks it on a busy machine); one that never says it serves
 * would keep the daemon from its first collections, which start once the page is up (agent/cli/daemon.ts).
 */
export const START_WAIT_MS = 60_000;

/** The first wait before a failed listener is started again, doubled after each failure up to `max`. */
export const RESTART = { firstMs: 1000, maxMs: 5 * 60_000, resetAfterMs: 60_000 };

export async function startListener(o: ListenerOptions): Promise<Listener> {
  const restart = { ...RESTART, ...o.restart };
  const startWaitMs = o.startWaitMs ?? START_WAIT_MS;
  /** The wait of a listener's start (`within`), cleared at stop. */
  let startTimer: ReturnType<typeof setTimeout> | undefined;
  /** `listening`, or an error naming `listen` once startWaitMs passed without it. */
  const within = (listening: Promise<Listen>, listen: Listen): Promise<Listen> => {
    const late = new Promise<never>((_, reject) => {
      startTimer = setTimeout(() => {
        const where = `${listen.hostname}:${listen.port}`;
        reject(new Error(`the page's listener on ${where} did not start within ${startWaitMs} ms`));
      }, startWaitMs);
    });
    const timer = startTimer;
    return Promise.race([listening, late]).finally(() => clearTimeout(timer));
  };
  let running = false;
  let stopping = false;
  let stopped: (() => void) | undefined;
  /** The listener worker now, and whether it is serving (it said "listening"). */
  let current: { worker: Worker; up: boolean; since: number };
  /** The page workers this thread runs for the listeners (page_channel.ts). */
  const pages = pageStarter(o.spawnWaitMs);
  let retry: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;

  /** A listener worker started on `listen`; `listening` settles once it serves, or could not. */
  const spawn = (listen: Listen) => {
    // The literal `new URL("./…_worker.ts", import.meta.url)` is what build/bundle.ts embeds in the bundle.
    const url = o.workerUrl
      ? new URL(o.workerUrl, import.meta.url)
      : new URL("./listener_worker.ts", import.meta.url);
    const worker = new Worker(url.href, { type: "module" });
    const me = { worker, up: false, since: 0 };
    const send = (m: ToListener) => worker.postMessage(m);
    const listening = new Promise<Listen>((resolve, reject) => {
      worker.onerror = (e) => {
        e.preventDefault();
        o.log?.error("the page's listener failed", { error: e.message });
        reject(new Error(`the page's listener failed: ${e.message}`));
        running = false;
        stopped?.();
        // Once it served, it is started again; before, whoever waits for `listening` decides.
        if (me.up && me === current) again(me);
      };
      worker.onmessage = (e: MessageEvent<FromListener>) => {
        const m = e.data;
        if (m.type === "listening") {
          me.up = true;
          me.since = performance.now();
          resolve(m.listen);
        } else if (m.type === "failed") reject(rebuilt(m.error));
        else if (m.type === "running") running = m.running;
        else if (m.type === "log") o.log?.[m.level](m.msg, m.fields);
        else if (m.type === "live") {
          Promise.resolve(o.status?.()).then(
            (status) => send({ type: "live", id: m.id, live: { status, files: o.files() } }),
            (err) => {
              o.log?.warn("cannot hand the live status to the page", { error: err });
              send({ type: "live", id: m.id, live: { files: o.files() } });
            },
          );
        } else if (m.type === "scan") {
          Promise.resolve(o.scheduler?.scanNow(m.collector)).then(
            () => send({ type: "scanned", id: m.id }),
            (err) => send({ type: "scanned", id: m.id, error: plain(err) }),
          );
        } else if (m.type === "ack") {
          o.acknowledge(m.input).then(
            (ack) => send({ type: "acked", id: m.id, ack }),
            (err) => send({ type: "acked", id: m.id, error: plain(err) }),
          );
        } else if (m.type === "page-start" || m.type === "page-end") pages.handle(me, m, send);
        else if (m.type === "stopped") stopped?.();
      };
    });
    send({ type: "init", init: { ...o.init, listen, spawnWaitMs: o.spawnWaitMs } });
    return { me, listening };
  };

  /**
   * The listener `dead` failed: a new one is started on the same address after a wait that doubles with each
   * failure in a row (up to `maxMs`; a listener that served `resetAfterMs` starts the count again), so the page
   * comes back without the agent's restart, and a listener that cannot start never spins.
   */
  const again = (dead: typeof current) => {
    dead.worker.terminate();
    pages.endAll(dead);
    dead.up = false;
    if (stopping) return;
    if (dead.since && performance.now() - dead.since >= restart.resetAfterMs) failures = 0;
    const wait = Math.min(restart.firstMs * 2 ** failures++, restart.maxMs);
    const where = `${listen.hostname}:${listen.port}`;
    o.log?.warn("the page's listener starts again", { in_ms: wait, listen: where });
    retry = setTimeout(() => {
      retry = undefined;
      const next = spawn(listen);
      current = next.me;
      within(next.listening, listen).then(
        () => o.log?.info("the page's listener is back", { listen: where }),
        (e) => {
          if (stopping || next.me !== current) return;
          o.log?.error("the page's listener could not start again", { error: e });
          again(next.me);
        },
      );
    }, wait);
  };

  const first = spawn(o.init.listen);
  current = first.me;
  let listen: Listen;
  try {
    listen = await within(first.listening, o.init.listen);
  } catch (e) {
    first.me.worker.terminate();
    pages.endAll(first.me);
    throw e;
  }
  return {
    listen,
    running: () => running,
    async stop() {
      stopping = true;
      clearTimeout(retry);
      clearTimeout(startTimer);
      const { worker, up } = current;
      if (up) {
        const done = new Promise<void>((r) => stopped = r);
        worker.postMessage({ type: "stop" } satisfies ToListener);
        // The page's worker gets 1 s to end (worker_page.ts); past 2 s the listener is ended anyway.
        let wait: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([done, new Promise<void>((r) => wait = setTimeout(r, 2000))]);
        clearTimeout(wait);
      }
      worker.terminate();
      pages.endAll();
      running = false;
    },
    pageWorkers: pages.count,
  };
}
