// Walks one fileInfo rule's tree with Deno.readDir/lstat/stat (no libc): the Windows path, or anywhere FFI is not.
import {
  type KeyOrderedDescents,
  keyOrderedDescents,
  walkLimits,
  type WalkOptionsBase,
  type WalkReport,
} from "./walk_limits.ts";
import { keyOrder } from "../../key_order.ts";

/** The file-system calls the portable walker makes (tests wrap them to inject failures). */
export interface PortableOps {
  readDir(path: string): AsyncIterable<Deno.DirEntry> | Iterable<Deno.DirEntry>;
  lstat(path: string): Promise<Deno.FileInfo>;
  stat(path: string): Promise<Deno.FileInfo>;
  readLink(path: string): Promise<string>;
  realPath(path: string): Promise<string>;
  /** Opens a file for hashing. */
  open(path: string): Promise<OpenFile>;
}

/** What hashing needs of an open file (Deno.FsFile is one). */
export interface OpenFile {
  stat(): Promise<Deno.FileInfo>;
  /** Reads into `buf`; the byte count, or null at the end. */
  read(buf: Uint8Array): Promise<number | null>;
  close(): void;
}

export const DENO_OPS: PortableOps = {
  readDir: (p) => Deno.readDir(p),
  lstat: (p) => Deno.lstat(p),
  stat: (p) => Deno.stat(p),
  readLink: (p) => Deno.readLink(p),
  realPath: (p) => Deno.realPath(p),
  open: (p) => Deno.open(p, { read: true }),
};

/** One matching entry. */
export interface PortableFound {
  /** The machine path (the key). */
  path: string;
  /** The path to read (the host root applied). */
  real: string;
  /** What is reported: the target's info for a followed link, the entry's own otherwise. */
  info: Deno.FileInfo | null;
  linkTarget: string | null;
  /** Why the entry could not be read (it is still reported). */
  error?: string;
}

export interface PortableWalkOptions extends WalkOptionsBase {
  /** The separator of machine paths (keys): "\\" for a Windows host, "/" otherwise. */
  sep: string;
  /** The separator of real paths (default: the running OS's). */
  realSep?: string;
  ops?: PortableOps;
}

/** The error's code (ENOENT, EACCES, …) when Deno gives one, its message otherwise. */
export const errText = (e: unknown): string =>
  (e as { code?: string }).code ?? (e instanceof Deno.errors.NotFound ? "ENOENT" : (e as Error).message);

const isGone = (e: unknown) => e instanceof Deno.errors.NotFound || errText(e) === "ENOENT";

export async function walkPortable(
  opts: PortableWalkOptions,
  onFound: (f: PortableFound) => void | Promise<void>,
): Promise<WalkReport> {
  const ops = opts.ops ?? DENO_OPS;
  const { rule, links, recurse, budget, sep } = opts;
  const wantFiles = opts.type !== "Directory";
  const wantDirs = opts.type !== "File";
  const limits = walkLimits({ sep, maxDepth: opts.maxDepth, budget, errText, scope: opts.scope });
  const { report, join, unreadable } = limits;
  const realSep = opts.realSep ?? (Deno.build.os === "windows" ? "\\" : "/");
  const joinReal = (dir: string, name: string) => dir.endsWith(realSep) ? dir + name : dir + realSep + name;
  let ticks = 0;

  const found = async (f: PortableFound) => {
    if (limits.take(f.path)) await onFound(f);
  };

  /** A directory's identity for loop detection: its resolved path (ino/dev are not always known). */
  const identity = async (real: string) => {
    try {
      return (await ops.realPath(real)).toLowerCase();
    } catch {
      return real.toLowerCase();
    }
  };

  /** Linked directories (Follow), walked once the real tree is. */
  const deferred: { path: string; real: string; depth: number; matchAll: boolean }[] = [];
  const descend = async (path: string, real: string, depth: number, matchAll: boolean) => {
    if (!limits.enter(path, depth, await identity(real))) return;
    await listDir(path, real, depth, matchAll);
  };

  /** Examines one entry (`name`); a directory to walk is entered through `later`, where its keys sort. */
  const visit = async (
    name: string,
    path: string,
    real: string,
    depth: number,
    matched: boolean,
    walkInside: boolean,
    matchAll: boolean,
    later: KeyOrderedDescents,
  ) => {
    let info: Deno.FileInfo;
    try {
      info = await ops.lstat(real);
    } catch (e) {
      if (isGone(e)) return;
      if (matched) await found({ path, real, info: null, linkTarget: null, error: errText(e) });
      // It may be a directory the walk would enter: what is below it is unseen, never gone.
      if (walkInside) unreadable(path, e);
      return;
    }
    let linkTarget: string | null = null;
    if (info.isSymlink) {
      if (links === "Ignore") return;
      try {
        linkTarget = await ops.readLink(real);
      } catch (e) {
        if (matched && wantFiles) await found({ path, real, info, linkTarget: null, error: errText(e) });
        return;
      }
      if (links === "Manage") {
        if (matched && wantFiles) await found({ path, real, info, linkTarget });
        return;
      }
      try {
        info = await ops.stat(real);
      } catch (e) {
        // Dangling or looping link: reported as the link itself. A target that is there but cannot be read
        // may be a directory the walk would enter: unseen below the link.
        if (matched && wantFiles) await found({ path, real, info, linkTarget });
        const looping = (e as { code?: string }).code === "ELOOP" || e instanceof Deno.errors.NotADirectory;
        if (walkInside && !isGone(e) && !looping) unreadable(path, e);
        return;
      }
    }
    if (info.isDirectory) {
      if (matched && wantDirs) {
        let error: string | undefined;
        if (walkInside) {
          // Probe readability so an unreadable directory's item carries the error.
          try {
            const it = ops.readDir(real);
            if (Symbol.asyncIterator in it) {
              await (it as AsyncIterable<Deno.DirEntry>)[Symbol.asyncIterator]().next();
            }
          } catch (e) {
            error = errText(e);
          }
        }
        await found({ path, real, info, linkTarget, error });
      }
      // A linked directory is walked after the real tree (as the libc walker does), so a file is reported under
      // its real path whatever the order of names, and a walk of part of the tree finds it under the same one.
      if (walkInside && linkTarget !== null) deferred.push({ path, real, depth: depth + 1, matchAll });
      else if (walkInside) later.defer(name, () => descend(path, real, depth + 1, matchAll));
      return;
    }
    if (matched && wantFiles) await found({ path, real, info, linkTarget });
  };

  const listDir = async (path: string, real: string, depth: number, matchAll: boolean) => {
    const names: { name: string; maybeDir: boolean }[] = [];
    try {
      for await (const e of ops.readDir(real)) {
        names.push({ name: e.name, maybeDir: e.isDirectory || (e.isSymlink && links === "Follow") });
      }
    } catch (e) {
      unreadable(path, e);
      return;
    }
    // In key order, so the run reads its stored fingerprints front to back.
    names.sort((a, b) => keyOrder(a.name, b.name));
    const later = keyOrderedDescents(sep);
    for (const { name, maybeDir } of names) {
      if ((++ticks & 1023) === 0) opts.signal?.throwIfAborted();
      const matched = matchAll || rule.test(name);
      if (!matched && !(recurse && maybeDir)) continue;
      const at = join(path, name);
      const s = limits.scoped(at, matched, recurse);
      if (!s) continue;
      await later.before(name);
      await visit(name, at, joinReal(real, name), depth, s.matched, s.inside, matchAll, later);
    }
    await later.before(null);
  };

  opts.signal?.throwIfAborted();
  let baseInfo: Deno.FileInfo;
  try {
    baseInfo = await ops.stat(opts.realBase);
    if (!baseInfo.isDirectory) return report;
  } catch (e) {
    if (!isGone(e) && !(e instanceof Deno.errors.NotADirectory)) {
      limits.baseUnreadable(rule, errText(e));
    }
    return report;
  }
  limits.visit(await identity(opts.realBase));
  if (rule.pattern) {
    if (limits.scoped(rule.base, false, true)) await listDir(rule.base, opts.realBase, 0, false);
  } else {
    // A literal path: the file itself, or a directory's contents (recursively with recurse).
    const later = keyOrderedDescents(sep);
    const path = join(rule.base, rule.segment), real = joinReal(opts.realBase, rule.segment);
    const s = limits.scoped(path, true, true);
    if (s) await visit(rule.segment, path, real, 0, s.matched, s.inside, true, later);
    await later.before(null);
  }
  while (deferred.length) {
    const d = deferred.shift()!;
    await descend(d.path, d.real, d.depth, d.matchAll);
  }
  return report;
}
