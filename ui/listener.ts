// The agent's side of the page's listener worker (listener_worker.ts): starts it, answers what only this thread
// has ("scan now", acknowledgements through the state's writer, the live status and file settings) and stops it.
import type { Logger } from "../agent/log.ts";
import type { Ack, AckInput } from "../db/acks.ts";
import type { AgentStatus } from "./api.ts";
import type { FilePrivacySettings } from "./privacy.ts";
import type { Listen } from "./security.ts";
import type { Failure, FromListener, ListenerInit, ToListener } from "./listener_worker.ts";

export interface ListenerOptions {
  init: ListenerInit;
  scheduler?: { scanNow(collector?: string): unknown };
  status?: () => AgentStatus | Promise<AgentStatus>;
  files: () => FilePrivacySettings | undefined;
  acknowledge: (input: AckInput) => Promise<Ack>;
  log?: Logger;
}

export interface Listener {
  /** The bound address (port 0 resolved). */
  listen: Listen;
  /** Whether the page's worker is running or starting (tests). */
  running(): boolean;
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

export async function startListener(o: ListenerOptions): Promise<Listener> {
  const worker = new Worker(new URL("./listener_worker.ts", import.meta.url).href, { type: "module" });
  const send = (m: ToListener) => worker.postMessage(m);
  let running = false;
  let stopped: (() => void) | undefined;
  const listening = new Promise<Listen>((resolve, reject) => {
    worker.onerror = (e) => {
      e.preventDefault();
      o.log?.error("the page's listener failed", { error: e.message });
      reject(new Error(`the page's listener failed: ${e.message}`));
      running = false;
      stopped?.();
    };
    worker.onmessage = (e: MessageEvent<FromListener>) => {
      const m = e.data;
      if (m.type === "listening") resolve(m.listen);
      else if (m.type === "failed") reject(rebuilt(m.error));
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
      } else if (m.type === "stopped") stopped?.();
    };
  });
  send({ type: "init", init: o.init });
  let listen: Listen;
  try {
    listen = await listening;
  } catch (e) {
    worker.terminate();
    throw e;
  }
  return {
    listen,
    running: () => running,
    async stop() {
      const done = new Promise<void>((r) => stopped = r);
      send({ type: "stop" });
      // The page's worker gets 1 s to end (worker_page.ts); past 2 s the listener is ended anyway.
      let wait: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([done, new Promise<void>((r) => wait = setTimeout(r, 2000))]);
      clearTimeout(wait);
      worker.terminate();
      running = false;
    },
  };
}
