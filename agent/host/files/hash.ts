// A pool of hashing Workers (one per core): open fds go in batches, checksums come back; bounded in flight.
import { availableParallelism } from "node:os";
import { eventLoopTurns } from "../../breathe.ts";
import { close } from "./libc_posix.ts";
import { releaseExecutablePages } from "../memory.ts";
import { type BatchResults, hashFd, type HashJob, type HashResult, resultsOf } from "./hash_worker.ts";

export type { HashJob, HashResult };

export interface HashPool {
  submit(job: HashJob): Promise<HashResult>;
  /**
   * As submit, with `done` called with the result (on this thread; at once when it was hashed here): a big
   * scan makes no promise per file.
   */
  post(job: HashJob, done: (r: HashResult) => void): void;
  /**
   * Undefined when another job may be submitted now (fewer than maxInflight open fds, no turn of the event
   * loop due); otherwise a promise that resolves when one may. Rejects once aborted.
   */
  room(): Promise<void> | undefined;
  /** Resolves when every submitted job is done. */
  drain(): Promise<void>;
  /** Stops: jobs not started are closed unread, running ones stop at their next read; then the workers end. */
  close(): Promise<void>;
  /** Most workers the pool starts. */
  readonly workers: number;
  /** Whether a worker was started (the first starts with the first batch). */
  readonly started: boolean;
  /** How many workers were started: another starts only while those running have much to hash (growBytes). */
  readonly running: number;
  /** Why hashing fell back to the calling thread: no worker was left (e.g. a bundle without the worker file). */
  readonly fallback: string | undefined;
}

interface Slot {
  worker: Worker;
  /** The worker's module loaded (it said so): only then is it given fds, and it owns those. */
  ready: boolean;
  dead: boolean;
  bytes: number;
  batches: Map<number, { jobs: HashJob[]; resolve: ((r: HashResult) => void)[]; bytes: number }>;
}

/** How long a caller of room() may go without yielding to the event loop. */
const BREATH_MS = 2;

export function createHashPool(
  opts: {
    workers?: number;
    maxInflight?: number;
    batchCount?: number;
    batchBytes?: number;
    /**
     * Another worker starts when every running one has this many bytes queued (default 16 MiB, some 30 ms of
     * hashing): big files are worth a core each, while small ones cost the walk more than the hashing.
     */
    growBytes?: number;
    workerUrl?: string;
    /**
     * The first files are hashed on the calling thread, until this many were or this many bytes: a run with
     * little to hash (the default DCR's few config files) starts no worker (default 256 files, 8 MiB).
     */
    inline?: { files: number; bytes: number };
    /** Aborts the run: room() and drain() reject at once; close() then stops the workers mid-file. */
    signal?: AbortSignal;
    /**
     * Called when a worker says it is ready (default: releaseExecutablePages). Its start went through the
     * executable's start-up code again (a new isolate, its modules), which the run's own trims (agent/heap.ts) let
     * go only a second after the run began: until then, with the run's memory grown, it made the peak of many a
     * run. First scans with and without it, alternated: 10k small files 103-110 MB peak RSS against 115-117 MB
     * (four each), 100k 112-114 against 115-124 MB (four), a million 114 against 122-123 MB (two); /usr, whose
     * peak comes later, the same, and as fast as this machine can tell: in 33 pairs the median of the differences
     * was +0.21 s of ~7.3 s (14 faster), where the same program against itself gave +0.41 s (12 pairs, 4 faster).
     */
    onStarted?: () => void;
  } = {},
): HashPool {
  const n = Math.max(1, opts.workers ?? Math.min(availableParallelism(), 8));
  const maxInflight = opts.maxInflight ?? 512;
  const batchCount = opts.batchCount ?? 64;
  const batchBytes = opts.batchBytes ?? 8 << 20;
  const growBytes = opts.growBytes ?? 16 << 20;
  const inlineUpTo = opts.inline ?? { files: 256, bytes: 8 << 20 };
  const onStarted = opts.onStarted ?? releaseExecutablePages;
  let inlined = { files: 0, bytes: 0 };
  let nextId = 1;
  let inflight = 0;
  let waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  const signal = opts.signal;
  let pending: { jobs: HashJob[]; resolve: ((r: HashResult) => void)[]; bytes: number } = {
    jobs: [],
    resolve: [],
    bytes: 0,
  };

  const wake = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f.resolve();
  };
  const onAbort = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f.reject(signal!.reason);
  };
  signal?.addEventListener("abort", onAbort, { once: true });

  const stop = new Int32Array(new SharedArrayBuffer(4));
  let lastBreath = performance.now();
  const turn = eventLoopTurns();
  let fallback: string | undefined;
  /** The last error of a worker. */
  let failure: string | undefined;
  /** Hashes a batch on this thread: used only when no worker is left (none could load, or all failed). */
  const inline = (b: { jobs: HashJob[]; resolve: ((r: HashResult) => void)[] }) => {
    b.jobs.forEach((job, j) => b.resolve[j](hashFd(job)));
    inflight -= b.jobs.length;
    wake();
  };
  const slots: Slot[] = [];
  /**
   * The first worker starts with the first batch (a rescan that finds nothing to hash never pays for one);
   * another only once every running worker has growBytes queued. A worker costs an isolate (~13 MB, and more
   * while it hashes): a tree of small files, where the walk's own work per file is more than the hashing,
   * keeps one worker busy enough and never starts a second.
   */
  const grow = (live: Slot[]) => {
    if (slots.length < n && live.every((s) => s.ready && s.bytes >= growBytes)) startWorker();
  };
  const startWorker = () => {
    const worker = new Worker(opts.workerUrl ?? new URL("./hash_worker.ts", import.meta.url).href, {
      type: "module",
    });
    worker.postMessage({ stop });
    const slot: Slot = { worker, ready: false, dead: false, bytes: 0, batches: new Map() };
    worker.onmessage = (e: MessageEvent<BatchResults | { ready: true }>) => {
      if ("ready" in e.data) {
        slot.ready = true;
        flush();
        return onStarted();
      }
      const done = e.data;
      const b = slot.batches.get(done.id);
      if (!b) return;
      slot.batches.delete(done.id);
      slot.bytes -= b.bytes;
      inflight -= b.jobs.length;
      const results = resultsOf(done);
      b.resolve.forEach((resolve, j) => resolve(results[j]));
      // A worker with nothing queued gets what is pending at once, not when the batch fills.
      if (slot.batches.size === 0) flush();
      wake();
    };
    worker.onerror = (e) => {
      e.preventDefault();
      slot.dead = true;
      failure = e.message;
      // One that never said it was ready was given nothing: what waits is hashed here once no worker is left.
      if (!slot.ready) return flush();
      const batches = [...slot.batches.values()];
      slot.batches.clear();
      slot.bytes = 0;
      for (const b of batches) {
        inflight -= b.jobs.length;
        for (const r of b.resolve) r({ error: `hash worker failed: ${e.message}` });
      }
      wake();
    };
    slots.push(slot);
  };

  const flush = () => {
    if (pending.jobs.length === 0) return;
    // The first worker; or another when every one started died (it is given what waits once it is ready).
    if (slots.length < n && slots.every((s) => s.dead)) startWorker();
    const live = slots.filter((s) => !s.dead);
    if (live.length === 0) {
      fallback ??= failure;
      const b = pending;
      pending = { jobs: [], resolve: [], bytes: 0 };
      return inline(b);
    }
    // Descriptors go only to a worker the pool saw ready. One that fails before was given none, so nothing it
    // may have read and closed is hashed (and closed) here again: Deno delivers a worker's error and its
    // "ready" on separate channels, and the error can come first.
    const ready = live.filter((s) => s.ready);
    if (ready.length === 0) return; // sent when one is ready
    while (pending.jobs.length) {
      let b = pending;
      if (b.jobs.length <= batchCount) pending = { jobs: [], resolve: [], bytes: 0 };
      else {
        // What gathered while no worker was ready goes out in batches, spread over those ready.
        const jobs = b.jobs.splice(0, batchCount);
        b = { jobs, resolve: b.resolve.splice(0, batchCount), bytes: jobs.reduce((n, j) => n + j.size, 0) };
        pending.bytes -= b.bytes;
      }
      const slot = ready.reduce((a, s) => (s.bytes < a.bytes ? s : a));
      const id = nextId++;
      slot.batches.set(id, b);
      slot.bytes += b.bytes;
      // Numbers in one transferred buffer (fd, capture, limit per job): cheaper to send than objects.
      const jobs = new Float64Array(b.jobs.length * 3);
      b.jobs.forEach((j, i) => jobs.set([j.fd, j.capture, j.limit], i * 3));
      slot.worker.postMessage({ id, jobs }, [jobs.buffer]);
    }
    grow(live);
  };

  /** Until a result comes back; an aborted run stops waiting at once (unless `abortable` is false). */
  const waitOne = (abortable = true) =>
    new Promise<void>((resolve, reject) => {
      if (abortable && signal?.aborted) return reject(signal.reason);
      waiters.push({ resolve, reject: abortable ? reject : () => resolve() });
    });

  /** What room() waits for: a turn of the event loop when one is due, then room for another job. */
  const wait = async () => {
    // The caller walks directories with synchronous system calls: every few milliseconds hand the workers
    // what is pending and let the event loop deliver their results, or they sit idle meanwhile.
    if (performance.now() - lastBreath >= BREATH_MS) {
      flush();
      await turn();
      lastBreath = performance.now();
    }
    while (inflight >= maxInflight) {
      flush();
      await waitOne();
    }
  };

  const post = (job: HashJob, done: (r: HashResult) => void) => {
    if (
      slots.length === 0 && inlined.files < inlineUpTo.files && inlined.bytes + job.size <= inlineUpTo.bytes
    ) {
      inlined = { files: inlined.files + 1, bytes: inlined.bytes + job.size };
      return done(hashFd(job));
    }
    inflight++;
    pending.jobs.push(job);
    pending.resolve.push(done);
    pending.bytes += job.size;
    if (pending.jobs.length >= batchCount || pending.bytes >= batchBytes) flush();
  };

  return {
    workers: n,
    get started() {
      return slots.length > 0;
    },
    get running() {
      return slots.length;
    },
    get fallback() {
      return fallback;
    },
    submit(job) {
      return new Promise<HashResult>((resolve) => post(job, resolve));
    },
    post,
    room() {
      // Aborted: the walk stops at this file, not at its next check (a thousand files on).
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (inflight < maxInflight && performance.now() - lastBreath < BREATH_MS) return undefined;
      return wait();
    },
    async drain() {
      flush();
      while (inflight > 0) await waitOne();
    },
    async close() {
      for (const j of pending.jobs) close(j.fd);
      for (const r of pending.resolve) r({ error: "hash pool closed" });
      inflight -= pending.jobs.length;
      pending = { jobs: [], resolve: [], bytes: 0 };
      // Workers own the fds they were given: let them close those (they stop reading at once) before ending.
      Atomics.store(stop, 0, 1);
      signal?.removeEventListener("abort", onAbort);
      while (inflight > 0) await waitOne(false);
      for (const s of slots) s.worker.terminate();
    },
  };
}
