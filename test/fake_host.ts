// A fake in-memory host: files, links, registry keys, services and exec results a collector test sets up, so the
// collector runs without touching this machine (the real-machine tests stay beside it).
import { posix } from "node:path";
import type {
  DirEntry,
  ExecResult,
  FileInfo,
  Host,
  LocalGroup,
  LocalUser,
  ScmService,
} from "../agent/host/mod.ts";
import { osNameOf } from "../agent/host/mod.ts";
import { SERVICE_WIN32 } from "../agent/host/windows_services.ts";
import type { Platform } from "../agent/platform.ts";
import {
  normalizeKeyPath,
  type RegistryReader,
  type RegKey,
  type RegValue,
} from "../agent/host/registry/reader.ts";
import { REG_BINARY, REG_DWORD, REG_SZ } from "../agent/host/registry/values.ts";
import type { OpenFile, PortableOps } from "../agent/host/files/walk_portable.ts";
import { walkPortable } from "../agent/host/files/walk_portable.ts";
import { hashPortable } from "../agent/host/files/hash_portable.ts";

/**
 * A file's content (or content with a mode, 0644 otherwise), a symlink, or an (empty) directory; parent
 * directories exist by themselves.
 */
export type FakeNode =
  | string
  | Uint8Array
  | { data: string | Uint8Array; mode?: number }
  | { link: string }
  | { dir: true };

/** What a program answers: its result, or a function of its arguments. */
export type FakeExec = ExecResult | ((args: string[]) => ExecResult);

export interface FakeHostOptions {
  os?: Platform;
  hostname?: string;
  isRoot?: boolean;
  /** Machine paths (`/etc/passwd`) and what is there. */
  files?: Record<string, FakeNode>;
  env?: Record<string, string>;
  /** Programs by name; any other cannot be started (ENOENT), as when it is not installed. */
  exec?: Record<string, FakeExec>;
  /** The registry `host.registry()` opens (an offline reader over test hives, say). */
  registry?: () => RegistryReader;
  /** The services and drivers the SCM lists, by their type (makes the host a live Windows machine for them). */
  scm?: ScmService[];
  /**
   * The local accounts netapi32 lists (makes the host a live Windows machine for them); `unlisted` groups are
   * found by their SID only, as Wine's Administrators is.
   */
  accounts?: { domain: string; users: LocalUser[]; groups: LocalGroup[]; unlisted?: LocalGroup[] };
  /** Modification time of every file (default 2026-01-01). */
  mtime?: Date;
  /**
   * Machine paths that are there (listed in their directory) but fail every call, theirs and below them,
   * with this code: a bad disk (EIO), a denied path (EACCES).
   */
  failing?: Record<string, "EIO" | "EACCES">;
}

function fsError(
  code: "ENOENT" | "ENOTDIR" | "EISDIR" | "EINVAL" | "ELOOP" | "EIO" | "EACCES",
  call: string,
  path: string,
): Error {
  const Kind = code === "ENOENT"
    ? Deno.errors.NotFound
    : code === "ENOTDIR"
    ? Deno.errors.NotADirectory
    : Error;
  return Object.assign(new Kind(`${code}: ${call} '${path}'`), { code });
}

/** An in-memory host for collector tests. The root is "/", paths use "/" (Windows paths are kept as given). */
export function fakeHost(opts: FakeHostOptions = {}): Host & { nodes: Map<string, FakeNode> } {
  const nodes = new Map<string, FakeNode>();
  const mtime = opts.mtime ?? new Date("2026-01-01T00:00:00Z");
  const norm = (p: string) => p.includes("\\") ? p : posix.normalize(p).replace(/(.)\/$/, "$1");
  const add = (p: string, n: FakeNode) => {
    const path = norm(p);
    nodes.set(path, n);
    // Parent directories of POSIX paths exist by themselves.
    for (let d = posix.dirname(path); path.startsWith("/") && !nodes.has(d); d = posix.dirname(d)) {
      nodes.set(d, { dir: true });
      if (d === "/") break;
    }
  };
  nodes.set("/", { dir: true });
  for (const [p, n] of Object.entries(opts.files ?? {})) add(p, n);
  const inodes = new Map<string, number>();
  const ino = (p: string) => inodes.get(p) ?? (inodes.set(p, inodes.size + 1), inodes.size);

  const bytes = (n: FakeNode): Uint8Array => {
    const d = typeof n === "object" && "data" in n ? n.data : n;
    return typeof d === "string" ? new TextEncoder().encode(d) : d as Uint8Array;
  };
  const isDir = (n: FakeNode) => typeof n === "object" && "dir" in n;
  const isLink = (n: FakeNode) => typeof n === "object" && "link" in n;
  const fileMode = (n: FakeNode) => typeof n === "object" && "data" in n ? n.mode ?? 0o644 : 0o644;
  const info = (p: string, n: FakeNode): FileInfo => {
    const dir = isDir(n), link = isLink(n);
    return {
      isFile: !dir && !link,
      isDirectory: dir,
      isSymlink: link,
      size: dir || link ? 0 : bytes(n).length,
      mtime,
      atime: mtime,
      birthtime: mtime,
      ctime: mtime,
      dev: 1,
      ino: ino(p),
      mode: dir ? 0o040755 : link ? 0o120777 : 0o100000 | fileMode(n),
      nlink: 1,
      uid: 0,
      gid: 0,
      rdev: 0,
      blksize: 4096,
      blocks: 0,
      isBlockDevice: false,
      isCharDevice: false,
      isFifo: false,
      isSocket: false,
    };
  };
  const failing = Object.entries(opts.failing ?? {}).map(([p, code]) => [norm(p), code] as const);
  const lookup = (p: string, call: string) => {
    const path = norm(p);
    const fail = failing.find(([f]) => path === f || path.startsWith(`${f}/`));
    if (fail) throw fsError(fail[1], call, p);
    const n = nodes.get(path);
    if (n === undefined) throw fsError("ENOENT", call, p);
    return n;
  };
  /** The path a chain of links ends at. */
  const resolve = (p: string, call: string): string => {
    let path = norm(p);
    for (let hops = 0; hops < 40; hops++) {
      const n = lookup(path, call);
      if (typeof n !== "object" || !("link" in n)) return path;
      path = norm(n.link.startsWith("/") ? n.link : posix.join(posix.dirname(path), n.link));
    }
    throw fsError("ELOOP", call, p);
  };
  const entries = (p: string): DirEntry[] => {
    const dir = resolve(p, "readdir");
    if (!isDir(nodes.get(dir)!)) throw fsError("ENOTDIR", "readdir", p);
    const prefix = dir === "/" ? "/" : `${dir}/`;
    return [...nodes.entries()].filter(([q]) =>
      q !== dir && q.startsWith(prefix) && !q.slice(prefix.length).includes("/")
    )
      .map(([q, n]) => ({
        name: q.slice(prefix.length),
        isFile: !isDir(n) && !isLink(n),
        isDirectory: isDir(n),
        isSymlink: isLink(n),
      }));
  };
  const stat = (p: string) => {
    const real = resolve(p, "stat");
    return info(real, nodes.get(real)!);
  };
  const lstat = (p: string) => info(norm(p), lookup(p, "lstat"));
  const readLink = (p: string) => {
    const n = lookup(p, "readlink");
    if (typeof n !== "object" || !("link" in n)) throw fsError("EINVAL", "readlink", p);
    return n.link;
  };
  const read = (p: string) => {
    const real = resolve(p, "open");
    const n = nodes.get(real)!;
    if (isDir(n)) throw fsError("EISDIR", "read", p);
    return bytes(n);
  };
  const open = (p: string): Promise<OpenFile> => {
    const data = read(p);
    const st = stat(p);
    let at = 0;
    return Promise.resolve({
      stat: () => Promise.resolve(st),
      read(buf: Uint8Array) {
        if (at >= data.length) return Promise.resolve(null);
        const n = Math.min(buf.length, data.length - at);
        buf.set(data.subarray(at, at + n));
        at += n;
        return Promise.resolve(n);
      },
      close() {},
    });
  };
  const ops: PortableOps = {
    readDir: (p) => entries(p),
    lstat: (p) => Promise.resolve().then(() => lstat(p)),
    stat: (p) => Promise.resolve().then(() => stat(p)),
    readLink: (p) => Promise.resolve().then(() => readLink(p)),
    realPath: (p) => Promise.resolve().then(() => resolve(p, "realpath")),
    open: (p) => Promise.resolve().then(() => open(p)),
  };
  const env = opts.env ?? {};
  const host: Host & { nodes: Map<string, FakeNode> } = {
    os: opts.os ?? "linux",
    hostname: opts.hostname ?? "fakehost",
    root: "/",
    path: (p) => p,
    isRoot: opts.isRoot ?? true,
    env: (name) => env[name],
    environment: () => ({ ...env }),
    readFile: (p) => Promise.resolve().then(() => read(p)),
    readText: (p) => Promise.resolve().then(() => new TextDecoder().decode(read(p))),
    stat: (p) => Promise.resolve().then(() => stat(p)),
    readTextSync: (p) => new TextDecoder().decode(read(p)),
    statSync: stat,
    lstatSync: lstat,
    readDirSync: entries,
    readLinkSync: readLink,
    exec(cmd, args) {
      const answer = opts.exec?.[cmd];
      if (!answer) return Promise.reject(Object.assign(new Error(`spawn ${cmd} ENOENT`), { code: "ENOENT" }));
      return Promise.resolve(typeof answer === "function" ? answer(args) : answer);
    },
    osName: () => osNameOf(host),
    registry() {
      if (!opts.registry) return Promise.reject(new Error("this fake host has no registry"));
      return Promise.resolve(opts.registry());
    },
    scm: opts.scm
      ? {
        list: (types = SERVICE_WIN32) => opts.scm!.filter((s) => s.type === null || (s.type & types) !== 0),
      }
      : undefined,
    accounts: opts.accounts && {
      domain: () => opts.accounts!.domain,
      users: () => opts.accounts!.users,
      groups: () => opts.accounts!.groups,
      group: (sid) =>
        [...opts.accounts!.groups, ...opts.accounts!.unlisted ?? []].find((g) => g.sid === sid) ?? null,
    },
    files: {
      portable: { walk: walkPortable, ops, hash: hashPortable },
      // Directories here are 0755 (every user may enter them); a link's target path is not looked up.
      dirsOpen: () => () => true,
      realPath: (p) => p,
    },
    nodes,
  };
  return host;
}

/** A registry value in memory: a string is REG_SZ, a number REG_DWORD, bytes REG_BINARY; or type and data. */
export type FakeValue = string | number | Uint8Array | { type: number; data: Uint8Array };

function regValue(name: string, v: FakeValue): RegValue {
  if (typeof v === "string") {
    const data = new Uint8Array((v.length + 1) * 2);
    for (let i = 0; i < v.length; i++) new DataView(data.buffer).setUint16(i * 2, v.charCodeAt(i), true);
    return { name, type: REG_SZ, data };
  }
  if (typeof v === "number") {
    const data = new Uint8Array(4);
    new DataView(data.buffer).setUint32(0, v, true);
    return { name, type: REG_DWORD, data };
  }
  if (v instanceof Uint8Array) return { name, type: REG_BINARY, data: v };
  return { name, ...v };
}

/** Registry keys in memory, by full path (`HKLM\\SOFTWARE\\X`), with their values; the keys above exist too. */
export function memoryRegistry(keys: Record<string, Record<string, FakeValue>>): RegistryReader {
  const values = new Map<string, RegValue[]>();
  const children = new Map<string, Set<string>>();
  const names = new Map<string, string>();
  const up = (p: string) => p.toUpperCase();
  for (const [raw, vals] of Object.entries(keys)) {
    const parts = normalizeKeyPath(raw).split("\\");
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join("\\");
      if (!names.has(up(p))) names.set(up(p), p);
      if (i > 1) {
        const parent = up(parts.slice(0, i - 1).join("\\"));
        if (!children.has(parent)) children.set(parent, new Set());
        children.get(parent)!.add(parts[i - 1]);
      }
    }
    values.set(up(parts.join("\\")), Object.entries(vals).map(([n, v]) => regValue(n, v)));
  }
  const open = (raw: string): RegKey | null => {
    const path = names.get(up(normalizeKeyPath(raw)));
    if (path === undefined) return null;
    return {
      path,
      lastWrite: null,
      subkeyNames: () => [...(children.get(up(path)) ?? [])],
      values: () => values.get(up(path)) ?? [],
      subkey: (name) => open(`${path}\\${name}`),
      close() {},
    };
  };
  return { kind: "offline", open, close() {} };
}
