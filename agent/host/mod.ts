// The host seam: the only place that asks which OS this is; collectors read the machine through it (ctx.host).
import { hostname as osHostname } from "node:os";
import { readFile } from "node:fs/promises";
import { execFile } from "node:child_process";
import { join } from "node:path";
import type { Platform } from "../platform.ts";
import type { RegistryReader } from "./registry/reader.ts";
import { liveRegistry } from "./registry/live_windows.ts";
import { offlineRegistryFromRoot } from "./registry/offline.ts";
import { listServices, type ScmService } from "./scm_windows.ts";
import {
  type LocalAccounts,
  localAccounts,
  type LocalGroup,
  type LocalUser,
} from "./local_accounts_windows.ts";
import { type FsOps, LIBC_OPS, walk } from "./files/walk_posix.ts";
import { DENO_OPS, type PortableOps, walkPortable } from "./files/walk_portable.ts";
import { createHashPool } from "./files/hash.ts";
import { hashFd, racy } from "./files/hash_worker.ts";
import { fstat } from "./files/libc_posix.ts";
import { hashPortable } from "./files/hash_portable.ts";
import { readFileAttributes } from "./files/attributes_windows.ts";
import { readAccessAclAt } from "./files/acl_posix.ts";
import { beginReadAhead } from "./files/read_ahead.ts";
import { readDaclSddl } from "./files/acl_windows.ts";
import { dirsOpenChecker, realPathOf } from "./files/perms.ts";
import { type HostWatch, liveWatch } from "./watch/mod.ts";
import { listeningSockets, type ProcessImage, processImage } from "./sockets/listening_windows.ts";
import type { TableProtocol, TableSocket } from "./sockets/table.ts";

export type {
  HostWatch,
  LocalAccounts,
  LocalGroup,
  LocalUser,
  ProcessImage,
  RegistryReader,
  ScmService,
  TableProtocol,
  TableSocket,
};
/** What a stat of a path gives (on every OS). */
export type FileInfo = Deno.FileInfo;
/** One entry of a directory listing. */
export type DirEntry = Deno.DirEntry;

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The file walkers and hashing of the files collector. */
export interface HostFiles {
  /**
   * The libc walker (directory fds, statx, getdents64: byte-exact names, nanosecond times) and the hashing
   * workers; present where libc is (Linux).
   */
  posix?: {
    walk: typeof walk;
    ops: FsOps;
    hashPool: typeof createHashPool;
    /**
     * Hashes one open file on the calling thread (as a worker would; it closes the fd): for a few small files,
     * where starting the workers costs more than the hashing.
     */
    hashHere: typeof hashFd;
    /** Whether a stat's times are too near `nowMs` for a checksum to be trusted yet (hashing waits then). */
    racy: typeof racy;
    /** The stat of an open fd. */
    statFd: typeof fstat;
    /** The raw access ACL of an entry of an open directory (the hash workers read a hashed file's themselves). */
    readAcl: typeof readAccessAclAt;
    /** A walk's read-ahead thread begun before the walk (a `--once` rescan: as soon as the data directory is held). */
    beginReadAhead: typeof beginReadAhead;
  };
  /** The portable walker and hashing (Deno's file system calls): Windows, or anywhere libc is not. */
  portable: {
    walk: typeof walkPortable;
    ops: PortableOps;
    hash: typeof hashPortable;
    /** Windows file attribute bits of a real path; absent where the machine read is not the running Windows. */
    attributes?: (real: string) => number | null;
    /**
     * The Acls of a real path: the DACL as SDDL; absent where the machine read is not the running Windows (an
     * image's DACLs name another machine's accounts).
     */
    acls?: (real: string) => string;
  };
  /**
   * A checker of "every directory above this real path lets every user through" (POSIX `o+x`), each directory
   * looked at once; always false where that cannot be told (Windows). One per run: it caches.
   */
  dirsOpen(): (realPath: string) => boolean;
  /** The real path whose content is read (links followed), or the path itself when that cannot be told. */
  realPath(real: string): string;
}

/**
 * The machine a collector reads: the running one, or one seen under `root` (a mounted disk image, a fixture
 * tree). Paths given to it are the machine's own (`/etc/passwd`, `C:\Users\x\NTUSER.DAT`); it applies the root.
 */
export interface Host {
  /** The OS of the machine read (with --root, the image's). */
  os: Platform;
  /** What records say in Computer: the short host name, or the name of the image under `root`. */
  hostname: string;
  /**
   * Root the collectors read the machine under: "/" for the live system, a directory holding a mounted
   * image or a test tree otherwise. `path()` turns a machine path into the path to read.
   */
  root: string;
  path(machinePath: string): string;
  isRoot: boolean;
  /** An environment variable of the running process. */
  env(name: string): string | undefined;
  /** The whole environment (for %VAR% expansion). */
  environment(): Record<string, string>;
  readFile(machinePath: string): Promise<Uint8Array>;
  readText(machinePath: string): Promise<string>;
  stat(machinePath: string): Promise<FileInfo>;
  readTextSync(machinePath: string): string;
  statSync(machinePath: string): FileInfo;
  lstatSync(machinePath: string): FileInfo;
  readDirSync(machinePath: string): DirEntry[];
  readLinkSync(machinePath: string): string;
  /** Runs a program (never through a shell). Rejects only when it cannot be started. */
  exec(cmd: string, args: string[], opts?: { signal?: AbortSignal; maxBuffer?: number }): Promise<ExecResult>;
  /** The OS's own name for itself ("Debian GNU/Linux 12 (bookworm)", "Windows"). */
  osName(): Promise<string>;
  /**
   * The Windows registry: the running machine's (advapi32) when it is the live Windows machine, otherwise the
   * hive files of the Windows installation under `root`. Close it when done.
   */
  registry(): Promise<RegistryReader>;
  /**
   * The Service Control Manager: the services and drivers whose type has one of the `types` bits (Win32 services
   * when not given); only on the live Windows machine.
   */
  scm?: { list(types?: number): ScmService[] };
  /** The local users and groups (netapi32): only on the live Windows machine (an image has its SAM hive). */
  accounts?: LocalAccounts;
  /**
   * The sockets waiting for peers (iphlpapi's tables, each read on its own: one throws alone) and the image of
   * a process: only on the live Windows machine (an image has no running sockets).
   */
  sockets?: { listening(protocol: TableProtocol): TableSocket[]; image(pid: number): ProcessImage };
  files: HostFiles;
  /**
   * The realtime watchers of the running machine (they watch the paths a collector reads, under `root`);
   * absent where there are none (a fake host without them).
   */
  watch?: HostWatch;
}

/** `web01.contoso.com` → `web01`, as the real agent sends Computer (gethostname up to the first dot). */
export function shortHostname(name: string): string {
  const dot = name.indexOf(".");
  return dot > 0 ? name.slice(0, dot) : name;
}

/**
 * Whether a failed file call means "there is no such file" (ENOENT, or a path through a non-directory), as
 * opposed to a file that is there but cannot be read (EACCES, EIO …), which must never read as absent.
 */
export function isMissing(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR" || e instanceof Deno.errors.NotFound ||
    e instanceof Deno.errors.NotADirectory;
}

export function currentPlatform(): Platform {
  return Deno.build.os === "windows" ? "windows" : "linux";
}

function run(cmd: string, args: string[], o: { signal?: AbortSignal; maxBuffer?: number } = {}) {
  return new Promise<ExecResult>((resolve, reject) => {
    if (o.signal?.aborted) return reject(o.signal.reason);
    let aborted = false;
    const child = execFile(cmd, args, {
      maxBuffer: o.maxBuffer ?? 256 * 1024 * 1024,
      encoding: "utf8",
    }, (err, stdout, stderr) => {
      o.signal?.removeEventListener("abort", onAbort);
      if (aborted) return reject(o.signal!.reason);
      const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
      if (e && typeof e.code === "string") return reject(e);
      resolve({ code: e ? Number(e.code ?? 1) : 0, stdout, stderr });
    });
    // Killed here, not through execFile's own signal option, which under Deno gives up on the child without
    // killing it. SIGKILL: a stopped run must not wait for a tool that ignores SIGTERM (an rpm on a stale lock),
    // and these are read-only queries, nothing to clean up.
    const onAbort = () => {
      aborted = true;
      child.kill("SIGKILL");
    };
    o.signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The OS's own name for itself: Windows, or PRETTY_NAME of /etc/os-release ("Linux" when it cannot say). */
export async function osNameOf(host: Pick<Host, "os" | "readText">): Promise<string> {
  if (host.os === "windows") return "Windows";
  try {
    return (await host.readText("/etc/os-release")).match(/^PRETTY_NAME="?([^"\n]*)"?$/m)?.[1] ?? "Linux";
  } catch {
    return "Linux";
  }
}

/** The live machine, optionally read under another root (a mounted disk, a fixture tree). */
export function liveHost(opts: { root?: string; os?: Platform; hostname?: string } = {}): Host {
  const root = opts.root ?? "/";
  const path = (p: string) => root === "/" ? p : join(root, p);
  const running = currentPlatform();
  const os = opts.os ?? running;
  // The machine read is the one running: its registry and services are asked, not read from files.
  const live = os === "windows" && root === "/" && running === "windows";
  // Asked at each use: a host renamed while the daemon runs has its records carry the new name from the next
  // run on (the real agent reads it per record too). Set (an image's name, a test's): that name.
  let named = opts.hostname;
  const host: Host = {
    os,
    get hostname() {
      return named ?? shortHostname(osHostname());
    },
    set hostname(name: string) {
      named = name;
    },
    root,
    path,
    isRoot: running !== "windows" && Deno.uid?.() === 0,
    env: (name) => Deno.env.get(name),
    environment: () => Deno.env.toObject(),
    readFile: async (p) => new Uint8Array(await readFile(path(p))),
    readText: (p) => readFile(path(p), "utf8"),
    stat: (p) => Deno.stat(path(p)),
    readTextSync: (p) => Deno.readTextFileSync(path(p)),
    statSync: (p) => Deno.statSync(path(p)),
    lstatSync: (p) => Deno.lstatSync(path(p)),
    readDirSync: (p) => [...Deno.readDirSync(path(p))],
    readLinkSync: (p) => Deno.readLinkSync(path(p)),
    exec: run,
    osName: () => osNameOf(host),
    registry: async () => live ? liveRegistry() : (await offlineRegistryFromRoot(path("/"))).reader,
    scm: live ? { list: listServices } : undefined,
    accounts: live ? localAccounts() : undefined,
    sockets: live ? { listening: listeningSockets, image: processImage } : undefined,
    files: {
      posix: running === "linux"
        ? {
          walk,
          ops: LIBC_OPS,
          hashPool: createHashPool,
          hashHere: hashFd,
          racy,
          statFd: fstat,
          readAcl: readAccessAclAt,
          beginReadAhead,
        }
        : undefined,
      portable: {
        walk: walkPortable,
        ops: DENO_OPS,
        hash: hashPortable,
        attributes: os === "windows" && running === "windows" ? readFileAttributes : undefined,
        acls: live ? readDaclSddl : undefined,
      },
      dirsOpen: dirsOpenChecker,
      realPath: realPathOf,
    },
    watch: liveWatch({ liveWindows: live }),
  };
  return host;
}
