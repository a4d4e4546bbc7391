// Moves bytes to AMA or a forward receiver: abstract/filesystem unix sockets, Windows named pipes, TCP; deadlines, backoff.
import net from "node:net";
import type { Duplex } from "node:stream";
import { connectUnix } from "./unix_socket.ts";
import type { Logger } from "../log.ts";

/** Where to connect. `address` is what node:net gets (`"\0name"` for an abstract socket). */
export type Endpoint =
  | { kind: "abstract"; address: string; label: string }
  | { kind: "unix"; address: string; label: string }
  | { kind: "pipe"; address: string; label: string }
  | { kind: "tcp"; host: string; port: number; address: string; label: string };

export class TransportError extends Error {
  override name = "TransportError";
  constructor(message: string, readonly code?: string, options?: ErrorOptions) {
    super(message, options);
  }
}

const PIPE_PREFIX = /^(\\\\|\/\/)[.?](\\|\/)pipe(\\|\/)/i;

/**
 * Parses an endpoint as written in config or on the command line:
 * `@name` (Linux abstract socket), `/path` or `unix:///path` (filesystem socket), `unix://@name`,
 * `\\.\pipe\name` (Windows named pipe), `tcp://host:port` (port 0 only with `listen`).
 */
export function parseEndpoint(text: string, opts: { listen?: boolean } = {}): Endpoint {
  if (typeof text !== "string" || text.trim() === "") {
    throw new TypeError(`Cannot parse endpoint: expected a non-empty string, got ${JSON.stringify(text)}`);
  }
  const s = text.trim();
  if (s.startsWith("@")) {
    if (s.length === 1) throw new TypeError(`Cannot parse endpoint "${s}": abstract socket name is empty`);
    // "@name" as a path would create a file named "@name"; abstract names start with a NUL byte.
    return { kind: "abstract", address: `\0${s.slice(1)}`, label: s };
  }
  if (s.startsWith("\0")) return { kind: "abstract", address: s, label: `@${s.slice(1)}` };
  if (PIPE_PREFIX.test(s)) {
    const name = s.replace(PIPE_PREFIX, "");
    if (!name) throw new TypeError(`Cannot parse endpoint "${s}": pipe name is empty`);
    const address = `\\\\.\\pipe\\${name}`;
    return { kind: "pipe", address, label: address };
  }
  if (s.startsWith("/")) return { kind: "unix", address: s, label: s };
  if (/^unix:\/\//i.test(s)) {
    const rest = s.slice("unix://".length);
    if (rest.startsWith("@")) return parseEndpoint(rest, opts);
    if (!rest.startsWith("/")) {
      throw new TypeError(
        `Cannot parse endpoint "${s}": unix:// needs an absolute path (unix:///run/x.sock)`,
      );
    }
    return { kind: "unix", address: rest, label: rest };
  }
  if (/^tcp:\/\//i.test(s)) {
    let url: URL;
    try {
      url = new URL(s);
    } catch {
      throw new TypeError(`Cannot parse endpoint "${s}": not a valid tcp://HOST:PORT address`);
    }
    const port = Number(url.port);
    // Port 0 (any free port) only makes sense for a listener.
    if (!url.hostname || !Number.isInteger(port) || port < (opts.listen ? 0 : 1) || port > 65535) {
      throw new TypeError(`Cannot parse endpoint "${s}": expected tcp://HOST:PORT with a port in 1..65535`);
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    return { kind: "tcp", host, port, address: `${host}:${port}`, label: `tcp://${url.host}` };
  }
  throw new TypeError(
    `Cannot parse endpoint "${s}": expected @name, /path, unix:///path, \\\\.\\pipe\\name or tcp://host:port`,
  );
}

/** An open byte stream to an endpoint. */
export interface Connection {
  readonly endpoint: Endpoint;
  /**
   * Resolves once the bytes are handed to the OS; rejects (and closes) on error, after `timeoutMs`, or when
   * `signal` aborts.
   */
  write(bytes: Uint8Array, timeoutMs?: number, signal?: AbortSignal): Promise<void>;
  /** The next bytes the peer sent; null at end of stream. Rejects on a socket error or after `timeoutMs`. */
  read(timeoutMs?: number): Promise<Uint8Array | null>;
  /**
   * Says there is no more (half-closes) and waits until the peer, having read everything up to that point,
   * closes its end. Rejects when it resets the connection (it closed with data unread), or does not close within
   * `timeoutMs` (it is not reading): then the connection is destroyed.
   */
  finish(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  close(): void;
  readonly closed: boolean;
  /** Bytes whose write completed (handed to the OS), since the connection opened. */
  readonly written: number;
  /**
   * The most bytes the OS can hold written but unread by the peer: once `written` is this much past a byte, the
   * peer has read it. Infinity where the OS does not bound it knowably (TCP, whose buffers grow); 0 for a named
   * pipe, where nothing better than a completed write can be known.
   */
  readonly unreadBound: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_WRITE_TIMEOUT_MS = 10_000;

let unixBound: number | undefined;
/**
 * Unread bytes a Linux unix stream socket can hold: they stay charged to the sender's send buffer until the peer
 * reads them, and a writer blocks once that buffer is full (SO_SNDBUF, at most net.core.wmem_max unless forced;
 * one more segment of up to half of it may go in before the check). Twice wmem_max bounds it.
 */
function unixUnreadBound(): number {
  if (unixBound === undefined) {
    let max = 0;
    try {
      max = Number(Deno.readTextFileSync("/proc/sys/net/core/wmem_max").trim());
    } catch {
      // /proc not readable: a generous bound (wmem_max is 208 KiB by default)
    }
    unixBound = 2 * (max > 0 ? max : 4 * 1024 * 1024);
  }
  return unixBound;
}

function unreadBoundOf(endpoint: Endpoint): number {
  // A Windows named pipe has no half-close and node:net no way to ask what the server has read: a completed
  // write is all a client can know (what the pipe's buffer, sized by the server, holds is lost with a stalled
  // server). 0: confirmed as written.
  if (endpoint.kind === "pipe") return 0;
  const unix = (endpoint.kind === "abstract" || endpoint.kind === "unix") && Deno.build.os === "linux";
  return unix ? unixUnreadBound() : Infinity;
}

function describeError(e: unknown): { message: string; code?: string } {
  const err = e as NodeJS.ErrnoException;
  // node names an abstract socket with its NUL byte; show it the way it is configured ("@name").
  const message = (err?.message ?? String(e)).replace(/\0/g, "@");
  return { message, code: typeof err?.code === "string" ? err.code : undefined };
}

/** Opens a connection, failing with a TransportError after `timeoutMs` or when `signal` aborts. */
export function connect(
  endpoint: Endpoint,
  opts: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<Connection> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      return reject(new TransportError(`Connect to ${endpoint.label} aborted`, "ABORTED"));
    }
    if (endpoint.kind === "pipe" && Deno.build.os !== "windows") {
      // node:net would take it for a relative unix socket path; say what is wrong instead.
      return reject(
        new TransportError(
          `Cannot connect to ${endpoint.label}: named pipes exist only on Windows`,
          "ENOTSUP",
        ),
      );
    }
    const opening = openSocket(endpoint);
    let settled = false;
    const fail = (e: TransportError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      opening.cancel();
      reject(e);
    };
    const onAbort = () => fail(new TransportError(`Connect to ${endpoint.label} aborted`, "ABORTED"));
    const timer = setTimeout(
      () =>
        fail(new TransportError(`Connect to ${endpoint.label} timed out after ${timeoutMs} ms`, "ETIMEDOUT")),
      timeoutMs,
    );
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    opening.socket.then((socket) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      resolve(wrapSocket(endpoint, socket));
    }, (e) => {
      const { message, code } = describeError(e);
      fail(new TransportError(`Cannot connect to ${endpoint.label}: ${message}`, code, { cause: e }));
    });
  });
}

/**
 * A socket being connected; `cancel()` closes it, now or once connected. Unix sockets (paths, abstract names)
 * are Deno's own off Windows (unix_socket.ts says why node:net's are not used).
 */
function openSocket(endpoint: Endpoint): { socket: Promise<Duplex>; cancel(): void } {
  if ((endpoint.kind === "unix" || endpoint.kind === "abstract") && Deno.build.os !== "windows") {
    const socket = connectUnix(endpoint.address);
    return { socket, cancel: () => void socket.then((s) => s.destroy(), () => {}) };
  }
  const socket = endpoint.kind === "tcp"
    ? net.connect({ host: endpoint.host, port: endpoint.port })
    : net.connect({ path: endpoint.address });
  return {
    socket: new Promise((resolve, reject) => {
      socket.once("error", (e) => {
        socket.destroy();
        reject(e);
      });
      socket.once("connect", () => {
        socket.removeAllListeners("error");
        resolve(socket);
      });
    }),
    cancel: () => socket.destroy(),
  };
}

/** Wraps a connected socket (node:net's, or a unix one of unix_socket.ts) as a Connection. */
export function wrapSocket(endpoint: Endpoint, socket: Duplex): Connection {
  const queue: Uint8Array[] = [];
  let queued = 0;
  let ended = false;
  let failure: TransportError | undefined;
  let closed = false;
  let written = 0;
  let waiter: (() => void) | undefined;
  const wake = () => {
    const w = waiter;
    waiter = undefined;
    w?.();
  };
  socket.on("data", (d: Uint8Array) => {
    queue.push(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    queued += d.byteLength;
    // Keep memory bounded when the reader is slower than the peer.
    if (queued > 4 * 1024 * 1024) socket.pause();
    wake();
  });
  socket.on("end", () => {
    ended = true;
    wake();
  });
  socket.on("error", (e) => {
    const { message, code } = describeError(e);
    failure ??= new TransportError(`Connection to ${endpoint.label} failed: ${message}`, code, { cause: e });
    wake();
  });
  socket.on("close", () => {
    closed = true;
    ended = true;
    wake();
  });

  const conn: Connection = {
    endpoint,
    get closed() {
      return closed || socket.destroyed;
    },
    write(bytes, timeoutMs = DEFAULT_WRITE_TIMEOUT_MS, signal) {
      if (failure) return Promise.reject(failure);
      if (conn.closed || socket.writableEnded) {
        return Promise.reject(new TransportError(`Connection to ${endpoint.label} is closed`, "ECLOSED"));
      }
      if (signal?.aborted) {
        return Promise.reject(new TransportError(`Write to ${endpoint.label} aborted`, "ABORTED"));
      }
      return new Promise<void>((resolve, reject) => {
        let done = false;
        // Given up on (a deadline, a stop): the socket goes, so that the bytes still queued are never sent late.
        const giveUp = (e: TransportError) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          socket.destroy();
          reject(e);
        };
        const onAbort = () => giveUp(new TransportError(`Write to ${endpoint.label} aborted`, "ABORTED"));
        const timer = setTimeout(() =>
          giveUp(
            new TransportError(
              `Write of ${bytes.byteLength} bytes to ${endpoint.label} timed out after ${timeoutMs} ms (peer not reading)`,
              "ETIMEDOUT",
            ),
          ), timeoutMs);
        signal?.addEventListener("abort", onAbort, { once: true });
        socket.write(bytes, (e) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          if (e) {
            const { message, code } = describeError(e);
            reject(new TransportError(`Write to ${endpoint.label} failed: ${message}`, code, { cause: e }));
          } else {
            written += bytes.byteLength;
            resolve();
          }
        });
      });
    },
    async read(timeoutMs) {
      while (true) {
        if (queue.length) {
          const chunk = queue.shift()!;
          queued -= chunk.byteLength;
          if (queued <= 1024 * 1024 && socket.isPaused()) socket.resume();
          return chunk;
        }
        if (failure) throw failure;
        if (ended) return null;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const wait = new Promise<void>((resolve) => waiter = resolve);
        if (timeoutMs === undefined) await wait;
        else {
          let timedOut = false;
          await Promise.race([
            wait,
            new Promise<void>((resolve) =>
              timer = setTimeout(() => {
                timedOut = true;
                resolve();
              }, timeoutMs)
            ),
          ]);
          clearTimeout(timer);
          if (timedOut && !queue.length && !ended && !failure) {
            waiter = undefined;
            throw new TransportError(`No reply from ${endpoint.label} within ${timeoutMs} ms`, "ETIMEDOUT");
          }
        }
      }
    },
    get written() {
      return written;
    },
    unreadBound: unreadBoundOf(endpoint),
    finish(timeoutMs, signal) {
      if (failure) return Promise.reject(failure);
      if (conn.closed || socket.writableEnded) {
        return Promise.reject(new TransportError(`Connection to ${endpoint.label} is closed`, "ECLOSED"));
      }
      return new Promise<void>((resolve, reject) => {
        const settle = (e?: TransportError) => {
          clearTimeout(timer);
          socket.off("end", onEnd);
          socket.off("error", onError);
          signal?.removeEventListener("abort", onAbort);
          if (e) {
            socket.destroy();
            reject(e);
          } else resolve();
        };
        // The peer's end after ours: it read up to our end of stream, everything before it included.
        const onEnd = () => settle();
        const onError = () => settle(failure);
        const onAbort = () => settle(new TransportError(`Closing ${endpoint.label} aborted`, "ABORTED"));
        const timer = setTimeout(
          () =>
            settle(
              new TransportError(
                `${endpoint.label} did not close its end within ${timeoutMs} ms of ours: what was written to it ` +
                  "is not known to be read (peer not reading)",
                "ETIMEDOUT",
              ),
            ),
          timeoutMs,
        );
        socket.on("end", onEnd);
        socket.on("error", onError);
        signal?.addEventListener("abort", onAbort, { once: true });
        if (ended) return onEnd();
        socket.end();
      });
    },
    close() {
      socket.destroy();
      closed = true;
      wake();
    },
  };
  return conn;
}

/** Reconnect delays: exponential from `initialMs` to `maxMs`, each shortened by up to `jitter` (0..1) at random. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
  factor: number;
  jitter: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 };

/** The wait before reconnect attempt number `failures` (1 = after the first failure). */
export function backoffDelay(failures: number, b: Backoff = DEFAULT_BACKOFF, random = Math.random): number {
  const base = Math.min(b.maxMs, b.initialMs * b.factor ** Math.max(0, failures - 1));
  return Math.round(base * (1 - b.jitter * random()));
}

/**
 * Logs a repeated problem once, then at most once per `intervalMs` with how many were suppressed,
 * and says when it is over. Keeps the log readable while AMA is down for hours.
 */
export function rateLimitedWarning(
  log: Logger,
  intervalMs = 5 * 60_000,
  // Elapsed time: a clock set back an hour must not silence the warning for that hour.
  now: () => number = () => performance.now(),
): { warn(msg: string, fields?: Record<string, unknown>): void; recovered(msg: string): void } {
  let last = -Infinity;
  let suppressed = 0;
  let active = false;
  return {
    warn(msg, fields = {}) {
      const t = now();
      if (!active || t - last >= intervalMs) {
        log.warn(msg, suppressed ? { ...fields, suppressed } : fields);
        last = t;
        suppressed = 0;
        active = true;
      } else suppressed++;
    },
    recovered(msg) {
      if (!active) return;
      log.info(msg);
      active = false;
      suppressed = 0;
    },
  };
}

/** Sleeps `ms`, or less when `signal` aborts (resolves false then). */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export interface LinkOptions {
  endpoint: Endpoint;
  log: Logger;
  /** What is at the other end, for the log ("AMA", "forward receiver"). */
  peer?: string;
  connectTimeoutMs?: number;
  backoff?: Backoff;
  random?: () => number;
  /** How often the "not there" warning repeats while it lasts. */
  warnIntervalMs?: number;
  connectFn?: typeof connect;
}

/** A connection that reconnects: `get()` returns the open one or connects once, after the backoff. */
export interface Link {
  readonly endpoint: Endpoint;
  /**
   * The open connection, or one connect attempt after waiting out the backoff of earlier failures.
   * Throws the TransportError of a failed attempt (logged rate-limited), or code ABORTED when `signal` aborts.
   */
  get(signal?: AbortSignal): Promise<Connection>;
  /** Drops the current connection after an error; the next `get()` reconnects after a backoff. */
  fail(err: unknown): void;
  /** Consecutive failures so far (0 while connected). */
  readonly failures: number;
  close(): void;
}

export function createLink(opts: LinkOptions): Link {
  const { endpoint } = opts;
  const peer = opts.peer ?? "AMA";
  const doConnect = opts.connectFn ?? connect;
  const warning = rateLimitedWarning(opts.log, opts.warnIntervalMs);
  let current: Connection | undefined;
  let failures = 0;
  let closed = false;
  const link: Link = {
    endpoint,
    get failures() {
      return failures;
    },
    async get(signal) {
      if (closed) throw new TransportError(`Link to ${endpoint.label} is closed`, "ECLOSED");
      if (current && !current.closed) return current;
      current = undefined;
      if (failures > 0) {
        const delay = backoffDelay(failures, opts.backoff, opts.random);
        if (!await sleep(delay, signal)) {
          throw new TransportError(`Connect to ${endpoint.label} aborted`, "ABORTED");
        }
      }
      try {
        current = await doConnect(endpoint, { timeoutMs: opts.connectTimeoutMs, signal });
      } catch (e) {
        if (e instanceof TransportError && e.code === "ABORTED") throw e;
        failures++;
        warning.warn(`${peer} not there: ${(e as Error).message}; records stay in the outbox, retrying`, {
          endpoint: endpoint.label,
          attempts: failures,
        });
        throw e;
      }
      if (failures > 0) warning.recovered(`${peer} is there again at ${endpoint.label}; delivering`);
      failures = 0;
      return current;
    },
    fail(err) {
      current?.close();
      current = undefined;
      failures++;
      warning.warn(`Lost the connection to ${peer}: ${(err as Error)?.message ?? err}; will reconnect`, {
        endpoint: endpoint.label,
      });
    },
    close() {
      closed = true;
      current?.close();
      current = undefined;
    },
  };
  return link;
}
