// The files collector without libc (Windows, or wherever the Linux FFI path is unavailable): walk_portable +
// hash_portable, Windows paths (%VAR%, `\`, case-insensitive glob) and attributes when the host is Windows.
import { reportCuts, type Unreadable } from "./report.ts";
import type { WalkReport } from "../../host/files/walk_limits.ts";
import type { CollectContext, Collected } from "../types.ts";
import type { FileInfo, Settings } from "../../config/dcr.ts";
import { contentBudget, planWalks, walkScope } from "./plan.ts";
import { errText, type PortableOps } from "../../host/files/walk_portable.ts";
import type { FileInfo as PathInfo } from "../../host/mod.ts";
import type { FileItem } from "./item.ts";
import { notHashed } from "../../host/files/limit.ts";
import { fileOutput } from "./output.ts";
import { hash64 } from "../../hash64.ts";
import { formatFileAttributes } from "../../host/files/attributes_windows.ts";
import { captureDecision, type CapturePolicy, capturePolicyKey, uncapturedWhy } from "./capture.ts";

export interface PortableOptions {
  ops?: PortableOps;
  /** Windows attribute bits of a real path (default: the host's, GetFileAttributesW on Windows). */
  attributes?: (real: string) => number | null;
  /** The Acls of a real path (default: the host's, the DACL as SDDL on the live Windows machine). */
  acls?: (real: string) => string;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const ms = (d: Date | null) => (d ? d.getTime() : "");

/** Fingerprint of what a stat gives on every OS: dev, ino, size, mtime, ctime, birthtime. */
export function portableStatKey(i: PathInfo): string {
  return `${i.dev ?? ""}:${i.ino ?? ""}:${i.size}:${ms(i.mtime)}:${ms(i.ctime ?? null)}:${ms(i.birthtime)}`;
}

function fileType(i: PathInfo): string {
  if (i.isSymlink) return "SymbolicLink";
  if (i.isDirectory) return "Directory";
  if (i.isFile) return "File";
  if (i.isFifo) return "Fifo";
  if (i.isSocket) return "Socket";
  if (i.isCharDevice) return "CharacterDevice";
  if (i.isBlockDevice) return "BlockDevice";
  return "Unknown";
}

/**
 * The fingerprint of an item of the portable path: all of it but the checksum and the Acls, its StatKey
 * included (set for regular files), so an equal fingerprint means the stored item still holds: a DACL written
 * moves the change time, which is in the StatKey. "2:" since items have Acls (so each is read once more).
 */
function fingerprint(item: FileItem, capture: string): string {
  const print = "2:" + hash64(JSON.stringify({ ...item, FileContentChecksum: null, Acls: null }));
  return capture ? `${print}:${capture}` : print;
}

export async function collectFilesPortable(
  settings: Settings,
  ctx: CollectContext,
  opts: PortableOptions = {},
): Promise<Collected<FileItem>> {
  const { host, signal, log } = ctx;
  const windows = host.os === "windows";
  const fs = settings.fileSettings;
  const portable = host.files.portable;
  const ops = opts.ops ?? portable.ops;
  const attributes = opts.attributes ?? portable.attributes;
  const acls = opts.acls ?? portable.acls;
  const warnings: string[] = [];
  const unseen: string[] = [];
  const output = fileOutput(ctx);
  const out = output.sink;
  let items = 0;
  const errors: Unreadable[] = [];
  const tooBig: string[] = [];
  const contents = contentBudget(fs.maxContentBytes);
  const seen = new Set<string>();
  const budget = { left: fs.maxFiles };
  const buf = new Uint8Array(1 << 20);
  let hashed = 0, reused = 0;

  const build = (
    path: string,
    real: string,
    rule: FileInfo,
    info: PathInfo | null,
    link: string | null,
  ) => {
    const item: FileItem = {
      FileSystemPath: path,
      FileType: info ? fileType(info) : "Unknown",
      Size: info ? info.size : null,
      DateCreated: info ? iso(info.birthtime) : null,
      DateModified: info ? iso(info.mtime) : null,
      Mode: !windows && info?.mode != null ? (info.mode & 0o7777).toString(8).padStart(4, "0") : null,
      Acls: null,
      OwnerId: windows ? null : info?.uid ?? null,
      Owner: null,
      GroupId: windows ? null : info?.gid ?? null,
      Group: null,
      Inode: info?.ino != null ? String(info.ino) : null,
      LinkTarget: link,
      FileContentChecksum: null,
      GroupTag: rule.groupTag,
      RuleName: rule.name,
      StatKey: null,
    };
    if (attributes) {
      const bits = attributes(real);
      item.Attributes = bits === null ? null : formatFileAttributes(bits);
    }
    return item;
  };
  /**
   * The item, unless its fingerprint is the stored one's: then only that it is the same. Its Acls are read
   * only here, for an item that is new or moved.
   */
  const push = async (item: FileItem, real: string, print: string) => {
    items++;
    if (ctx.previous?.get(item.FileSystemPath) === print) {
      reused++;
      return await out.same(item.FileSystemPath);
    }
    if (acls && item.FileType !== "SymbolicLink") {
      try {
        item.Acls = acls(real);
      } catch (e) {
        const error = `${item.FileSystemPath}: ${errText(e)}`;
        errors.push({ path: item.FileSystemPath, error });
        return await out.add({ ...item, StatKey: null, error });
      }
    }
    await out.add(item, print);
  };

  const sep = windows ? "\\" : "/";
  const scope = walkScope(ctx.scope, sep);
  const reports: WalkReport[] = [];
  const dirsOpen = host.files.dirsOpen();
  for (const { rule, path: rulePath, dedupe, capture, walk } of planWalks(settings, host, warnings)) {
    const policy: CapturePolicy = {
      rulePath,
      captureRestricted: rule.captureRestricted ?? false,
      allowed: fs.captureRestrictedPaths ?? [],
      windows,
    };
    reports.push(
      await portable.walk({ ...walk, sep, budget, ops, signal, scope }, async (f) => {
        if (dedupe) {
          // Windows names ignore case: one key per file however a rule spells its path.
          const key = windows ? f.path.toLowerCase() : f.path;
          if (seen.has(key)) return;
          seen.add(key);
        }
        const item = build(f.path, f.real, rule, f.info, f.linkTarget);
        const policyKey = capturePolicyKey(f.path, policy);
        if (f.error || !f.info) {
          const error = f.error ?? "no file information";
          errors.push({ path: f.path, error });
          items++;
          return await out.add({ ...item, error });
        }
        const regular = f.info.isFile && !(rule.links === "Manage" && f.linkTarget);
        if (!regular) return await push(item, f.real, fingerprint(item, policyKey));
        item.StatKey = portableStatKey(f.info);
        // Whose content may be kept (capture.ts): decided before the file is read, again on what was read.
        const realPath = f.linkTarget === null ? f.real : host.files.realPath(f.real);
        const decide = capture > 0 && f.info.size <= capture
          ? (mode: number | null) =>
            captureDecision({
              path: f.path,
              realPath: realPath === f.real ? undefined : realPath,
              mode: windows || mode === null ? null : mode & 0o7777,
              dirsOpen: () => dirsOpen(realPath),
            }, policy)
          : undefined;
        const refused = decide?.(f.info.mode);
        if (refused) item.ContentNotCaptured = refused;
        // The same fingerprint as last time (StatKey included): the stored checksum holds, no re-hash.
        const print = fingerprint(item, policyKey);
        if (ctx.previous?.get(f.path) === print) return await push(item, f.real, print);
        if (f.info.size > fs.maxHashBytes) {
          tooBig.push(f.path);
          items++;
          return await out.add({ ...item, StatKey: null, error: notHashed(f.info.size, fs.maxHashBytes) });
        }
        try {
          // Content is read only where the gate said yes (a file too big when walked past is not judged).
          const asked = decide && !refused ? capture : 0;
          const r = await portable.hash(f.real, asked, buf, ops.open, {
            limit: fs.maxHashBytes,
            signal,
          });
          const after = build(f.path, f.real, rule, r.info, f.linkTarget);
          const note = refused ??
            (r.text !== undefined && r.info.mode !== f.info.mode ? decide?.(r.info.mode) : undefined) ??
            (r.text === undefined ? uncapturedWhy(asked ? r.info.size : f.info.size, capture) : undefined);
          if (note) after.ContentNotCaptured = note;
          after.FileContentChecksum = r.checksum;
          after.StatKey = portableStatKey(r.info);
          hashed++;
          if (r.text !== undefined && !note && contents.take(f.path, r.checksum, r.info.size)) {
            await out.content({ checksum: r.checksum, text: r.text, size: r.info.size });
          }
          await push(after, f.real, fingerprint(after, policyKey));
        } catch (e) {
          if (signal.aborted) throw e; // the run stops: no item for a file it stopped hashing
          const error = `${f.path}: ${errText(e)}`;
          errors.push({ path: f.path, error });
          items++;
          await out.add({ ...item, StatKey: null, error });
        }
      }),
    );
  }

  reportCuts(reports, { contentCut: contents.cut, errors, tooBig }, fs, { unseen, warnings });
  log.debug("files collected (portable)", { items, hashed, reused, errors: errors.length });
  return output.result(unseen, warnings);
}
