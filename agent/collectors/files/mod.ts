// The files collector: DCR fileInfo rules → one item per matching path, with a streamed SHA-256 (Linux: libc
// walker + hash workers; Windows, or with `portable`: portable.ts).
import type { CollectContext, Collected, Collector } from "../types.ts";
import type { FileInfo, Settings } from "../../config/dcr.ts";
import * as libc from "./libc.ts";
import type { Stat } from "./libc.ts";
import { parseRule } from "./match.ts";
import { type Found, type FsOps, LIBC_OPS, walk } from "./walk.ts";
import { reportCuts, type WalkReport } from "./report.ts";
import { createHashPool, type HashPool, type HashResult } from "./hash.ts";
import { type Accounts, loadAccounts } from "./accounts.ts";
import type { CapturedContent } from "./content.ts";
import { collectFilesPortable, type PortableOptions } from "./portable.ts";

/** One file, directory, link or special file. Keys are Log Analytics columns where one exists. */
export type FileItem = {
  FileSystemPath: string;
  /** File | Directory | SymbolicLink | Fifo | Socket | CharacterDevice | BlockDevice */
  FileType: string;
  Size: number | null;
  DateCreated: string | null;
  DateModified: string | null;
  /** Permission bits, 4 octal digits ("0644", "4755"). */
  Mode: string | null;
  OwnerId: number | null;
  Owner: string | null;
  GroupId: number | null;
  Group: string | null;
  Inode: string | null;
  LinkTarget: string | null;
  FileContentChecksum: string | null;
  GroupTag: string;
  /** The fileInfo entry (name) that matched. */
  RuleName: string;
  /** Fingerprint of dev, inode, size, mtime, ctime of what was hashed (see statKey). Volatile. */
  StatKey: string | null;
  /** Windows only: file attributes as .NET prints them ("ReadOnly, Archive"); the LA column Attributes. */
  Attributes?: string | null;
  error?: string;
};

const TYPES: Record<number, string> = {
  [libc.S_IFREG]: "File",
  [libc.S_IFDIR]: "Directory",
  [libc.S_IFLNK]: "SymbolicLink",
  [libc.S_IFIFO]: "Fifo",
  [libc.S_IFSOCK]: "Socket",
  [libc.S_IFCHR]: "CharacterDevice",
  [libc.S_IFBLK]: "BlockDevice",
};

const iso = (sec: number, nsec: number) => new Date(sec * 1000 + Math.floor(nsec / 1e6)).toISOString();

/**
 * A short fingerprint of (dev, inode, size, mtime, ctime), nanoseconds included: equal next time means the
 * content was not touched, so the checksum is reused. 64 bits of FNV-1a, compared only for the same path.
 */
export function statKey(s: Stat): string {
  const text = `${s.dev}:${s.ino}:${s.size}:${s.mtimeSec}.${s.mtimeNsec}:${s.ctimeSec}.${s.ctimeNsec}`;
  let h1 = 0x811c9dc5, h2 = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return (h1 >>> 0).toString(36) + "." + (h2 >>> 0).toString(36);
}

// Interned strings: 130k items share a few hundred mode strings instead of each holding its own.
const MODES: string[] = [];
function modeString(mode: number): string {
  const m = mode & 0o7777;
  return MODES[m] ??= m.toString(8).padStart(4, "0");
}

function fromStat(
  path: string,
  s: Stat,
  accounts: Accounts,
  rule: FileInfo,
  linkTarget: string | null,
  sameTimesAs?: FileItem,
): FileItem {
  let modified: string | null, created: string | null;
  if (sameTimesAs) {
    modified = sameTimesAs.DateModified;
    created = sameTimesAs.DateCreated;
  } else {
    modified = iso(s.mtimeSec, s.mtimeNsec);
    const sameMs = s.btimeSec === s.mtimeSec &&
      Math.floor(s.btimeNsec / 1e6) === Math.floor(s.mtimeNsec / 1e6);
    created = s.btimeSec === null ? null : sameMs ? modified : iso(s.btimeSec, s.btimeNsec);
  }
  return {
    FileSystemPath: path,
    FileType: TYPES[s.mode & libc.S_IFMT] ?? "Unknown",
    Size: s.size,
    DateCreated: created,
    DateModified: modified,
    Mode: modeString(s.mode),
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

function sameItem(a: FileItem, b: FileItem): boolean {
  for (const k in a) {
    if ((a as Record<string, unknown>)[k] !== (b as Record<string, unknown>)[k]) return false;
  }
  return Object.keys(a).length === Object.keys(b).length;
}

export interface FilesOptions {
  /** File-system calls (tests inject failures). */
  ops?: FsOps;
  /** Hash workers (default: one per core). */
  workers?: number;
  /** Forces the portable (Deno.readDir, no libc) path, which Windows hosts always take. */
  portable?: boolean;
  /** Options of the portable path. */
  portableOptions?: PortableOptions;
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
  const items: FileItem[] = [];
  const contents: CapturedContent[] = [];
  const rules = fs.fileInfo.filter((r) => r.enabled);
  if (rules.length === 0) return { items, unseen, warnings, contents };
  if (opts.portable || host.os !== "linux" || Deno.build.os !== "linux") {
    return collectFilesPortable(settings, ctx, opts.portableOptions);
  }
  const accounts = await loadAccounts(host);
  warnings.push(...accounts.warnings);
  const ops = opts.ops ?? LIBC_OPS;
  const previous = ctx.previous;
  const budget = { left: fs.maxFiles };
  const seen = new Set<string>();
  let contentBytes = 0;
  const capturedSums = new Set<string>();
  const contentCut: string[] = [];
  let reused = 0;
  let hashed = 0;
  const errors: string[] = [];
  const pool: HashPool = createHashPool({ workers: opts.workers });

  const finishHashed = (
    path: string,
    rule: FileInfo,
    linkTarget: string | null,
    r: HashResult,
    fallback: FileItem,
  ) => {
    if (r.error || !r.checksum || !r.stat) {
      errors.push(path);
      items.push(errorItem(path, rule, r.error ?? "no checksum", fallback));
      return;
    }
    hashed++;
    const s = libc.parseStatx(r.stat);
    const item = fromStat(path, s, accounts, rule, linkTarget);
    item.FileContentChecksum = r.checksum;
    item.StatKey = statKey(s);
    if (r.text !== undefined && !capturedSums.has(r.checksum)) {
      capturedSums.add(r.checksum);
      if (contentBytes + s.size <= fs.maxContentBytes) {
        contentBytes += s.size;
        contents.push({ checksum: r.checksum, text: r.text, size: s.size });
      } else contentCut.push(path);
    }
    items.push(item);
  };

  /** Opens a regular file (while its directory fd is open) and hands it to the pool; waits only for room. */
  const hash = async (
    f: Found,
    rule: FileInfo,
    item: FileItem,
    prev: FileItem | undefined,
    capture: number,
  ) => {
    await pool.room();
    let fd: number;
    try {
      fd = ops.openAt(
        f.dirfd,
        f.name,
        libc.O_RDONLY | libc.O_NONBLOCK | libc.O_NOCTTY | (f.follow ? 0 : libc.O_NOFOLLOW),
      );
    } catch (e) {
      errors.push(f.path);
      items.push(errorItem(f.path, rule, (e as Error).message, item));
      return;
    }
    const linkTarget = f.linkTarget;
    pool.submit({
      fd,
      capture,
      prev: prev?.FileContentChecksum as string | null ?? null,
      size: f.stat.size,
    })
      .then((r) => finishHashed(f.path, rule, linkTarget, r, item));
  };

  const reports: WalkReport[] = [];
  try {
    for (const rule of rules) {
      let parsed;
      try {
        parsed = parseRule(rule.path, "linux");
      } catch (e) {
        warnings.push(`fileInfo ${JSON.stringify(rule.name)}: ${(e as Error).message}; entry skipped`);
        continue;
      }
      warnings.push(...parsed.warnings);
      const capture = rule.links === "Manage" ? 0 : rule.maxContentsReturnable;
      reports.push(
        await walk({
          rule: parsed,
          realBase: host.path(parsed.base),
          recurse: rule.recurse,
          links: rule.links,
          type: rule.type,
          maxDepth: fs.maxDepth,
          budget,
          ops,
          signal,
        }, (f) => {
          if (seen.has(f.path)) return; // an earlier entry already reports it
          seen.add(f.path);
          if (f.error) {
            errors.push(f.path);
            const base = f.stat.mode ? fromStat(f.path, f.stat, accounts, rule, f.linkTarget) : undefined;
            items.push(errorItem(f.path, rule, f.error, base));
            return;
          }
          const prev = previous?.get(f.path) as FileItem | undefined;
          const regular = (f.stat.mode & libc.S_IFMT) === libc.S_IFREG &&
            !(rule.links === "Manage" && f.linkTarget);
          if (!regular) {
            const item = fromStat(f.path, f.stat, accounts, rule, f.linkTarget);
            items.push(prev && sameItem(prev, item) ? prev : item);
            return;
          }
          const key = statKey(f.stat);
          const unchanged = prev && !prev.error && prev.StatKey === key && prev.FileContentChecksum;
          // Unchanged: the previous item's time strings are reused (no formatting, no new strings).
          const item = fromStat(f.path, f.stat, accounts, rule, f.linkTarget, unchanged ? prev : undefined);
          if (unchanged) {
            item.FileContentChecksum = prev.FileContentChecksum;
            item.StatKey = key;
            reused++;
            items.push(sameItem(prev, item) ? prev : item);
            return;
          }
          return hash(f, rule, item, prev, capture);
        }),
      );
    }
    await pool.drain();
    if (pool.fallback) {
      warnings.push(
        `hash workers could not start (${pool.fallback}); files were hashed on the main thread, one core`,
      );
    }
  } finally {
    await pool.close();
  }

  // What the walk could not see or cut, said once per kind.
  reportCuts(reports, { contentCut, errors }, fs, { unseen, warnings });
  log.debug("files collected", { items: items.length, hashed, reused, errors: errors.length });
  items.sort((
    a,
    b,
  ) => (a.FileSystemPath < b.FileSystemPath ? -1 : a.FileSystemPath > b.FileSystemPath ? 1 : 0));
  return { items, unseen, warnings, contents };
}

export function filesCollector(opts: FilesOptions = {}): Collector<FileItem> {
  return {
    name: "files",
    platforms: ["linux", "windows"],
    dataType: () => "Files",
    key: (i) => i.FileSystemPath,
    // Inode and StatKey drive re-hashing; GroupTag and RuleName follow the DCR, not the file.
    volatile: ["Inode", "StatKey", "GroupTag", "RuleName"],
    schedule: (s) => ({ enabled: s.enableFiles, frequency: s.fileSettings.fileCollectionFrequency }),
    collect: (settings, ctx) => collectFiles(settings, ctx, opts),
  };
}
