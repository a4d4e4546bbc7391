// The hashing Worker: SHA-256 of open file descriptors, streamed through one reused buffer, never torn.
import { Digest } from "./digest.ts";
import {
  close,
  fstat,
  lastStatRaw,
  pread,
  S_IFMT,
  S_IFREG,
  SEEK_DATA,
  SEEK_HOLE,
  seekRegion,
  type Stat,
} from "./libc_posix.ts";
import { textOf } from "./content.ts";
import { readAccessAclFd } from "./acl_posix.ts";
import { notHashed } from "./limit.ts";

export interface HashJob {
  /** An open fd of a regular file; the worker closes it. Fds are process-wide, so threads share them. */
  fd: number;
  /** Capture the content when the file is at most this many bytes (0: never). */
  capture: number;
  /** Expected size, for balancing the workers. */
  size: number;
  /** Files larger than this are not hashed (fileSettings.maxHashBytes): the result says so. */
  limit: number;
}

export interface HashResult {
  checksum?: string;
  /** Raw statx buffer of the version that was hashed. */
  stat?: Uint8Array;
  /** Its raw access ACL xattr (null: none beyond the mode bits). */
  acl?: Uint8Array | null;
  text?: string;
  error?: string;
  attempts?: number;
}

const BUF = new Uint8Array(1 << 20);
/** What a hole reads as: hashed without reading it. */
const ZEROS = new Uint8Array(1 << 20);
/** Tries before a file that keeps changing is given up on (and flagged, never given a torn checksum). */
const MAX_ATTEMPTS = 4;
/**
 * File timestamps are coarse (a few ms): a write in the same tick as the stat is invisible to a stat
 * comparison. A file whose mtime/ctime is this close to now when hashed is hashed again after a pause and
 * accepted only when both hashes agree.
 */
const RACY_MS = 50;
const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Set to 1 by the pool when the run is aborted: stop reading, close, report. */
let stop: Int32Array<ArrayBufferLike> = new Int32Array(1);

class Stopped extends Error {}
class OverLimit extends Error {}

function same(a: Stat, b: Stat): boolean {
  return a.size === b.size && a.ino === b.ino && a.mtimeSec === b.mtimeSec && a.mtimeNsec === b.mtimeNsec &&
    a.ctimeSec === b.ctimeSec && a.ctimeNsec === b.ctimeNsec;
}

/**
 * Whether a version's times are too close to now for a later write to be told apart by its stat: a write
 * sets mtime and ctime to the current time, so one that lands in the same tick leaves them as they are.
 * Times further from now than RACY_MS, in the past or in the future (a future mtime from `touch -d` or an
 * archive, a ctime ahead after the clock jumped back), move on any later write: nothing to wait for.
 */
export function racy(s: Stat, nowMs: number): boolean {
  const near = (sec: number, nsec: number) => Math.abs(sec * 1000 + nsec / 1e6 - nowMs) <= RACY_MS;
  return near(s.mtimeSec, s.mtimeNsec) || near(s.ctimeSec, s.ctimeNsec);
}

/**
 * SHA-256 of an open file. A sparse file (fewer blocks allocated than its size needs) is read by its data
 * regions (SEEK_DATA / SEEK_HOLE) and its holes are hashed as the zeros they read as, without reading them.
 */
function hashOnce(
  fd: number,
  before: Stat,
  limit: number,
  capture: Uint8Array | null,
): { checksum: string; length: number; captured: boolean } {
  const h = new Digest(capture);
  let sparse = before.blocks * 512 < before.size;
  if (sparse) {
    try {
      seekRegion(fd, 0, SEEK_DATA);
    } catch {
      sparse = false; // the file system cannot say where its holes are: read it all
    }
  }
  if (!sparse) readTo(fd, h, limit, Infinity);
  else {
    for (;;) {
      const data = seekRegion(fd, h.length, SEEK_DATA);
      const holeEnd = data ?? before.size;
      while (h.length < holeEnd) {
        check(h, limit);
        h.update(ZEROS.subarray(0, Math.min(ZEROS.length, holeEnd - h.length)));
      }
      if (data === null) break;
      // Where this data ends (the end of the file counts as a hole).
      if (!readTo(fd, h, limit, seekRegion(fd, h.length, SEEK_HOLE) ?? Infinity)) break;
    }
  }
  check(h, limit);
  return h.done();
}

/** Throws when the run was aborted, or the file grew past `limit`. */
function check(h: Digest, limit: number): void {
  if (stop[0] !== 0) throw new Stopped("hashing stopped: the run was aborted");
  if (h.length > limit) throw new OverLimit(notHashed(h.length, limit));
}

/** Reads `fd` into `h` up to `end` (or to the end of the file); false when the file ended first. */
function readTo(fd: number, h: Digest, limit: number, end: number): boolean {
  while (h.length < end) {
    check(h, limit);
    const n = pread(fd, BUF, h.length);
    if (n === 0) return false;
    h.update(n === BUF.length && end - h.length >= n ? BUF : BUF.subarray(0, Math.min(n, end - h.length)));
  }
  return true;
}

export function hashFd(job: HashJob): HashResult {
  try {
    let candidate: string | null = null;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const before = fstat(job.fd);
      if ((before.mode & S_IFMT) !== S_IFREG) {
        return { error: "not a regular file once opened", stat: lastStatRaw() };
      }
      if (before.size > job.limit) return { error: notHashed(before.size, job.limit), stat: lastStatRaw() };
      const capture = job.capture > 0 && before.size <= job.capture ? new Uint8Array(before.size) : null;
      const r = hashOnce(job.fd, before, job.limit, capture);
      // Between the two stats: an ACL changed meanwhile moves ctime, and the file is read again.
      const acl = readAccessAclFd(job.fd);
      const after = fstat(job.fd);
      const rawAfter = lastStatRaw();
      if (!same(before, after)) {
        candidate = null;
        continue;
      }
      if (racy(after, Date.now()) && candidate !== r.checksum) {
        candidate = r.checksum;
        Atomics.wait(sleeper, 0, 0, RACY_MS);
        continue;
      }
      const text = r.captured ? textOf(capture!) ?? undefined : undefined;
      return { checksum: r.checksum, stat: rawAfter, acl, text, attempts: attempt };
    }
    return {
      error: `file kept changing while being hashed (${MAX_ATTEMPTS} attempts); no checksum recorded`,
    };
  } catch (e) {
    return { error: (e as Error).message };
  } finally {
    close(job.fd);
  }
}

/**
 * The results of one batch as a worker sends them: per job its checksum (null: none), statx buffer (STATX_SIZE
 * bytes at j·STATX_SIZE; `hasStat` says whether there is one) and attempts, in a few arrays; and only for the
 * jobs that have them, an ACL, a captured text or an error.
 */
export interface BatchResults {
  id: number;
  checksums: (string | null)[];
  stats: Uint8Array;
  hasStat: Uint8Array;
  attempts: Uint8Array;
  rare: [
    j: number,
    acl: Uint8Array | null | undefined,
    text: string | undefined,
    error: string | undefined,
  ][];
}

const STATX_SIZE = 256;

/** The results of a batch, one per job, as hashFd gave them (statx buffers are views into the batch's). */
export function resultsOf(b: BatchResults): HashResult[] {
  const out = b.checksums.map((checksum, j): HashResult => ({
    checksum: checksum ?? undefined,
    stat: b.hasStat[j] ? b.stats.subarray(j * STATX_SIZE, (j + 1) * STATX_SIZE) : undefined,
    acl: null,
    attempts: b.attempts[j] || undefined,
  }));
  for (const [j, acl, text, error] of b.rare) {
    out[j].acl = acl ?? null;
    out[j].text = text;
    out[j].error = error;
  }
  return out;
}

/** Hashes a batch (fd, capture, limit per job) into its results. */
function hashBatch(id: number, jobs: Float64Array): BatchResults {
  const n = jobs.length / 3;
  const out: BatchResults = {
    id,
    checksums: new Array(n).fill(null),
    stats: new Uint8Array(n * STATX_SIZE),
    hasStat: new Uint8Array(n),
    attempts: new Uint8Array(n),
    rare: [],
  };
  for (let j = 0; j < n; j++) {
    const r = hashFd({ fd: jobs[j * 3], capture: jobs[j * 3 + 1], size: 0, limit: jobs[j * 3 + 2] });
    if (r.checksum) out.checksums[j] = r.checksum;
    if (r.stat) {
      out.stats.set(r.stat, j * STATX_SIZE);
      out.hasStat[j] = 1;
    }
    out.attempts[j] = r.attempts ?? 0;
    if (r.acl || r.text !== undefined || r.error !== undefined) out.rare.push([j, r.acl, r.text, r.error]);
  }
  return out;
}

/**
 * Batches between two full collections of a worker's heap. Left to itself, a worker's heap grew from 9 to 14.5 MB
 * in a first scan of /usr (old garbage waiting for V8's next major collection, and the memory outside the heap
 * that garbage holds). Collecting every 128 batches (4,000-8,000 files) took 6-20 MB off the scan's peak RSS
 * (159-162 MB against 166-182 MB) at no cost in time; every 64 took off a few MB more and cost 0.1-0.2 s.
 */
export const COLLECT_EVERY = 128;

/**
 * The worker's heap (V8's `heapTotal`: both generations, as V8 holds them) above which its collection is V8's
 * memory-reducing one. A full collection keeps the young generation as large as it grew, and V8 grows it for
 * as long as a run lasts (whatever lives through a scavenge counts towards the next doubling, up to the 8 MB
 * semi-spaces of build/v8_flags.ts): in a first scan of a million small files the worker's heap went from 7.6 to
 * 19.4 MB with 5.4 MB live. The memory-reducing collection gives the young generation's pages back as well (two
 * full collections, ~10 ms each), so it is made only once the heap passed this bound: the worker starts at
 * ~7.6 MB. First scans with and without it, alternated (issue 18): /usr 131-133 MB peak RSS against 139-146 MB,
 * as fast (8.17 s against 8.46 s median, 4 pairs); a million small files as fast (3 pairs). Made at every
 * collection instead, the million files took 5.8 CPU-s more (the young generation, small again, scavenged 7×
 * as often).
 */
export const WORKER_HEAP_BOUND = 12 * 1024 * 1024;

/** V8's collector as --expose-gc gives it: a full collection, or the one V8 makes under memory pressure. */
export type V8Gc = (options?: { type?: "major" | "minor"; flavor?: "regular" | "last-resort" }) => void;

/**
 * A counter that calls `gc` (V8's, present with --expose-gc) on every `every`-th call: the memory-reducing
 * collection when the heap (`heapTotal()`) is above `bound`, a full one otherwise.
 */
export function collectEvery(
  every: number,
  gc: V8Gc | undefined,
  heapTotal: () => number = () => Deno.memoryUsage().heapTotal,
  bound = WORKER_HEAP_BOUND,
): () => void {
  let n = 0;
  return () => {
    if (!gc || ++n % every !== 0) return;
    if (heapTotal() > bound) gc({ type: "major", flavor: "last-resort" });
    else gc();
  };
}

// deno-lint-ignore no-explicit-any
const self_ = globalThis as any;
if ("WorkerGlobalScope" in globalThis) {
  const collect = collectEvery(COLLECT_EVERY, self_.gc);
  self_.onmessage = (e: MessageEvent<{ id: number; jobs: Float64Array } | { stop: Int32Array }>) => {
    if ("stop" in e.data) {
      stop = e.data.stop;
      return;
    }
    const results = hashBatch(e.data.id, e.data.jobs);
    self_.postMessage(results, [results.stats.buffer]);
    collect();
  };
  self_.postMessage({ ready: true });
}
