// Walks the tree one fileInfo rule covers: directory fds + *at() calls, symlink modes, loop detection, limits.
import {
  type KeyOrderedDescents,
  keyOrderedDescents,
  walkLimits,
  type WalkOptionsBase,
  type WalkReport,
} from "./walk_limits.ts";
import { hasHighUnits, keyOrder, plainKeyOrder } from "../../key_order.ts";
import * as libc from "./libc_posix.ts";
import { type DirEntry, type Stat, SysError } from "./libc_posix.ts";
import { bytesToPath, pathToBytes } from "./names.ts";
import { entryDigest, EntrySum, keptDigest, SubtreeDigest } from "./listing_ring.ts";
import {
  type BegunReadAhead,
  DELEGATED,
  ReadAhead,
  type ReadAheadOptions,
  type ReadAheadStart,
} from "./read_ahead.ts";

/** The file-system calls the walker makes: libc by default, wrapped in tests to inject failures. */
export interface FsOps {
  openAt(dirfd: number, name: Uint8Array<ArrayBuffer>, flags: number): number;
  close(fd: number): void;
  statAt(dirfd: number, name: Uint8Array<ArrayBuffer>, follow: boolean): Stat;
  readDirFd(fd: number): DirEntry[];
  readLinkAt(dirfd: number, name: Uint8Array<ArrayBuffer>): Uint8Array;
}

export const LIBC_OPS: FsOps = {
  openAt: libc.openAt,
  close: libc.close,
  statAt: libc.statAt,
  readDirFd: libc.readDirFd,
  readLinkAt: libc.readLinkAt,
};

/**
 * One matching entry. `dirfd` and `name` are valid only until the callback's promise settles. Reading `dirfd` may
 * open the directory (one whose listing was read ahead is opened only when asked), and then throws when the
 * directory there is no longer the one listed.
 */
export interface Found {
  path: string;
  readonly dirfd: number;
  name: Uint8Array<ArrayBuffer>;
  /** What is reported: the target's stat for a followed link, the entry's own otherwise. */
  stat: Stat;
  /** The link's target when the entry is a symlink. */
  linkTarget: string | null;
  /** Whether opening `name` must follow a symlink (Follow mode). */
  follow: boolean;
  /** Why the entry could not be read (it is still reported). */
  error?: string;
}

/**
 * What a walk asks of a subtree its read-ahead thread read whole (read_ahead.ts subtree()), before it reads it:
 * whether everything it would report there is as stored. Given only for a walk whose items depend on nothing but
 * the names and stats below a directory and the walk's settings.
 */
export interface SubtreeHooks {
  /** The digest the subtree of the directory `path` had when it was kept, and how many entries are under it. */
  kept(path: string): readonly [digest: string, items: number] | undefined;
  /** Every subtree kept: paths and entries under each (the thread leaves some to the walk to read). */
  all(): [string, number][];
  /** The walk goes past `path` (kept and unchanged): its `items` entries are as stored. False: walk it after all. */
  skipped(path: string, items: number): boolean;
  /** The walk went through `path` (its digest `digest`), reporting `items` entries there, nothing cut or unseen. */
  walked(path: string, digest: string, items: number): void;
  /** The fewest entries under a directory for walked() to be told it. */
  minItems: number;
}

export interface WalkOptions extends WalkOptionsBase {
  ops?: FsOps;
  /**
   * Whether a thread reads the tree's listings ahead of the walk (read_ahead.ts): for a whole recursive walk with
   * the libc calls (not a scope's, not through other `ops`). An object: its worker and ring size (tests).
   */
  readAhead?: boolean | ReadAheadOptions;
  /** A thread begun before the walk (read_ahead.ts BegunReadAhead): taken when it begins where this walk does. */
  begun?: BegunReadAhead;
  /**
   * Subtrees read whole, kept for the next walk (their digests read from the thread's END records, or made by the
   * walk where no thread reads ahead); gone past when unchanged (with a thread reading ahead only).
   */
  subtrees?: SubtreeHooks;
}

const isDir = (s: Stat) => (s.mode & libc.S_IFMT) === libc.S_IFDIR;
const isLink = (s: Stat) => (s.mode & libc.S_IFMT) === libc.S_IFLNK;
const errText = (e: unknown) => (e instanceof SysError ? e.code : (e as Error).message);

/**
 * A directory of the walk, as an fd opened when first asked: a directory whose listing was read ahead
 * (read_ahead.ts) is opened only for what the walk does in it besides listing and stat (read a link, open a file).
 */
class Dir {
  #fd: number;
  readonly #open?: () => number;
  /** `fd`: one open already (not closed here); or `open`, called when the fd is first asked. */
  constructor(fd: number, open?: () => number) {
    this.#fd = fd;
    this.#open = open;
  }
  get fd(): number {
    if (this.#fd < 0) this.#fd = this.#open!();
    return this.#fd;
  }
  /** Closes the fd if this opened it. */
  close(ops: FsOps): void {
    if (this.#fd >= 0 && this.#open) ops.close(this.#fd);
  }
}

/**
 * The digest of a directory's subtree made by the walk as it goes, where no thread reads ahead (a first scan): the
 * one the thread puts in its END record (tree_reader.ts), so that the next run, which reads ahead, goes past the
 * subtree unchanged. Each entry's own digest (entryDigest) summed as the walk stats it, then its subdirectories'
 * digests in key order; none when the walk did not stat every entry or read every subdirectory whole.
 */
class WalkDigest {
  readonly #entries: DirEntry[];
  readonly #sum = new EntrySum();
  #dirs = 0;
  readonly #subs: { key: string; digest: SubtreeDigest | null }[] = [];
  static readonly #entry = new SubtreeDigest();

  constructor(entries: DirEntry[]) {
    this.#entries = entries;
  }

  /** The statx of the `i`th entry (`words`: libc's last, as 32-bit words). */
  stat(i: number, words: Int32Array): void {
    const e = this.#entries[i];
    this.#sum.add(entryDigest(WalkDigest.#entry, e.name, 0, e.name.length - 1, e.type, words));
    // stx_mode: the low half of word 7.
    if ((words[7] & libc.S_IFMT) === libc.S_IFDIR) this.#dirs++;
  }

  /** The digest of the subdirectory `name`'s subtree (null: not read whole). */
  sub(name: string, digest: SubtreeDigest | null): void {
    this.#subs.push({ key: name + "/", digest });
  }

  /** The subtree's digest, once its subdirectories are done; null when the walk did not read it all. */
  done(): SubtreeDigest | null {
    // Every entry stat'ed here (once each), every subdirectory read (one past the deepest the walk enters is a cut:
    // no subtree above it is kept anyway).
    if (this.#sum.count !== this.#entries.length || this.#subs.length !== this.#dirs) return null;
    const d = new SubtreeDigest();
    d.entries(this.#sum);
    this.#subs.sort((a, b) => keyOrder(a.key, b.key));
    for (const s of this.#subs) {
      if (s.digest === null) return null;
      d.digest(s.digest);
    }
    return d;
  }
}

/** A Found whose `dirfd` is its directory's, asked when read. */
class FoundIn implements Found {
  constructor(
    readonly dir: Dir,
    readonly path: string,
    readonly name: Uint8Array<ArrayBuffer>,
    readonly stat: Stat,
    readonly linkTarget: string | null,
    readonly follow: boolean,
    readonly error?: string,
  ) {}
  get dirfd(): number {
    return this.dir.fd;
  }
}

export async function walk(
  opts: WalkOptions,
  onFound: (f: Found) => void | Promise<void>,
): Promise<WalkReport> {
  const ops = opts.ops ?? LIBC_OPS;
  const { rule, links, recurse, budget } = opts;
  const wantFiles = opts.type !== "Directory";
  const wantDirs = opts.type !== "File";
  const limits = walkLimits({ sep: "/", maxDepth: opts.maxDepth, budget, errText, scope: opts.scope });
  const { report, join, unreadable } = limits;
  let ticks = 0;
  let ahead: ReadAhead | undefined;

  /** Entries reported (those of subtrees gone past too). */
  let reported = 0;
  // Not async: a promise per entry only when onFound makes one.
  const found = (f: Found): void | Promise<void> => {
    if (!limits.take(f.path)) return;
    reported++;
    return onFound(f);
  };
  const subtrees = opts.subtrees;
  // A subtree that holds a symlink is kept unless the walk follows links (it would report the target's stat).
  const linksAnyway = links !== "Follow";
  // Without a thread reading ahead, the walk makes the digests of the subtrees it goes through itself (WalkDigest);
  // not those of linked directories (Follow) walked after the tree, which the next run's thread never reads.
  let digesting = subtrees !== undefined && !opts.readAhead && !opts.scope && ops === LIBC_OPS;

  /** Linked directories (Follow) walked after the real tree, so a file is reported under its real path. */
  const deferred: { path: string; depth: number; matchAll: boolean }[] = [];
  const realPath = (path: string) =>
    rule.base === "/" ? join(opts.realBase, path.slice(1)) : opts.realBase + path.slice(rule.base.length);

  /**
   * Walks the directory `st` at `path` (opened by `open`), unless a limit or a loop says no. Its listing read
   * ahead, it is opened only when the walk needs its fd, and must then still be the directory `st` is. Returns the
   * digest of its subtree where the walk made it (WalkDigest), else null.
   */
  const descend = async (
    open: () => number,
    path: string,
    st: Stat,
    depth: number,
    matchAll: boolean,
  ): Promise<SubtreeDigest | null> => {
    if (!limits.enter(path, depth, `${st.dev}:${st.ino}`)) return null;
    // A subtree kept by the last run and read whole again, the same: gone past. The thread reads it (its END in the
    // ring), or leaves it to the walk, which reads it here while the thread reads on (DELEGATED). Not one the ring
    // cannot hold (a first scan keeps every subtree it walked whole): the walk would wait for its END in vain.
    const kept = ahead && subtrees?.kept(path);
    if (kept && limits.fits(kept[1]) && ahead!.mayHold(kept[1])) {
      const entered: string[] = [];
      let digest = ahead!.subtree(path, st, linksAnyway);
      const here = digest === DELEGATED;
      if (here) {
        digest = readHere(open, st, path, (fd) => ahead!.digestHere(fd, path, depth, linksAnyway, entered));
      }
      if (digest === kept[0] && subtrees!.skipped(path, kept[1])) {
        limits.takeAll(kept[1]);
        reported += kept[1];
        if (here) { for (const id of entered) limits.visit(id); }
        else ahead!.skipSubtree(path, limits.visit);
        return null;
      }
    }
    const before = reported, cuts = limits.cuts();
    const listed = ahead?.listing(path, st);
    const dir = new Dir(-1, listed ? () => same(open(), st, path) : open);
    if (!listed) {
      try {
        dir.fd;
      } catch (e) {
        unreadable(path, e);
        return null;
      }
    }
    let made: SubtreeDigest | null;
    try {
      made = await listDir(dir, path, depth, matchAll, listed);
    } finally {
      dir.close(ops);
    }
    // Walked with the thread's listings, or by itself making the digest, nothing cut: kept if all of it was read.
    if (subtrees && reported - before >= subtrees.minItems && limits.cuts() === cuts) {
      const digest = listed ? ahead!.walked(path, st, linksAnyway) : keptDigest(made, linksAnyway);
      if (digest !== undefined) subtrees.walked(path, digest, reported - before);
    }
    return made;
  };

  /** What `read` makes of the directory `st` (at `path`, opened by `open`) opened here; undefined if it cannot be. */
  const readHere = <T>(
    open: () => number,
    st: Stat,
    path: string,
    read: (fd: number) => T,
  ): T | undefined => {
    let fd: number;
    try {
      fd = same(open(), st, path);
    } catch {
      return undefined;
    }
    try {
      return read(fd);
    } finally {
      ops.close(fd);
    }
  };

  /** `fd`, when it is the directory `st` is; else it is closed, and the error says the directory changed. */
  const same = (fd: number, st: Stat, path: string): number => {
    let now: Stat;
    try {
      now = libc.fstat(fd);
    } catch (e) {
      ops.close(fd);
      throw e;
    }
    if (now.dev === st.dev && now.ino === st.ino) return fd;
    ops.close(fd);
    throw new Error(`${path}: another directory since it was listed`);
  };

  /**
   * Examines one entry (`nameStr`) of an open directory; a directory to walk is entered through `later`. A
   * file is reported here; the rest (links, directories, errors) by visitOther.
   */
  const visit = (
    dir: Dir,
    name: Uint8Array<ArrayBuffer>,
    nameStr: string,
    path: string,
    depth: number,
    matched: boolean,
    walkInside: boolean,
    matchAll: boolean,
    later: KeyOrderedDescents,
    known?: Stat,
    here?: WalkDigest,
    index = 0,
  ): void | Promise<void> => {
    let st: Stat;
    try {
      st = known ?? ops.statAt(dir.fd, name, false);
    } catch (e) {
      return visitOther(dir, name, nameStr, path, null, e, depth, matched, walkInside, matchAll, later);
    }
    here?.stat(index, libc.lastStatWords());
    if (isLink(st) || isDir(st)) {
      return visitOther(
        dir,
        name,
        nameStr,
        path,
        st,
        null,
        depth,
        matched,
        walkInside,
        matchAll,
        later,
        here,
      );
    }
    if (matched && wantFiles) return found(new FoundIn(dir, path, name, st, null, links === "Follow"));
  };

  /** visit() of an entry that is a link or a directory (`st`), or whose stat failed (`failed`). */
  const visitOther = async (
    dir: Dir,
    name: Uint8Array<ArrayBuffer>,
    nameStr: string,
    path: string,
    stat: Stat | null,
    failed: unknown,
    depth: number,
    matched: boolean,
    walkInside: boolean,
    matchAll: boolean,
    later: KeyOrderedDescents,
    here?: WalkDigest,
  ) => {
    if (stat === null) {
      const code = errText(failed);
      if (code === "ENOENT") return; // gone since it was listed
      if (matched) {
        await found(new FoundIn(dir, path, name, emptyStat(), null, false, code));
      }
      // It may be a directory the walk would enter: what is below it is unseen, never gone.
      if (walkInside) unreadable(path, failed);
      return;
    }
    let st = stat;
    let linkTarget: string | null = null;
    if (isLink(st)) {
      if (links === "Ignore") return;
      try {
        linkTarget = bytesToPath(ops.readLinkAt(dir.fd, name));
      } catch (e) {
        linkTarget = null;
        if (matched && wantFiles) {
          await found(new FoundIn(dir, path, name, st, linkTarget, false, errText(e)));
        }
        return;
      }
      if (links === "Manage") {
        if (matched && wantFiles) await found(new FoundIn(dir, path, name, st, linkTarget, false));
        return;
      }
      try {
        st = ops.statAt(dir.fd, name, true);
      } catch (e) {
        // Dangling or looping link: reported as the link itself (its target says where it points). A target
        // that is there but cannot be read may be a directory the walk would enter: unseen below the link.
        if (matched && wantFiles) await found(new FoundIn(dir, path, name, st, linkTarget, false));
        const code = errText(e);
        if (walkInside && code !== "ENOENT" && code !== "ENOTDIR" && code !== "ELOOP") unreadable(path, e);
        return;
      }
    }
    if (isDir(st)) {
      if (walkInside && linkTarget !== null) {
        if (matched && wantDirs) await found(new FoundIn(dir, path, name, st, linkTarget, true));
        deferred.push({ path, depth: depth + 1, matchAll });
      } else if (walkInside) {
        await descendAndReport(dir, name, nameStr, path, st, depth + 1, matchAll, matched, later, here);
      } else if (matched && wantDirs) await found(new FoundIn(dir, path, name, st, linkTarget, true));
      return;
    }
    if (matched && wantFiles) await found(new FoundIn(dir, path, name, st, linkTarget, links === "Follow"));
  };

  /**
   * A directory that is both walked and maybe reported: reported now, with the open error if any, and walked
   * where its contents' keys sort (the listing's directory and the name stay valid until then).
   */
  const descendAndReport = async (
    dir: Dir,
    name: Uint8Array<ArrayBuffer>,
    nameStr: string,
    path: string,
    st: Stat,
    depth: number,
    matchAll: boolean,
    matched: boolean,
    later: KeyOrderedDescents,
    here?: WalkDigest,
  ) => {
    let error: string | undefined;
    if (matched && wantDirs) {
      // Probe readability so an unreadable directory's item carries the error.
      try {
        ops.close(ops.openAt(dir.fd, name, libc.O_RDONLY | libc.O_DIRECTORY | libc.O_NONBLOCK));
      } catch (e) {
        error = errText(e);
      }
      await found(new FoundIn(dir, path, name, st, null, true, error));
    }
    const flags = libc.O_RDONLY | libc.O_DIRECTORY | libc.O_NONBLOCK | libc.O_NOFOLLOW;
    later.defer(nameStr, async () => {
      const digest = await descend(() => ops.openAt(dir.fd, name, flags), path, st, depth, matchAll);
      here?.sub(nameStr, digest);
    });
  };

  /**
   * Walks the entries of `dir`: `listed`, as read ahead, or as listed now. Returns the digest of its subtree where
   * the walk makes them (WalkDigest), else null.
   */
  const listDir = async (
    dir: Dir,
    path: string,
    depth: number,
    matchAll: boolean,
    listed?: DirEntry[],
  ): Promise<SubtreeDigest | null> => {
    let entries: DirEntry[];
    try {
      entries = listed ?? ops.readDirFd(dir.fd);
    } catch (e) {
      unreadable(path, e);
      return null;
    }
    const here = digesting && !listed ? new WalkDigest(entries) : undefined;
    // In key order, so the run reads its stored fingerprints front to back.
    const wanted: {
      name: Uint8Array<ArrayBuffer>;
      nameStr: string;
      matched: boolean;
      stat?: Stat;
      index: number;
    }[] = [];
    let high = false;
    // Indexed loops: this one runs for every entry of every directory, in an async function.
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      const nameStr = bytesToPath(e.name.subarray(0, e.name.length - 1));
      const matched = matchAll || rule.test(nameStr);
      const maybeDir = e.type === libc.DT_DIR || e.type === libc.DT_UNKNOWN ||
        (e.type === libc.DT_LNK && links === "Follow");
      if (matched || (recurse && maybeDir)) {
        wanted.push({ name: e.name, nameStr, matched, stat: e.stat, index: i });
        high ||= hasHighUnits(nameStr);
      }
    }
    // Names with no unit where the orders part (nearly all) are compared as JavaScript compares them.
    const order = high ? keyOrder : plainKeyOrder;
    wanted.sort((a, b) => order(a.nameStr, b.nameStr));
    const later = keyOrderedDescents("/", order);
    for (let i = 0; i < wanted.length; i++) {
      const w = wanted[i];
      if ((++ticks & 1023) === 0) opts.signal?.throwIfAborted();
      const at = join(path, w.nameStr);
      const s = limits.scoped(at, w.matched, recurse);
      if (!s) continue;
      const entered = later.before(w.nameStr);
      if (entered) await entered;
      const visited = visit(
        dir,
        w.name,
        w.nameStr,
        at,
        depth,
        s.matched,
        s.inside,
        matchAll,
        later,
        w.stat,
        here,
        w.index,
      );
      if (visited) await visited;
    }
    await later.before(null);
    return here?.done() ?? null;
  };

  // The base directory: always resolved through symlinks (it is where the rule points).
  opts.signal?.throwIfAborted();
  let baseFd: number;
  try {
    baseFd = ops.openAt(
      libc.AT_FDCWD,
      libc.cstr(pathToBytes(opts.realBase)),
      libc.O_RDONLY | libc.O_DIRECTORY | libc.O_NONBLOCK,
    );
  } catch (e) {
    const code = errText(e);
    if (code !== "ENOENT" && code !== "ENOTDIR") {
      // Nothing under the base could be seen: for a literal path, only that path is unseen.
      limits.baseUnreadable(rule, code);
    }
    return report;
  }
  if (recurse && !opts.scope && ops === LIBC_OPS) {
    // Where a thread reading the listings ahead begins (whether this walk has one or not): the walk's first
    // directory, the base of a pattern or the literal path's directory.
    const start: ReadAheadStart = rule.pattern
      ? { path: rule.base, real: opts.realBase, follow: true, depth: 0, maxDepth: opts.maxDepth }
      : {
        path: join(rule.base, rule.segment),
        real: join(opts.realBase, rule.segment),
        follow: false,
        depth: 1,
        maxDepth: opts.maxDepth,
      };
    report.readAheadFrom = start;
    if (opts.readAhead) {
      const kept = subtrees?.all();
      ahead = opts.begun?.take(start) ??
        new ReadAhead(start, { ...(opts.readAhead === true ? {} : opts.readAhead), kept });
    }
  }
  try {
    const bs = libc.fstat(baseFd);
    limits.visit(`${bs.dev}:${bs.ino}`);
    if (rule.pattern) {
      if (limits.scoped(rule.base, false, true)) {
        await listDir(new Dir(baseFd), rule.base, 0, false, ahead?.take(rule.base, baseFd));
      }
    } else {
      // A literal path: the file itself, or a directory's contents (everything in it; recursively with recurse).
      const name = libc.cstr(pathToBytes(rule.segment));
      const path = join(rule.base, rule.segment);
      const later = keyOrderedDescents("/");
      const s = limits.scoped(path, true, true);
      if (s) await visit(new Dir(baseFd), name, rule.segment, path, 0, s.matched, s.inside, true, later);
      await later.before(null);
    }
  } finally {
    ahead?.stop();
    ahead = undefined;
    ops.close(baseFd);
  }
  digesting = false;
  while (deferred.length) {
    const d = deferred.shift()!;
    const real = libc.cstr(pathToBytes(realPath(d.path)));
    let st: Stat;
    try {
      st = ops.statAt(libc.AT_FDCWD, real, true);
    } catch (e) {
      unreadable(d.path, e);
      continue;
    }
    const flags = libc.O_RDONLY | libc.O_DIRECTORY | libc.O_NONBLOCK;
    await descend(() => ops.openAt(libc.AT_FDCWD, real, flags), d.path, st, d.depth, d.matchAll);
  }
  return report;
}

function emptyStat(): Stat {
  return {
    mode: 0,
    uid: 0,
    gid: 0,
    nlink: 0,
    ino: "0",
    dev: "0:0",
    size: 0,
    blocks: 0,
    mtimeSec: 0,
    mtimeNsec: 0,
    ctimeSec: 0,
    ctimeNsec: 0,
    btimeSec: null,
    btimeNsec: 0,
  };
}
