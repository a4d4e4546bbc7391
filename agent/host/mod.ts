// The host seam: the only place that asks which OS this is; collectors read the machine through it.
import { hostname as osHostname } from "node:os";
import { readFile } from "node:fs/promises";
import { execFile } from "node:child_process";
import { join } from "node:path";
import type { Platform } from "../platform.ts";

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Host {
  os: Platform;
  hostname: string;
  /**
   * Root the collectors read the machine under: "/" for the live system, a directory holding a mounted
   * image or a test tree otherwise. Use `path()` to turn a machine path into the path to read.
   */
  root: string;
  path(machinePath: string): string;
  readFile(machinePath: string): Promise<Uint8Array>;
  readText(machinePath: string): Promise<string>;
  /** Runs a program (never through a shell). Rejects only when it cannot be started. */
  exec(cmd: string, args: string[], opts?: { signal?: AbortSignal; maxBuffer?: number }): Promise<ExecResult>;
  env(name: string): string | undefined;
  isRoot: boolean;
}

export function currentPlatform(): Platform {
  return Deno.build.os === "windows" ? "windows" : "linux";
}

/** The live machine, optionally read under another root (a mounted disk, a fixture tree). */
export function liveHost(opts: { root?: string; os?: Platform; hostname?: string } = {}): Host {
  const root = opts.root ?? "/";
  const path = (p: string) => root === "/" ? p : join(root, p);
  return {
    os: opts.os ?? currentPlatform(),
    hostname: opts.hostname ?? osHostname(),
    root,
    path,
    readFile: async (p) => new Uint8Array(await readFile(path(p))),
    readText: (p) => readFile(path(p), "utf8"),
    exec: (cmd, args, o = {}) =>
      new Promise((resolve, reject) => {
        execFile(cmd, args, {
          signal: o.signal,
          maxBuffer: o.maxBuffer ?? 256 * 1024 * 1024,
          encoding: "utf8",
        }, (
          err,
          stdout,
          stderr,
        ) => {
          const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
          if (e && typeof e.code === "string") return reject(e);
          resolve({ code: e ? Number(e.code ?? 1) : 0, stdout, stderr });
        });
      }),
    env: (name) => Deno.env.get(name),
    isRoot: Deno.build.os !== "windows" && Deno.uid?.() === 0,
  };
}
