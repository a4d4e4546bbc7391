// The hashing Worker: SHA-256 of open file descriptors, streamed through one reused buffer, never torn.
import { digest } from "./digest.ts";
import { close, fstatRaw, parseStatx, pread, S_IFMT, S_IFREG, type Stat } from "./libc_posix.ts";
import { textOf } from "./content.ts";
import { readAccessAclFd } from "./acl_posix.ts";
import type { HashJob, HashResult } from "./hash.ts";

const BUF = new Uint8Array(1 << 20);
/** Tries before a file that keeps changing is given up on (and flagged, never given a torn checksum). */
const MAX_ATTEMPTS = 4;
/**
 * File timestamps are coarse (a few ms): a write in the same tick as the stat is invisible to a stat
 * comparison. A file whose mtime/ctime is this recent when hashed is hashed again after a pause and
 * accepted only when both hashes agree.
 */
const RACY_MS = 50;
const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Set to 1 by the pool when the run is aborted: stop reading, close, report. */
let stop: Int32Array<ArrayBufferLike> = new Int32Array(1);

class Stopped extends Error {}

function same(a: Stat, b: Stat): boolean {
  return a.size === b.size && a.ino === b.ino && a.mtimeSec === b.mtimeSec && a.mtimeNsec === b.mtimeNsec &&
    a.ctimeSec === b.ctimeSec && a.ctimeNsec === b.ctimeNsec;
}

function newestMs(s: Stat): number {
  return Math.max(s.mtimeSec * 1000 + s.mtimeNsec / 1e6, s.ctimeSec * 1000 + s.ctimeNsec / 1e6);
}

function hashOnce(
  fd: number,
  capture: Uint8Array | null,
): { checksum: string; length: number; captured: boolean } {
  const h = digest(capture);
  for (;;) {
    if (stop[0] !== 0) throw new Stopped("hashing stopped: the run was aborted");
    const n = pread(fd, BUF, h.length);
    if (n === 0) break;
    h.update(BUF.subarray(0, n));
  }
  return h.done();
}

export function hashFd(job: HashJob): HashResult {
  try {
    let candidate: string | null = null;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const rawBefore = fstatRaw(job.fd);
      const before = parseStatx(rawBefore);
      if ((before.mode & S_IFMT) !== S_IFREG) {
        return { error: "not a regular file once opened", stat: rawBefore };
      }
      const capture = job.capture > 0 && before.size <= job.capture ? new Uint8Array(before.size) : null;
      const r = hashOnce(job.fd, capture);
      // Between the two stats: an ACL changed meanwhile moves ctime, and the file is read again.
      const acl = readAccessAclFd(job.fd);
      const rawAfter = fstatRaw(job.fd);
      const after = parseStatx(rawAfter);
      if (!same(before, after)) {
        candidate = null;
        continue;
      }
      const racy = newestMs(after) >= Date.now() - RACY_MS;
      if (racy && candidate !== r.checksum) {
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

// deno-lint-ignore no-explicit-any
const self_ = globalThis as any;
if ("WorkerGlobalScope" in globalThis) {
  self_.onmessage = (e: MessageEvent<{ id: number; jobs: HashJob[] } | { stop: Int32Array }>) => {
    if ("stop" in e.data) {
      stop = e.data.stop;
      return;
    }
    const results = e.data.jobs.map(hashFd);
    self_.postMessage({ id: e.data.id, results });
  };
  self_.postMessage({ ready: true });
}
