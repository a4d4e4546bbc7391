// Runs the bundle as a fresh machine would: alone in an empty directory, an empty DENO_DIR, no network.
import { existsSync, readdirSync } from "node:fs";
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const PROBE = join(dirname(fileURLToPath(import.meta.url)), "offline_probe.ts");

/** Whether this machine can cut the network off (`unshare -n` needs root) and bring loopback up. */
export function canIsolate(): boolean {
  return Deno.build.os === "linux" && Deno.uid() === 0 && existsSync("/usr/bin/unshare") &&
    (existsSync("/usr/sbin/ip") || existsSync("/sbin/ip"));
}

export interface OfflineReport {
  code: number;
  signal: string | null;
  stdout: string;
  stderr: string;
  totalMs: number;
  /** serve: from spawn to the first 200 on the page; null when it never came. */
  firstPageMs?: number | null;
  /** serve: CPU time (user + system) the program had used when the page came. */
  firstPageCpuMs?: number | null;
  /** once: CPU time (user + system) of the whole run. */
  cpuMs?: number | null;
  page?: { contentType: string | null; bytes: number; head: string };
  assets?: { path: string; status: number; contentType: string | null; bytes: number }[];
  apiStatus?: { status: number; contentType: string | null };
  /** The temporary directory the program ran in (holding only ctagent.js before it ran). */
  workDir: string;
  /** The empty DENO_DIR it ran with. */
  denoDir: string;
  /** What the run left in workDir beside ctagent.js. */
  created: string[];
  /** Package or remote-module caches that appeared in DENO_DIR (should be none). */
  fetched: string[];
}

/**
 * Copies `bundle` alone into a new empty directory and runs it there with `args`, in a new network
 * namespace where only loopback is up, with an empty DENO_DIR and a minimal environment.
 */
export async function runOffline(opts: {
  bundle: string;
  mode: "once" | "serve";
  args: string[];
  /** `deno run` options before the script (benches: the compiled program's V8 flags, no code cache). */
  runArgs?: readonly string[];
  /** serve: the page the probe waits for (inside the namespace). */
  url?: string;
  /** serve: the page token file the agent makes (relative to its directory), to sign in with. */
  tokenFile?: string;
  timeoutMs?: number;
  deno?: string;
  /** Run again in the directory of an earlier run (its state and DENO_DIR kept): a second start. */
  again?: OfflineReport;
  /** Cut the network off (default). Without it the run is only isolated from files and caches. */
  isolate?: boolean;
}): Promise<OfflineReport> {
  const isolate = opts.isolate ?? true;
  if (isolate && !canIsolate()) {
    throw new Error("Cannot cut the network off here: unshare -n needs root on Linux");
  }
  const base = opts.again
    ? dirname(opts.again.workDir)
    : await Deno.makeTempDir({ prefix: "ctagent_offline_" });
  const workDir = join(base, "machine");
  const denoDir = join(base, "deno_dir");
  if (!opts.again) {
    await mkdir(workDir);
    await mkdir(denoDir);
    await copyFile(opts.bundle, join(workDir, "ctagent.js"));
  }
  const deno = opts.deno ?? Deno.execPath();
  const request = {
    mode: opts.mode,
    deno,
    script: join(workDir, "ctagent.js"),
    runArgs: opts.runArgs ?? [],
    args: opts.args,
    url: opts.url,
    tokenFile: opts.tokenFile,
    timeoutMs: opts.timeoutMs ?? 20_000,
  };
  const out = await new Deno.Command("unshare", {
    args: [
      "-n",
      "sh",
      "-c",
      'ip link set lo up && exec "$@"',
      "sh",
      deno,
      "run",
      "-A",
      PROBE,
      JSON.stringify(request),
    ],
    cwd: workDir,
    clearEnv: true,
    env: {
      DENO_DIR: denoDir,
      HOME: workDir,
      PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      NO_COLOR: "1",
    },
    stdin: "null",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (out.code !== 0 || !text) {
    throw new Error(`The offline probe exited ${out.code}: ${new TextDecoder().decode(out.stderr)}`);
  }
  const report = JSON.parse(text.split("\n").at(-1)!);
  const fetched = ["npm", "remote", "deps", "registries"].filter((d) => {
    const p = join(denoDir, d);
    return existsSync(p) && readdirSync(p).length > 0;
  });
  return {
    ...report,
    workDir,
    denoDir,
    created: readdirSync(workDir).filter((f) => f !== "ctagent.js").sort(),
    fetched,
  };
}
