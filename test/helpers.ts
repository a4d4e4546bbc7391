// Helpers for end-to-end tests: run the CLI in-process or as a process of its own, fixture roots, temp dirs, and
// the program's source files for tests that check them all.
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { main, type MainDeps } from "../agent/cli.ts";
import { COLLECTORS } from "../agent/collectors/mod.ts";

export const MAIN = new URL("../main.ts", import.meta.url).pathname;
/** The repository's root directory. */
export const ROOT = new URL("../", import.meta.url).pathname;

/** The program's source files (tests and their data left out): .ts and .tsx under agent/, ui/, db/, and main.ts. */
export function programSources(): string[] {
  const out: string[] = [join(ROOT, "main.ts")];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) {
        if (name !== "testdata") walk(p);
      } else if (/\.tsx?$/.test(name) && !/_test\.tsx?$/.test(name) && !name.endsWith(".gen.ts")) out.push(p);
    }
  };
  for (const d of ["agent", "ui", "db"]) walk(join(ROOT, d));
  return out;
}

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs `ctagent ARGS` in this process and captures what it prints. */
export async function runCli(args: string[], deps: Omit<MainDeps, "io"> = {}): Promise<CliRun> {
  let out = "", err = "";
  // Keep tests away from a real (or fake) AMA on this machine's default endpoints unless they ask for one.
  const talksToAma = args.some((a) => /^--(ama-|forward|no-ama)/.test(a)) ||
    ["dcr", "status", "service"].includes(args[0]);
  if (!talksToAma) args = ["--no-ama", ...args];
  const code = await main(args, {
    ...deps,
    io: {
      out: (t) => (out += t + "\n"),
      outPieces: async (ps) => void (out += (await Array.fromAsync(ps)).join("") + "\n"),
      err: (t) => (err += t + "\n"),
      env: (k) => Deno.env.get(k),
    },
  });
  return { code, out, err };
}

/** A temp dir removed at the end of the test that uses it. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "ctagent-test-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** A DCR (bare extensionSettings) that enables only the named collectors. */
export function onlyDcr(collectors: string[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    enableSoftware: collectors.includes("software"),
    enableServices: collectors.includes("services"),
    enableFiles: collectors.includes("files"),
    enableRegistry: collectors.includes("registry"),
    ...extra,
  });
}

/**
 * `--config` arguments (a file written to `dir`) that switch off every collector the DCR does not schedule
 * (but those named in `keep`): for a test whose tree holds only what its DCR's collectors read and which counts
 * runs, records or warnings, or which reads the live machine, whose listening ports come and go meanwhile.
 */
export function dcrCollectorsOnly(dir: string, keep: string[] = []): string[] {
  const file = join(dir, "dcr-collectors-only.json");
  const off = COLLECTORS.flatMap((c) =>
    c.schedule.dcr === null && !keep.includes(c.name) ? [[c.schedule.setting, { enabled: false }]] : []
  );
  writeFileSync(file, JSON.stringify({ collectors: Object.fromEntries(off) }));
  return ["--config", file];
}

export const FIXTURES = new URL("./testdata/", import.meta.url);

/**
 * A fixture root under `dir` with an (empty) dpkg database, a software-only DCR, and the `--once --json`
 * arguments that read that root into `dir/data` (no collector the DCR does not schedule). Write the status
 * file at `status`.
 */
export async function dpkgFixture(dir: string): Promise<{ root: string; status: string; args: string[] }> {
  const root = `${dir}/root`;
  await Deno.mkdir(`${root}/var/lib/dpkg`, { recursive: true });
  await Deno.writeTextFile(`${dir}/dcr.json`, onlyDcr(["software"]));
  return {
    root,
    status: `${root}/var/lib/dpkg/status`,
    args: [
      "--once",
      "--json",
      "--root",
      root,
      "--dcr",
      `${dir}/dcr.json`,
      "--data-dir",
      `${dir}/data`,
      ...dcrCollectorsOnly(dir),
    ],
  };
}

/** A `ctagent` process started by spawnCli: what it wrote on stderr so far, and its end. */
export interface CliProcess {
  child: Deno.ChildProcess;
  stderr(): string;
  /** Waits for the process to end and for everything it wrote. */
  done(): Promise<Deno.CommandStatus>;
}

/**
 * Starts `ctagent ARGS` in a process of its own, as a user runs it; `wrap` runs it inside another command
 * (`unshare …`, which execs it: the child's pid is then ctagent's).
 */
export function spawnCli(
  args: string[],
  opts: { env?: Record<string, string>; wrap?: string[] } = {},
): CliProcess {
  const cmd = [...opts.wrap ?? [], Deno.execPath(), "run", "-A", MAIN, ...args];
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    env: opts.env,
    stdout: "null",
    stderr: "piped",
  })
    .spawn();
  let stderr = "";
  const reading = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) stderr += chunk;
  })();
  return {
    child,
    stderr: () => stderr,
    async done() {
      const status = await child.status;
      await reading;
      return status;
    },
  };
}

/** Runs `ctagent ARGS` in a process of its own to its end (killed past `timeoutMs`): exit code, stderr, wall time. */
export async function runCliProcess(
  args: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ code: number; stderr: string; ms: number }> {
  const started = performance.now();
  const p = spawnCli(args, opts);
  const timer = setTimeout(() => p.child.kill("SIGKILL"), opts.timeoutMs ?? 300_000);
  const status = await p.done();
  clearTimeout(timer);
  return { code: status.code, stderr: p.stderr(), ms: Math.round(performance.now() - started) };
}

/** A seeded random source in [0, 1) (mulberry32): the same seed, the same sequence on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
