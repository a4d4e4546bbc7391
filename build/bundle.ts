// `deno task bundle`: the page, then the whole agent, into one stamped JS file that needs nothing beside it.
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { type BuildInfo, STAMP_GLOBAL } from "../agent/version.ts";
import denoJson from "../deno.json" with { type: "json" };

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const DEFAULT_ENTRY = join(ROOT, "main.ts");
export const DEFAULT_OUT = join(ROOT, "dist", "ctagent.js");
const UI_BUNDLER = join(ROOT, "build", "bundle_ui.ts");

export class BuildError extends Error {
  override name = "BuildError";
}

/** Runs a program, resolving with its exit code and output (never through a shell). */
export async function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(cmd, { args, cwd: opts.cwd, env: opts.env, stdin: "null" }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * The stamp for this build. Env first (CI, reproducible builds): CTAGENT_VERSION, CTAGENT_COMMIT,
 * SOURCE_DATE_EPOCH; then deno.json, `git rev-parse` (with "-dirty" for uncommitted changes), now.
 */
export async function buildStamp(
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
  now: Date = new Date(),
): Promise<BuildInfo> {
  const epoch = env("SOURCE_DATE_EPOCH");
  if (epoch !== undefined && !/^\d+$/.test(epoch)) {
    throw new BuildError(`SOURCE_DATE_EPOCH must be whole seconds since 1970, got ${JSON.stringify(epoch)}`);
  }
  const date = (epoch ? new Date(Number(epoch) * 1000) : now).toISOString().replace(/\.\d{3}Z$/, "Z");
  return {
    version: env("CTAGENT_VERSION") || denoJson.version,
    commit: env("CTAGENT_COMMIT") || await gitCommit(),
    date,
  };
}

async function gitCommit(): Promise<string> {
  try {
    const head = await run("git", ["rev-parse", "--short=12", "HEAD"], { cwd: ROOT });
    if (head.code !== 0) return "unknown";
    const dirty = await run("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: ROOT });
    return head.stdout.trim() + (dirty.stdout.trim() ? "-dirty" : "");
  } catch {
    return "unknown"; // no git on the build machine
  }
}

/** The first lines of the bundle: a shebang for `./ctagent.js` and the stamp agent/version.ts reads. */
export function stampHeader(info: BuildInfo): string {
  return `#!/usr/bin/env -S deno run -A\n` +
    `globalThis.${STAMP_GLOBAL} = Object.freeze(${JSON.stringify(info)});\n`;
}

/**
 * Module specifiers the bundle still imports that are not runtime built-ins: anything here would need the
 * network, a cache or a file beside the bundle at run time.
 */
export function externalImports(code: string): string[] {
  const found = new Set<string>();
  const patterns = [
    /^\s*import\s+(?:[\w*{}\s,$]+\s+from\s+)?["']([^"']+)["']/gm,
    /^\s*export\s+[\w*{}\s,$]+\s+from\s+["']([^"']+)["']/gm,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const re of patterns) {
    for (const m of code.matchAll(re)) if (!m[1].startsWith("node:")) found.add(m[1]);
  }
  return [...found].sort();
}

/** Places that load a file relative to the module at run time: they break once bundled. */
export function moduleRelativeLoads(code: string): string[] {
  return [...code.matchAll(/new URL\(\s*["'`]([^"'`]+)["'`]\s*,\s*import\.meta\.url\s*\)/g)].map((m) => m[1]);
}

export interface BundleOptions {
  entry?: string;
  out?: string;
  stamp?: BuildInfo;
  /** Run build/bundle_ui.ts first when it exists (default true). */
  ui?: boolean;
  deno?: string;
  log?: (line: string) => void;
}

/** Bundles `entry` into `out` (stamped); returns the stamp and the output's size. */
export async function bundle(
  opts: BundleOptions = {},
): Promise<{ out: string; stamp: BuildInfo; bytes: number }> {
  const entry = resolve(opts.entry ?? DEFAULT_ENTRY);
  const out = resolve(opts.out ?? DEFAULT_OUT);
  const deno = opts.deno ?? Deno.execPath();
  const log = opts.log ?? ((l: string) => console.error(l));
  if (!existsSync(entry)) throw new BuildError(`Cannot bundle: entry ${entry} does not exist`);

  if ((opts.ui ?? true) && existsSync(UI_BUNDLER)) {
    log(`bundle: page (${UI_BUNDLER})`);
    const ui = await run(deno, ["run", "-A", UI_BUNDLER], { cwd: ROOT });
    if (ui.code !== 0) {
      throw new BuildError(`Cannot bundle the page: ${UI_BUNDLER} exited ${ui.code}\n${ui.stderr}`);
    }
  }

  const stamp = opts.stamp ?? await buildStamp();
  await mkdir(dirname(out), { recursive: true });
  const tmp = `${out}.${Deno.pid}.tmp`;
  log(`bundle: ${entry} -> ${out}`);
  const res = await run(deno, ["bundle", "--platform", "deno", "--quiet", "--output", tmp, entry], {
    cwd: ROOT,
  });
  if (res.code !== 0) {
    await rm(tmp, { force: true });
    throw new BuildError(`deno bundle ${entry} failed (exit ${res.code}):\n${res.stderr}`);
  }
  let code = await readFile(tmp, "utf8");
  await rm(tmp, { force: true });
  const external = externalImports(code);
  if (external.length) {
    throw new BuildError(
      `The bundle of ${entry} still imports ${external.join(", ")}: it would not run on its own`,
    );
  }
  for (const rel of moduleRelativeLoads(code)) {
    log(
      `bundle: warning: ${
        JSON.stringify(rel)
      } is loaded relative to the module; it will be missing at run time`,
    );
  }
  if (code.startsWith("#!")) code = code.slice(code.indexOf("\n") + 1);
  code = stampHeader(stamp) + code;
  await writeFile(`${out}.tmp`, code);
  await rename(`${out}.tmp`, out);
  return { out, stamp, bytes: new TextEncoder().encode(code).length };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { entry: { type: "string" }, out: { type: "string" }, "no-ui": { type: "boolean" } },
  });
  try {
    const r = await bundle({ entry: values.entry, out: values.out, ui: !values["no-ui"] });
    console.error(
      `bundle: wrote ${r.out} (${(r.bytes / 1024).toFixed(0)} KiB), ctagent ${r.stamp.version} ` +
        `commit ${r.stamp.commit} built ${r.stamp.date}`,
    );
  } catch (e) {
    console.error(`bundle: ${e instanceof BuildError ? e.message : (e as Error).stack}`);
    Deno.exit(1);
  }
}
