// How the page's worker (page_worker.ts) and the listener worker that hands it requests talk. In the daemon the
// listener asks the agent's thread to start the page's worker, which is handed a MessagePort to the listener as
// its first message: in Deno 2.9.5 a worker started by a worker waits for a debugger that never comes, 0.5 s
// before its module runs and 0.5 s more at its first message (its parent always has an inspector session), which
// a page's first answer after sign-in or after idle minutes paid. When the agent's thread is held by long work,
// the listener starts it itself after a short wait (SPAWN_WAIT_MS). Started by the thread it talks to, the worker
// talks on its own global scope. The channel carries page_worker.ts's messages without reading them, and imports
// none of their types: a worker's module is type-checked when it starts under `deno test`, and those types reach the
// whole page (a fake page worker on this channel alone checks in seconds, not the page's 20 s on a fresh cache).

/**
 * A page's worker as worker_page.ts drives it: a Worker, or one another thread started (remotePages). Its messages
 * are page_worker.ts's ToWorker and FromWorker, typed where they are made and read.
 */
export interface PageWorkerHandle {
  postMessage(m: unknown, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent) => void) | null;
  onerror: ((e: ErrorEvent) => void) | null;
  terminate(): void;
}

/** The message that hands the page's worker its port to the listener (before any other). */
interface PortMessage {
  type: "port";
  port: MessagePort;
}

/**
 * The page's worker's side: `receive` gets each message from the listener, whichever way it comes; the function
 * returned sends to it.
 */
export function listenerChannel<In, Out>(
  receive: (m: In) => void,
): (m: Out, transfer?: Transferable[]) => void {
  // deno-lint-ignore no-explicit-any
  const scope = globalThis as any;
  let port: MessagePort | undefined;
  scope.onmessage = (e: MessageEvent<In | PortMessage>) => {
    const m = e.data as In | PortMessage;
    if ((m as PortMessage)?.type === "port") {
      port = (m as PortMessage).port;
      port.onmessage = (e: MessageEvent<In>) => receive(e.data);
      return;
    }
    receive(m as In);
  };
  return (m, transfer = []) => port ? port.postMessage(m, transfer) : scope.postMessage(m, transfer);
}

/**
 * How long the listener waits for the agent's thread to start a page's worker before it starts one itself: the
 * agent's thread turns its event loop every few ms in long work (agent/breathe.ts), but one long statement
 * holds it for seconds, and the page must answer meanwhile.
 */
const SPAWN_WAIT_MS = 250;

/** What the listener asks of the thread that starts its page workers, and what it is told back. */
export type SpawnRequest =
  | { type: "page-start"; id: number; url: string; port: MessagePort; askedAt: number }
  | { type: "page-end"; id: number };
export type SpawnNews =
  | { type: "page-started"; id: number }
  | { type: "page-failed"; id: number; message: string };

/**
 * The listener's side: each page's worker is asked of another thread (`ask` sends it a SpawnRequest), or started
 * here when that thread has not started it within `waitMs`; either way a handle that worker_page.ts drives as
 * it would a Worker (messages posted before it is known which are kept in order; `startedHere` is told when it
 * starts here). `news` is to be called with each SpawnNews that comes back.
 */
export function remotePages(
  ask: (m: SpawnRequest, transfer?: Transferable[]) => void,
  waitMs = SPAWN_WAIT_MS,
  startedHere?: () => void,
): {
  spawn(url: string): PageWorkerHandle;
  news(m: SpawnNews): void;
} {
  /** The handles whose worker the other thread started or may still start, by id. */
  const remote = new Map<number, { handle: PageWorkerHandle; started(): void; failed(): void }>();
  let nextId = 1;
  return {
    spawn(url) {
      const id = nextId++;
      const { port1, port2 } = new MessageChannel();
      const queue: [unknown, Transferable[]][] = [];
      type Send = (m: unknown, transfer: Transferable[]) => void;
      let send: Send | undefined;
      let own: Worker | undefined;
      let ended = false;
      const use = (to: Send) => {
        send = to;
        for (const [m, transfer] of queue.splice(0)) to(m, transfer);
      };
      /** No longer the other thread's to start: it ends its own, if it started one. */
      const release = () => {
        remote.delete(id);
        port1.close();
        ask({ type: "page-end", id });
      };
      const handle: PageWorkerHandle = {
        onmessage: null,
        onerror: null,
        postMessage: (m, transfer = []) => send ? send(m, transfer) : void queue.push([m, transfer]),
        terminate() {
          if (ended) return;
          ended = true;
          clearTimeout(wait);
          own?.terminate();
          release();
        },
      };
      port1.onmessage = (e) => handle.onmessage?.(e);
      // Past the wait the other thread is busy: this one starts it, paying Deno's wait; the other ends its own
      // (or starts none: it sees the request is old).
      const wait = setTimeout(() => {
        release();
        startedHere?.();
        try {
          own = new Worker(url, { type: "module" });
        } catch (e) {
          const message = (e as Error).message;
          return queueMicrotask(() =>
            handle.onerror?.(new ErrorEvent("error", { message, cancelable: true }))
          );
        }
        own.onmessage = (e) => handle.onmessage?.(e);
        own.onerror = (e) => handle.onerror?.(e);
        use((m, transfer) => own!.postMessage(m, transfer));
      }, waitMs);
      remote.set(id, {
        handle,
        started: () => {
          clearTimeout(wait);
          use((m, transfer) => port1.postMessage(m, transfer));
        },
        failed: () => clearTimeout(wait),
      });
      ask({ type: "page-start", id, url, port: port2, askedAt: Date.now() }, [port2]);
      return handle;
    },
    news(m) {
      const r = remote.get(m.id);
      if (!r) return; // ended, or started here
      if (m.type === "page-started") return r.started();
      // As a Worker's own error event (the handler may prevent its default: there is none here). One that could
      // not be started at all is not started here either.
      r.failed();
      r.handle.onerror?.(new ErrorEvent("error", { message: m.message, cancelable: true }));
    },
  };
}

/**
 * The starting thread's side: starts each page's worker a listener (`owner`) asks for in time and hands it its
 * port; tells the listener (`news`) of each one started and each that fails. `endAll` ends every one still
 * running for `owner` (a listener that died or stopped), or for all, and starts none for them after.
 */
export function pageStarter(waitMs = SPAWN_WAIT_MS): {
  handle(owner: object, m: SpawnRequest, news: (m: SpawnNews) => void): void;
  endAll(owner?: object): void;
  /** How many page workers run (tests). */
  count(): number;
} {
  const running = new Map<object, Map<number, Worker>>();
  /** Listeners whose page workers were all ended: a request of theirs that comes after is refused. */
  const ended = new WeakSet<object>();
  let closed = false;
  return {
    handle(owner, m, news) {
      if (closed || ended.has(owner)) {
        if (m.type === "page-start") m.port.close();
        return;
      }
      if (m.type === "page-end") {
        running.get(owner)?.get(m.id)?.terminate();
        running.get(owner)?.delete(m.id);
        return;
      }
      // Asked too long ago: the listener has started it itself.
      if (Date.now() - m.askedAt >= waitMs) return m.port.close();
      let worker: Worker;
      try {
        worker = new Worker(m.url, { type: "module" });
      } catch (e) {
        m.port.close();
        return news({ type: "page-failed", id: m.id, message: (e as Error).message });
      }
      const mine = running.get(owner) ?? new Map<number, Worker>();
      running.set(owner, mine.set(m.id, worker));
      worker.onerror = (e) => {
        e.preventDefault();
        news({ type: "page-failed", id: m.id, message: e.message });
      };
      worker.postMessage({ type: "port", port: m.port } satisfies PortMessage, [m.port]);
      news({ type: "page-started", id: m.id });
    },
    endAll(owner) {
      if (owner === undefined) closed = true;
      else ended.add(owner);
      for (const [who, mine] of running) {
        if (owner !== undefined && who !== owner) continue;
        for (const w of mine.values()) w.terminate();
        running.delete(who);
      }
    },
    count: () => [...running.values()].reduce((n, mine) => n + mine.size, 0),
  };
}
