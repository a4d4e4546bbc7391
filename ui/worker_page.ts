// The page's worker, started on the first request that carries a credential (the listener refuses those without
// one itself: gate.ts) and stopped after idle minutes (no request, no open stream): while nobody looks at the
// page the daemon keeps no isolate, read connection or index for it. It runs in the listener worker
// (listener_worker.ts), which holds the socket and hands each request over; bodies cross as transferred streams,
// both ways, so an export streams and a browser that leaves an event stream cancels it in the worker.
import type { Logger } from "../agent/log.ts";
import type { Ack, AckInput } from "../db/acks.ts";
import type { AgentStatus } from "./api.ts";
import type { FilePrivacySettings } from "./privacy.ts";
import type { FromWorker, PageWorkerInit, PlainRequest, PlainResponse, ToWorker } from "./page_worker.ts";
import type { PageWorkerHandle } from "./page_channel.ts";

/** How long the page's worker is kept with no request and no open stream. */
export const PAGE_IDLE_MS = 5 * 60_000;

/** How often the agent's live status and file settings are handed to the running worker. */
const LIVE_MS = 1000;

export interface WorkerPageOptions {
  /** page_worker.ts's address, from the agent's thread (in the bundle: a blob: URL the bundler made there). */
  workerUrl: string;
  /**
   * Starts a page's worker (default: a worker of this thread). The listener worker has the agent's thread start
   * it (page_channel.ts says why).
   */
  spawn?: (url: string) => PageWorkerHandle;
  /** What each worker starts with. */
  init: PageWorkerInit;
  scheduler?: { scanNow(collector?: string): unknown };
  status?: () => AgentStatus | Promise<AgentStatus>;
  files: () => FilePrivacySettings | undefined;
  acknowledge: (input: AckInput) => Promise<Ack>;
  log?: Logger;
  /** Default PAGE_IDLE_MS. */
  idleMs?: number;
  /** Told each time the worker starts or stops being there (the listener tells the agent's thread). */
  onRunning?: (running: boolean) => void;
  /**
   * Called each time a worker is ready. The listener gives the C heap's free memory back to the OS then: started
   * from a blob: URL (the bundle's way), the page's 1.5 MB worker leaves ~26 MB freed that malloc keeps otherwise.
   */
  onReady?: () => void;
  /**
   * Called each time a worker has stopped (idle, lost or at stop()), once it was ended. The listener gives back
   * then what the page's work left: the C heap's free memory and the executable's pages it mapped (the bundle,
   * ~10 s after the page's worker stopped: 105.7-111.3 MB without, 75.8-80.3 MB with).
   */
  onStopped?: () => void;
}

export interface WorkerPage {
  /** Answers a request (starting the worker if it is not running). */
  fetch(request: Request, remoteAddr: Deno.NetAddr): Promise<Response>;
  /** Whether a worker is running or starting (tests). */
  running(): boolean;
  /** Stops the worker (open streams end) and answers no more. */
  stop(): Promise<void>;
}

interface Started {
  request(r: PlainRequest): Promise<PlainResponse>;
  stop(): Promise<void>;
}

export function workerPage(o: WorkerPageOptions): WorkerPage {
  const idleMs = o.idleMs ?? PAGE_IDLE_MS;
  let current: Promise<Started> | undefined;
  let stopping: Promise<void> = Promise.resolve();
  let active = 0;
  let idle: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  /** Ends each open response stream (at stop: a worker ended past its grace leaves its streams hanging). */
  const open = new Set<() => void>();

  const retire = (): Promise<void> => {
    clearTimeout(idle);
    idle = undefined;
    const w = current;
    current = undefined;
    if (w) {
      o.onRunning?.(false);
      stopping = w.then((s) => s.stop(), () => undefined).then(() => o.onStopped?.());
    }
    return stopping;
  };
  const arm = () => {
    clearTimeout(idle);
    idle = active === 0 && current && !closed ? setTimeout(retire, idleMs) : undefined;
  };
  const worker = (): Promise<Started> => {
    if (current) return current;
    const starting: Promise<Started> = stopping.then(() =>
      startWorker({ ...o, lost: () => current === starting && retire() })
    );
    starting.catch(() => {
      if (current !== starting) return;
      current = undefined;
      o.onRunning?.(false);
    });
    current = starting;
    o.onRunning?.(true);
    return starting;
  };

  /** The worker's answer, counted as open until it is read to its end or cancelled. */
  const tracked = (body: ReadableStream<Uint8Array>, end: () => void) => {
    const reader = body.getReader();
    let ctl!: ReadableStreamDefaultController<Uint8Array>;
    const finish = () => {
      open.delete(abort);
      end();
    };
    const quietly = (f: () => void) => {
      try {
        f();
      } catch { /* already closed */ }
    };
    const abort = () => {
      finish();
      reader.cancel().catch(() => {});
      quietly(() => ctl.close());
    };
    open.add(abort);
    return new ReadableStream<Uint8Array>({
      start: (c) => void (ctl = c),
      async pull(c) {
        try {
          const r = await reader.read();
          if (r.done) {
            finish();
            quietly(() => c.close());
          } else c.enqueue(r.value);
        } catch (e) {
          finish();
          quietly(() => c.error(e));
        }
      },
      cancel(reason) {
        finish();
        return reader.cancel(reason);
      },
    }, { highWaterMark: 0 });
  };

  return {
    async fetch(req, remoteAddr) {
      if (closed) return new Response("the page is stopping\n", { status: 503 });
      active++;
      clearTimeout(idle);
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        active--;
        arm();
      };
      try {
        const w = await worker();
        const res = await w.request({
          method: req.method,
          url: req.url,
          headers: [...req.headers],
          body: req.body,
          remoteAddr: {
            transport: remoteAddr.transport,
            hostname: remoteAddr.hostname,
            port: remoteAddr.port,
          },
        });
        const init = { status: res.status, statusText: res.statusText, headers: res.headers };
        if (!res.body) {
          end();
          return new Response(null, init);
        }
        return new Response(tracked(res.body, end), init);
      } catch (e) {
        end();
        o.log?.error("the page's worker could not answer", { error: e, path: new URL(req.url).pathname });
        return new Response("the page could not answer: see the agent's log\n", { status: 500 });
      }
    },
    running: () => current !== undefined,
    async stop() {
      closed = true;
      await retire();
      for (const abort of [...open]) abort();
    },
  };
}

/**
 * Starts a page worker and serves it what it cannot have itself: "scan now", acknowledgements, the live
 * status and the file settings in force (handed over every LIVE_MS: the last ones this thread has, so a busy
 * agent thread delays none of it).
 */
async function startWorker(
  o: WorkerPageOptions & { init: PageWorkerInit; lost: () => void },
): Promise<Started> {
  const worker = o.spawn?.(o.workerUrl) ?? new Worker(o.workerUrl, { type: "module" });
  const send = (m: ToWorker, transfer: Transferable[] = []) => worker.postMessage(m, transfer);
  let pushing = false;
  const push = async () => {
    if (pushing) return;
    pushing = true;
    try {
      send({ type: "live", status: await o.status?.(), files: o.files() });
    } catch (e) {
      o.log?.warn("cannot hand the live status to the page", { error: e });
    } finally {
      pushing = false;
    }
  };
  const answers = new Map<number, { resolve(r: PlainResponse): void; reject(e: Error): void }>();
  let nextId = 1;
  let stopped: (() => void) | undefined;
  let failed: ((e: Error) => void) | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    failed = reject;
    worker.onerror = (e) => {
      e.preventDefault();
      o.log?.error("the page's worker failed", { error: e.message });
      const err = new Error(`the page's worker failed: ${e.message}`);
      failed?.(err);
      for (const a of answers.values()) a.reject(err);
      answers.clear();
      o.lost();
    };
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.type === "ready") resolve();
      else if (m.type === "failed") reject(new Error(m.message));
      else if (m.type === "response") {
        const a = answers.get(m.id);
        answers.delete(m.id);
        if (m.response) a?.resolve(m.response);
        else a?.reject(new Error(m.error ?? "no answer"));
      } else if (m.type === "log") o.log?.[m.level](m.msg, m.fields);
      else if (m.type === "scan") {
        Promise.resolve(o.scheduler?.scanNow(m.collector)).then(
          () => send({ type: "scanned", id: m.id }),
          (err: Error) =>
            send({ type: "scanned", id: m.id, error: { name: err.name, message: err.message } }),
        ).finally(push);
      } else if (m.type === "ack") {
        o.acknowledge(m.input).then(
          (ack) => send({ type: "acked", id: m.id, ack }),
          (err: Error) => send({ type: "acked", id: m.id, error: { name: err.name, message: err.message } }),
        );
      } else if (m.type === "stopped") stopped?.();
    };
  });
  send({ type: "init", init: o.init });
  await push();
  try {
    await ready;
  } catch (e) {
    worker.terminate();
    throw e;
  }
  failed = undefined;
  o.log?.debug("the page's worker started");
  o.onReady?.();
  const timer = setInterval(push, LIVE_MS);
  return {
    request(r) {
      const id = nextId++;
      const answer = new Promise<PlainResponse>((resolve, reject) => answers.set(id, { resolve, reject }));
      send({ type: "request", id, request: r }, r.body ? [r.body] : []);
      return answer;
    },
    async stop() {
      clearInterval(timer);
      const done = new Promise<void>((r) => stopped = r);
      send({ type: "stop" });
      // The worker ends its event streams and closes its connection; past 1 s it is ended anyway (the daemon
      // stops within 2 s of a signal; SQLite drops whatever write it may leave unfinished).
      let wait: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([done, new Promise<void>((r) => wait = setTimeout(r, 1000))]);
      clearTimeout(wait);
      worker.terminate();
      for (const a of answers.values()) a.reject(new Error("the page's worker stopped"));
      answers.clear();
      o.log?.debug("the page's worker stopped");
    },
  };
}
