// `deno task compile`: the stamped bundle compiled to one executable per target, and a clear word when the
// Deno runtime (denort) for a target cannot be downloaded, with the offline route.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs, stripVTControlCharacters } from "node:util";
import { BuildError, bundle, DEFAULT_OUT, ROOT, run } from "./bundle.ts";
import { NO_CODE_CACHE_ARG, V8_FLAGS_ARG } from "./v8_flags.ts";

/** The targets we ship, by their Deno (Rust) triple, with the executable's name in dist/. */
export const TARGETS: Record<string, string> = {
  "x86_64-unknown-linux-gnu": "ctagent-linux-x64",
  "aarch64-unknown-linux-gnu": "ctagent-linux-arm64",
  "x86_64-pc-windows-msvc": "ctagent-windows-x64.exe",
};

/** Where Deno looks for (and caches) the runtime of a target before downloading it. */
export function runtimeZipPath(denoDir: string, denoVersion: string, target: string): string {
  return join(denoDir, "dl", "release", `v${denoVersion}`, `denort-${target}.zip`);
}

/** Where Deno downloads the runtime from. */
export function runtimeUrl(denoVersion: string, target: string): string {
  return `https://dl.deno.land/release/v${denoVersion}/denort-${target}.zip`;
}

export type CompileOutcome =
  | { target: string; status: "ok"; out: string }
  | { target: string; status: "no-runtime"; zip: string; url: string; cause: string }
  | { target: string; status: "failed"; message: string };

/**
 * Whether a failed `deno compile` failed because the runtime could not be fetched (and why), from its
 * stderr; undefined for any other failure.
 */
export function runtimeDownloadFailure(stderr: string): string | undefined {
  const text = stripVTControlCharacters(stderr); // deno colours its errors even when piped
  if (!/denort-[\w-]+\.zip/.test(text) && !/Setting up base binary/.test(text)) return undefined;
  if (!/error sending request|dns error|Connect|timed out|status code|Download/i.test(text)) return undefined;
  const causes = [...text.matchAll(/^\s*\d+: (.+)$/gm)].map((m) => m[1].trim());
  return causes.find((c) => /^error sending request/i.test(c)) ??
    causes.find((c) => /dns|connect|refused|timed out|status|certificate/i.test(c)) ?? causes.at(-1) ??
    text.trim().split("\n").at(-1) ?? "unknown error";
}

/** The message for targets whose runtime could not be downloaded: what failed and the offline route. */
export function offlineAdvice(
  denoVersion: string,
  missing: Extract<CompileOutcome, { status: "no-runtime" }>[],
  source: string = DEFAULT_OUT,
): string {
  const lines = [
    `compile: deno compile needs the Deno ${denoVersion} runtime (denort) for each target and could not ` +
    `download it (${missing[0].cause}).`,
    `compile: offline route: on a machine that can reach dl.deno.land, download these files and copy each ` +
    `to the path shown, then run \`deno task compile\` again (Deno uses a cached zip without the network):`,
  ];
  for (const m of missing) lines.push(`  ${m.url}\n    -> ${m.zip}`);
  lines.push(
    `compile: the bundle (${source}) is already built and is what each executable embeds; ` +
      `\`deno run -A ${source}\` runs the same program wherever Deno ${denoVersion} is installed.`,
  );
  return lines.join("\n");
}

/** `deno info --json`'s DENO_DIR: the cache the compiler reads, whatever env or defaults chose it. */
export async function denoDirOf(deno: string): Promise<string> {
  const r = await run(deno, ["info", "--json"]);
  if (r.code !== 0) {
    throw new BuildError(`Cannot find DENO_DIR: deno info --json exited ${r.code}: ${r.stderr}`);
  }
  return (JSON.parse(r.stdout) as { denoDir: string }).denoDir;
}

/**
 * The `deno compile` arguments for one target: the bundle, all permissions, ctagent's V8 flags embedded, no
 * code cache (v8_flags.ts says why).
 */
export function compileArgs(source: string, target: string, out: string): string[] {
  return [
    "compile",
    "-A",
    V8_FLAGS_ARG,
    NO_CODE_CACHE_ARG,
    "--no-config",
    "--no-lock",
    "--no-check",
    "--quiet",
    "--target",
    target,
    "--output",
    out,
    source,
  ];
}

/** Compiles `source` (the bundle) for one target. */
export async function compileTarget(
  opts: { deno: string; source: string; target: string; out: string; denoDir: string; denoVersion: string },
): Promise<CompileOutcome> {
  const { deno, source, target, out } = opts;
  const r = await run(deno, compileArgs(source, target, out), { cwd: ROOT });
  if (r.code === 0) return { target, status: "ok", out };
  const cause = runtimeDownloadFailure(r.stderr);
  if (cause) {
    return {
      target,
      status: "no-runtime",
      zip: runtimeZipPath(opts.denoDir, opts.denoVersion, target),
      url: runtimeUrl(opts.denoVersion, target),
      cause,
    };
  }
  return {
    target,
    status: "failed",
    message: `deno compile --target ${target} exited ${r.code}: ${r.stderr.trim()}`,
  };
}

/** Exit codes: 0 all built, 3 some runtime could not be downloaded (and nothing else failed), 1 otherwise. */
export async function compileAll(opts: {
  targets?: string[];
  outDir?: string;
  deno?: string;
  source?: string;
  skipBundle?: boolean;
  log?: (line: string) => void;
} = {}): Promise<{ code: number; outcomes: CompileOutcome[] }> {
  const deno = opts.deno ?? Deno.execPath();
  const log = opts.log ?? ((l: string) => console.error(l));
  const outDir = resolve(opts.outDir ?? join(ROOT, "dist"));
  const targets = opts.targets ?? Object.keys(TARGETS);
  for (const t of targets) {
    if (!(t in TARGETS)) {
      throw new RangeError(
        `Unknown target ${JSON.stringify(t)}: expected one of ${Object.keys(TARGETS).join(", ")}`,
      );
    }
  }
  let source = resolve(opts.source ?? DEFAULT_OUT);
  if (!opts.skipBundle) source = (await bundle({ out: source, deno, log })).out;
  else if (!existsSync(source)) {
    throw new BuildError(`Cannot compile: ${source} does not exist (run deno task bundle)`);
  }

  const denoDir = await denoDirOf(deno);
  const denoVersion = deno === Deno.execPath()
    ? Deno.version.deno
    : (await run(deno, ["--version"])).stdout.match(/deno (\S+)/)?.[1] ?? Deno.version.deno;
  const outcomes: CompileOutcome[] = [];
  for (const target of targets) {
    const zip = runtimeZipPath(denoDir, denoVersion, target);
    log(
      `compile: ${target} (runtime ${
        existsSync(zip) ? `cached at ${zip}` : `to download from ${runtimeUrl(denoVersion, target)}`
      })`,
    );
    const outcome = await compileTarget({
      deno,
      source,
      target,
      out: join(outDir, TARGETS[target]),
      denoDir,
      denoVersion,
    });
    outcomes.push(outcome);
    if (outcome.status === "ok") log(`compile: wrote ${outcome.out}`);
    if (outcome.status === "failed") log(`compile: ${outcome.message}`);
  }
  const missing = outcomes.filter((o): o is Extract<CompileOutcome, { status: "no-runtime" }> =>
    o.status === "no-runtime"
  );
  if (missing.length) log(offlineAdvice(denoVersion, missing, source));
  const code = outcomes.some((o) => o.status === "failed") ? 1 : missing.length ? 3 : 0;
  return { code, outcomes };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      target: { type: "string", multiple: true },
      "out-dir": { type: "string" },
      "skip-bundle": { type: "boolean" },
      source: { type: "string" },
    },
  });
  try {
    const { code } = await compileAll({
      targets: values.target,
      outDir: values["out-dir"],
      skipBundle: values["skip-bundle"],
      source: values.source,
    });
    Deno.exit(code);
  } catch (e) {
    console.error(
      `compile: ${e instanceof BuildError || e instanceof RangeError ? e.message : (e as Error).stack}`,
    );
    Deno.exit(1);
  }
}
