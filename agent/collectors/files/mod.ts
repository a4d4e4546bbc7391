// The files collector: DCR fileInfo rules → one item per matching path, with a streamed SHA-256 (Linux: libc
// walker + hash workers; Windows, or with `portable`: portable.ts).
import type { Begun, CollectContext, Collected, Collector } from "../types.ts";
import { implement } from "../spec.ts";
import spec from "./spec.ts";
import type { FileItem } from "./item.ts";
import { fileOutput } from "./output.ts";
import type { FileInfo, Settings } from "../../config/dcr.ts";
import type { Host } from "../../host/mod.ts";
import * as libc from "../../host/files/libc_posix.ts";
import type { Stat } from "../../host/files/libc_posix.ts";
import { contentBudget, fileTargets, planWalks, walkScope } from "./plan.ts";
import type { Found, FsOps } from "../../host/files/walk_posix.ts";
import {
  type BegunReadAhead,
  isReadAheadStart,
  type ReadAheadOptions,
  type ReadAheadStart,
} from "../../host/files/read_ahead.ts";
import { reportCuts, some, type Unreadable } from "./report.ts";
import type { WalkReport } from "../../host/files/walk_limits.ts";
import type { HashPool, HashResult } from "../../host/files/hash.ts";
import { type Accounts, loadAccounts } from "../../host/accounts.ts";
import type { CapturedContent } from "../../host/files/content.ts";
import { captureDecision, type CapturePolicy, capturePolicyKey, uncapturedWhy } from "./capture.ts";
import { collectFilesPortable, type PortableOptions } from "./portable.ts";
import { fileFingerprint, isFingerprintOf, sameVersion, statKey } from "./fingerprint.ts";
import { notHashed } from "../../host/files/limit.ts";
import { type AclNames, formatAccessAcl } from "../../host/files/acl_posix.ts";
import { Subtrees } from "./subtrees.ts";
import { hash64 } from "../../hash64.ts";

export type { FileItem };

const TYPES: Record<number, string> = {
  [libc.S_IFREG]: "File",
  [libc.S_IFDIR]: "Directory",
  [libc.S_IFLNK]: "SymbolicLink",
  [libc.S_IFIFO]: "Fifo",
  [libc.S_IFSOCK]: "Socket",
  [libc.S_IFCHR]: "CharacterDevice",
  [libc.S_IFBLK]: "BlockDevice",
};

const isoSeconds = new Map<number, string>();
/**
 * A file time as ISO 8601 UTC with milliseconds, as Date.toISOString writes it. The text up to the seconds is
 * cached per second: the files of one package share their times, and a big scan formats hundreds of thousands.
 */
export function iso(sec: number, nsec: number): string {
  let head = isoSeconds.get(sec);
  if (head === undefined) {
    const full = new Date(sec * 1000).toISOString();
    // Years outside 0000–9999 are written with a sign and six digits: not cached, formatted whole.
    if (full.length !== 24) return new Date(sec * 1000 + Math.floor(nsec / 1e6)).toISOString();
    if (isoSeconds.size >= 4096) isoSeconds.clear();
    isoSeconds.set(sec, head = full.slice(0, 20));
  }
  const ms = Math.floor(nsec / 1e6);
  return head + (ms < 10 ? "00" : ms < 100 ? "0" : "") + ms + "Z";
}

// Interned strings: 130k items share a few hundred mode strings instead of each holding its own.
const MODES: string[] = [];
function modeString(mode: number): string {
  const m = mode & 0o7777;
  return MODES[m] ??= m.toString(8).padStart(4, "0");
}

/** The ids of an ACL named from the host's accounts (the image's own under --root), as getfacl names them. */
function aclNames(accounts: Accounts): AclNames {
  return { user: (uid) => accounts.users.get(uid), group: (gid) => accounts.groups.get(gid) };
}

function fromStat(
  path: string,
  s: Stat,
  accounts: Accounts,
  rule: FileInfo,
  linkTarget: string | null,
  acls: string | null = null,
): FileItem {
  const modified = iso(s.mtimeSec, s.mtimeNsec);
  const sameMs = s.btimeSec === s.mtimeSec &&
    Math.floor(s.btimeNsec / 1e6) === Math.floor(s.mtimeNsec / 1e6);
  const created = s.btimeSec === null ? null : sameMs ? modified : iso(s.btimeSec, s.btimeNsec);
  return {
    FileSystemPath: path,
    FileType: TYPES[s.mode & libc.S_IFMT] ?? "Unknown",
    Size: s.size,
    DateCreated: created,
    DateModified: modified,
    Mode: modeString(s.mode),
    Acls: acls,
    OwnerId: s.uid,
    Owner: accounts.users.get(s.uid) ?? null,
    GroupId: s.gid,
    Group: accounts.groups.get(s.gid) ?? null,
    Inode: s.ino,
    LinkTarget: linkTarget,
    FileContentChecksum: null,
    GroupTag: rule.groupTag,
    RuleName: rule.name,
    StatKey: null,
  };
}

function errorItem(path: string, rule: FileInfo, error: string, base?: FileItem): FileItem {
  return {
    ...(base ?? {
      FileSystemPath: path,
      FileType: "Unknown",
      Size: null,
      DateCreated: null,
      DateModified: null,
      Mode: null,
      Acls: null,
      OwnerId: null,
      Owner: null,
      GroupId: null,
      Group: null,
      Inode: null,
      LinkTarget: null,
      GroupTag: rule.groupTag,
      RuleName: rule.name,
    }),
    FileContentChecksum: null,
    StatKey: null,
    error,
  };
}

/** Largest file a realtime run hashes on its own thread, and most bytes it hashes so in one run. */
const HASH_HERE_BYTES = 1 << 20;
const HASH_HERE_RUN_BYTES = 32 << 20;
/** The stored items from which a run reads its walks' listings ahead: a thread's start is worth it for thousands. */
const READ_AHEAD_STORED = 5000;
/** A file written a moment ago is looked at again after this pause, up to SETTLE_ROUNDS times. */
const SETTLE_MS = 60;
const SETTLE_ROUNDS = 4;

export interface FilesOptions {
  /** File-system calls (tests inject failures). */
  ops?: FsOps;
  /** Most hash workers (default: one per core; a second starts only for big files: createHashPool). */
  workers?: number;
  /** Forces the portable (no libc) path, which Windows hosts always take. */
  portable?: boolean;
  /** Options of the portable path. */
  portableOptions?: PortableOptions;
  /** Whether the walks read their listings ahead, however many items are stored (tests). */
  readAhead?: boolean | ReadAheadOptions;
}

export async function collectFiles(
  settings: Settings,
  ctx: CollectContext,
  opts: FilesOptions = {},
): Promise<Collected<FileItem>> {
  const { host, signal, log } = ctx;
  const fs = settings.fileSettings;
  const warnings: string[] = [];
  const unseen: string[] = [];
  const rules = fs.fileInfo.filter((r) => r.enabled);
  if (rules.length === 0) return { items: [], unseen, warnings };
  const posix = host.files.posix;
  if (opts.portable || host.os !== "linux" || !posix) {
    return collectFilesPortable(settings, ctx, opts.portableOptions);
  }
  const output = fileOutput(ctx);
  const out = output.sink;
  const accounts = await loadAccounts(host);
  warnings.push(...accounts.warnings);
  const names = aclNames(accounts);
  const ops = opts.ops ?? posix.ops;
  const previous = ctx.previous;
  let items = 0;
  const budget = { left: fs.maxFiles };
  const seen = new Set<string>();
  const budgetOfContent = contentBudget(fs.maxContentBytes);
  let reused = 0;
  let hashed = 0;
  const errors: Unreadable[] = [];
  const tooBig: string[] = [];
  /** Found changed or new while names cannot be known (accounts.unknown). */
  const namesUnknown: string[] = [];
  const pool: HashPool = posix.hashPool({ workers: opts.workers, signal });
  /** Bytes a realtime run may still hash on this thread (the rest goes to the workers, started if needed). */
  let hereLeft = HASH_HERE_RUN_BYTES;
  /** Files opened to be hashed here once they settled (their times are too near now to trust a checksum). */
  let settling: { fd: number; hash: () => void | Promise<void>; taken?: true }[] = [];

  // What the sink is still writing. The walk waits for it (so a slow sink slows the walk instead of piling
  // items up); results of the hash workers arrive out of band and are waited for at the end. A sink failure
  // stops the walk and fails the collection.
  const writing = new Set<Promise<void>>();
  let sinkError: unknown;
  const emit = (r: void | Promise<void>): void | Promise<void> => {
    items++;
    if (!r) return;
    const p = r.catch((e) => {
      sinkError ??= e;
    });
    writing.add(p);
    p.then(() => writing.delete(p));
    return p;
  };
  const fingerprint = (key: string, item: FileItem, rule: FileInfo, policy: CapturePolicy) =>
    fileFingerprint(
      key,
      item.Owner,
      item.Group,
      item.LinkTarget,
      rule,
      capturePolicyKey(item.FileSystemPath, policy),
    );
  // Whose content may be kept (capture.ts): decided before a file is read, checked again on what was read.
  const dirsOpen = host.files.dirsOpen();
  const captureGate = (f: Found, policy: CapturePolicy) => {
    const real = host.path(f.path);
    const realPath = f.linkTarget === null ? real : host.files.realPath(real);
    return (mode: number) =>
      captureDecision({
        path: f.path,
        realPath: realPath === real ? undefined : realPath,
        mode: mode & 0o7777,
        dirsOpen: () => dirsOpen(realPath),
      }, policy);
  };

  // A file in the hash pool keeps only its path, stat and link target: the item is built once hashed.
  const failed = (path: string, stat: Stat, rule: FileInfo, linkTarget: string | null, error: string) => {
    errors.push({ path, error });
    return emit(out.add(errorItem(path, rule, error, fromStat(path, stat, accounts, rule, linkTarget))));
  };
  const finishHashed = (
    path: string,
    stat: Stat,
    rule: FileInfo,
    policy: CapturePolicy,
    linkTarget: string | null,
    r: HashResult,
    refused: string | undefined,
    decide: ((mode: number) => string | undefined) | undefined,
    capture: { limit: number; asked: number },
  ) => {
    if (r.error || !r.checksum || !r.stat) {
      return failed(path, stat, rule, linkTarget, r.error ?? "no checksum");
    }
    hashed++;
    // The version hashed, most often the one walked past (then its Stat serves).
    const s = libc.statEquals(r.stat, stat) ? stat : libc.parseStatx(r.stat);
    let acls: string;
    try {
      acls = formatAccessAcl(s.mode, r.acl ?? null, names);
    } catch (e) {
      return failed(path, stat, rule, linkTarget, `${path}: ${(e as Error).message}`);
    }
    const item = fromStat(path, s, accounts, rule, linkTarget, acls);
    item.FileContentChecksum = r.checksum;
    item.StatKey = statKey(s);
    // The version read may have another mode than the one walked past (a chmod in between). Not read for its
    // size when walked past: that size says why.
    const note = refused ?? (r.text !== undefined && s.mode !== stat.mode ? decide?.(s.mode) : undefined) ??
      (r.text === undefined ? uncapturedWhy(capture.asked ? s.size : stat.size, capture.limit) : undefined);
    if (note) item.ContentNotCaptured = note;
    const text = note ? undefined : r.text;
    const content: CapturedContent | undefined =
      text !== undefined && budgetOfContent.take(path, r.checksum, s.size)
        ? { checksum: r.checksum, text, size: s.size }
        : undefined;
    const print = fingerprint(item.StatKey, item, rule, policy);
    const stored = content ? out.content(content) : undefined;
    return emit(stored ? stored.then(() => out.add(item, print)) : out.add(item, print));
  };

  /**
   * Opens a regular file (while its directory fd is open) and hands it to the pool; waits only for room, and
   * makes no promise when there is room (a big scan's files mostly).
   */
  const hash = (f: Found, rule: FileInfo, policy: CapturePolicy, capture: number): void | Promise<void> => {
    if (f.stat.size > fs.maxHashBytes) {
      tooBig.push(f.path);
      const error = notHashed(f.stat.size, fs.maxHashBytes);
      return emit(
        out.add(errorItem(f.path, rule, error, fromStat(f.path, f.stat, accounts, rule, f.linkTarget))),
      );
    }
    const decide = capture > 0 && f.stat.size <= capture ? captureGate(f, policy) : undefined;
    const refused = decide?.(f.stat.mode);
    // Content is read only where the gate said yes (a file too big when walked past is not judged).
    const asked = decide && !refused ? capture : 0;
    // A realtime run hashes its small files here: starting the workers for a few files costs more (and in a
    // storm, run after run). One written a moment ago waits until it settled, the walk going on meanwhile.
    const here = ctx.scope !== undefined && f.stat.size <= HASH_HERE_BYTES && hereLeft >= f.stat.size;
    const wait = here ? undefined : pool.room();
    if (wait) return wait.then(() => handOver(f, rule, policy, capture, asked, refused, decide, here));
    return handOver(f, rule, policy, capture, asked, refused, decide, here);
  };
  const handOver = (
    f: Found,
    rule: FileInfo,
    policy: CapturePolicy,
    capture: number,
    asked: number,
    refused: string | undefined,
    decide: ((mode: number) => string | undefined) | undefined,
    here: boolean,
  ): void | Promise<void> => {
    let fd: number;
    try {
      fd = ops.openAt(
        f.dirfd,
        f.name,
        libc.O_RDONLY | libc.O_NONBLOCK | libc.O_NOCTTY | (f.follow ? 0 : libc.O_NOFOLLOW),
      );
    } catch (e) {
      return failed(f.path, f.stat, rule, f.linkTarget, (e as Error).message);
    }
    const { path, stat, linkTarget } = f;
    const job = { fd, capture: asked, size: stat.size, limit: fs.maxHashBytes };
    const finish = (r: HashResult) =>
      finishHashed(path, stat, rule, policy, linkTarget, r, refused, decide, { limit: capture, asked });
    if (here) {
      hereLeft -= stat.size;
      const later = () => finish(posix.hashHere(job));
      if (!posix.racy(stat, Date.now())) return later();
      settling.push({ fd, hash: later });
      return;
    }
    // Called as the pool hands results back: a failure to store this file fails the collection, not the pool.
    pool.post(job, (r) => {
      try {
        finish(r);
      } catch (e) {
        sinkError ??= e;
      }
    });
  };

  // A rescan of many files reads its listings ahead on another thread: it makes the system calls while this
  // one compares (a first scan, whose hashing keeps the cores busy, gains nothing from it).
  // (`items`: as many stored; opts.readAhead, given, decides.)
  const readsAhead = (items: number) => opts.readAhead ?? items >= READ_AHEAD_STORED;
  const readAhead = readsAhead(ctx.stored ?? 0);
  // The thread begun before the run's turn (beginFiles) is taken by the walk that begins where it does.
  const begun = ctx.begun as BegunReadAhead | undefined;
  if (!readAhead) begun?.stop();
  // Subtrees read ahead whole and unchanged since the last run are gone past (subtrees.ts), where the sink can say
  // their stored items the same without naming them and the names of owners and groups are known. A run that reads
  // nothing ahead (a first scan: its sink says nothing the same) keeps them too, its walks making the digests.
  const sameUnder = out.sameUnder?.bind(out);
  const subtrees = !ctx.scope && !accounts.unknown ? new Subtrees(lastRun(ctx.ahead).subtrees) : undefined;
  const accountsKey = subtrees && hash64(JSON.stringify([[...accounts.users], [...accounts.groups]]));
  let subtreesSkipped = 0;
  const same = (prefix: string, n: number) => {
    if (!sameUnder?.(prefix, n)) return false;
    items += n;
    reused += n;
    subtreesSkipped++;
    return true;
  };
  const reports: WalkReport[] = [];
  const scope = walkScope(ctx.scope, "/");
  try {
    for (const { rule, path, dedupe, capture, walk } of planWalks(settings, host, warnings)) {
      const policy: CapturePolicy = {
        rulePath: path,
        captureRestricted: rule.captureRestricted ?? false,
        allowed: fs.captureRestrictedPaths ?? [],
        windows: false,
      };
      // Its items depend on their stats and on this (the fingerprint's scheme through an example's tail) only:
      // not where it dedupes against another rule or keeps content (a walk that follows links keeps only subtrees
      // without one: walk_posix.ts).
      const context = subtrees && !dedupe && capture === 0
        ? hash64(JSON.stringify([
          SUBTREES_FORMAT,
          rule,
          path,
          walk.realBase,
          walk.maxDepth,
          walk.type,
          policy,
          fs.maxHashBytes,
          fileFingerprint("", null, null, null, rule),
          accountsKey,
        ]))
        : undefined;
      const hooks = context !== undefined ? subtrees!.walk(context, same) : undefined;
      reports.push(
        await posix.walk({ ...walk, budget, ops, signal, scope, readAhead, begun, subtrees: hooks }, (f) => {
          // Aborted: stop at this entry (the walker itself looks every thousand; a rescan hashes nothing).
          signal.throwIfAborted();
          if (sinkError) throw sinkError;
          if (dedupe) {
            if (seen.has(f.path)) return; // an earlier entry already reports it
            seen.add(f.path);
          }
          if (f.error) {
            errors.push({ path: f.path, error: f.error });
            const base = f.stat.mode ? fromStat(f.path, f.stat, accounts, rule, f.linkTarget) : undefined;
            return emit(out.add(errorItem(f.path, rule, f.error, base)));
          }
          const before = previous?.get(f.path);
          if (accounts.unknown) {
            // An account file cannot be read: a name looked up now would read as none, and every file as
            // Modified. A file still the version stored keeps its stored item, names included; one that moved
            // cannot be said whole, so it is kept as last seen (like an unreadable file) and its change is
            // reported by the first run that can read the names.
            if (
              before !== undefined && sameVersion(before, statKey(f.stat), capturePolicyKey(f.path, policy))
            ) {
              reused++;
              return emit(out.same(f.path));
            }
            namesUnknown.push(f.path);
            return emit(out.add(errorItem(
              f.path,
              rule,
              `owner and group names unknown: ${accounts.unknown}`,
              fromStat(f.path, f.stat, accounts, rule, f.linkTarget),
            )));
          }
          const regular = (f.stat.mode & libc.S_IFMT) === libc.S_IFREG &&
            !(rule.links === "Manage" && f.linkTarget);
          // The same fingerprint as last time: the stored item holds, nothing is built or hashed (nor the
          // fingerprint: compared, not made). A file to hash gets its fingerprint from the version hashed;
          // otherwise it is taken now.
          let print: string | undefined;
          if (before !== undefined || !regular) {
            const policyKey = capturePolicyKey(f.path, policy);
            const owner = accounts.users.get(f.stat.uid) ?? null,
              group = accounts.groups.get(f.stat.gid) ?? null;
            if (
              before !== undefined &&
              isFingerprintOf(before, f.stat, owner, group, f.linkTarget, rule, policyKey)
            ) {
              reused++;
              return emit(out.same(f.path));
            }
            if (!regular) {
              print = fileFingerprint(statKey(f.stat), owner, group, f.linkTarget, rule, policyKey);
            }
          }
          if (!regular) {
            // Read after the stat: an ACL changed in between is newer than the stat, and the next run,
            // seeing another ctime, reads it again. A symlink itself has no ACL.
            let acls: string | null = null;
            try {
              if ((f.stat.mode & libc.S_IFMT) !== libc.S_IFLNK) {
                acls = formatAccessAcl(f.stat.mode, posix.readAcl(f.dirfd, f.name, f.follow), names);
              }
            } catch (e) {
              const base = fromStat(f.path, f.stat, accounts, rule, f.linkTarget);
              const error = `${f.path}: ${(e as Error).message}`;
              errors.push({ path: f.path, error });
              return emit(out.add(errorItem(f.path, rule, error, base)));
            }
            return emit(out.add(fromStat(f.path, f.stat, accounts, rule, f.linkTarget, acls), print));
          }
          return hash(f, rule, policy, capture);
        }),
      );
    }
    // The files written a moment ago: after a pause (the event loop free), each that settled is hashed here;
    // one still being written after a few pauses is hashed anyway (hashing waits for it, as the workers do).
    for (let round = 1; settling.length; round++) {
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      signal.throwIfAborted();
      const still: typeof settling = [];
      for (const s of settling) {
        if (round < SETTLE_ROUNDS && posix.racy(posix.statFd(s.fd), Date.now())) still.push(s);
        else {
          s.taken = true; // hashing closes its fd, even when what follows it throws
          await s.hash();
        }
      }
      settling = still;
    }
    await pool.drain();
    if (pool.fallback) {
      warnings.push(
        `hash workers could not start (${pool.fallback}); files were hashed on the main thread, one core`,
      );
    }
  } finally {
    for (const s of settling) if (!s.taken) ops.close(s.fd);
    await pool.close();
  }

  // What the walk could not see or cut, said once per kind.
  reportCuts(reports, { contentCut: budgetOfContent.cut, errors, tooBig }, fs, { unseen, warnings });
  // What was not stored whole is tried again next time: no subtree holding it is kept.
  for (const e of errors) subtrees?.unclean(e.path);
  for (const p of tooBig) subtrees?.unclean(p);
  for (const p of namesUnknown) subtrees?.unclean(p);
  if (namesUnknown.length) {
    warnings.push(
      `owner and group names unknown (${accounts.unknown}): ${namesUnknown.length} changed or new entries kept as last seen until they can be read: ${
        some(namesUnknown)
      }`,
    );
  }
  await Promise.all(writing);
  if (sinkError) throw sinkError;
  log.debug("files collected", {
    items,
    hashed,
    reused,
    errors: errors.length,
    hashWorkers: pool.running,
    // A walk's thread begun before the run's turn, and taken by its walk.
    begunAhead: begun?.taken ?? false,
    // Subtrees gone past unchanged (their items are in `reused`).
    subtreesSkipped,
  });
  // A next run that reads ahead (as many items stored as found now) begins its first walk's thread before its turn
  // (beginFiles), and goes past the subtrees kept.
  const start = readsAhead(items) ? reports.find((r) => r.readAheadFrom)?.readAheadFrom : undefined;
  const kept = start && subtrees?.kept();
  const next: LastRun | undefined = start && (kept ? { start, subtrees: kept } : { start });
  return { ...output.result(unseen, warnings), ahead: next && JSON.stringify(next) };
}

/**
 * Changes when what a kept subtree's context or digest covers, or how the digest is made, does: the subtrees kept
 * before are then unused.
 */
const SUBTREES_FORMAT = 2;

/** What a run leaves the next (Collected.ahead): where its first walk's thread begins, the subtrees it kept. */
interface LastRun {
  start?: ReadAheadStart;
  subtrees?: unknown;
}

/** What the last run left (`ahead`): nothing from text that is not that. */
function lastRun(ahead: string | undefined): LastRun {
  if (!ahead) return {};
  let v: unknown;
  try {
    v = JSON.parse(ahead);
  } catch {
    return {};
  }
  // Before subtrees were kept, the start alone.
  const r: LastRun = isReadAheadStart(v) ? { start: v } : v as LastRun;
  if (typeof r !== "object" || r === null || !isReadAheadStart(r.start)) return {};
  const { path, real, follow, depth, maxDepth } = r.start;
  return { start: { path, real, follow, depth, maxDepth }, subtrees: r.subtrees };
}

/** Begins the read-ahead thread where `ahead` says the last run's first walk's begins; undefined: none begun. */
export function beginFiles(ahead: string, host: Host): Begun | undefined {
  const posix = host.files.posix;
  if (host.os !== "linux" || !posix) return undefined;
  const { start, subtrees } = lastRun(ahead);
  return start && posix.beginReadAhead(start, { kept: new Subtrees(subtrees).all() });
}

export function filesCollector(opts: FilesOptions = {}): Collector<FileItem> {
  return implement(spec, (settings, ctx) => collectFiles(settings, ctx, opts), {
    targets: fileTargets,
    begin: beginFiles,
  });
}

export default filesCollector();
