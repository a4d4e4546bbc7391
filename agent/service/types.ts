// What `ctagent service` needs from the machine (a seam tests replace) and how it runs the program.
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import type { ExecResult } from "../host/mod.ts";

export interface ServiceDeps {
  os: "linux" | "windows";
  /** Deno.execPath(): the compiled ctagent, or deno when run as `deno run … ctagent.js`. */
  execPath: string;
  /** Deno.mainModule: the program deno runs, when execPath is deno. */
  mainModule: string;
  version: string;
  /** Whether we may change the machine (root, or an elevated Windows shell). */
  privileged: boolean;
  exec(cmd: string, args: string[]): Promise<ExecResult>;
  env(name: string): string | undefined;
  out(line: string): void;
  err(line: string): void;
}

export interface ServiceOptions {
  action: "install" | "uninstall" | "status";
  /** A directory standing for `/` (Linux): files go under it and systemctl runs with --root. */
  root: string;
  /** The agent's flags in the service: --data-dir is set by the installer; these are the user's. */
  agentArgs: string[];
  start: boolean;
  purge: boolean;
}

/** How the service runs this program: the executable itself, or deno with the script it runs. */
export function programOf(
  deps: Pick<ServiceDeps, "execPath" | "mainModule">,
): { kind: "compiled" | "deno"; argv: string[] } {
  if (!/^deno(\.exe)?$/i.test(basename(deps.execPath))) return { kind: "compiled", argv: [deps.execPath] };
  const script = deps.mainModule.startsWith("file:") ? fileURLToPath(deps.mainModule) : deps.mainModule;
  return { kind: "deno", argv: [deps.execPath, "run", "-A", "--no-prompt", script] };
}
