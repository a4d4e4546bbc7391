// `deno task bundle`: the page, then the whole agent, into one stamped, minified JS file that needs nothing beside it
// (its source map goes beside it, to read stack traces by).
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
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

/** A file loaded relative to its module at run time (`new URL("./x", import.meta.url)`): missing once bundled. */
export interface RelativeLoad {
  /** The exact expression in the bundle. */
  expr: string;
  rel: string;
  /** The source file it names, from the `// path` comment esbuild writes before each module's code. */
  source?: string;
}

export function moduleRelativeLoads(code: string, root: string = ROOT): RelativeLoad[] {
  const loads: RelativeLoad[] = [];
  const re = /new URL\(\s*["'`]([^"'`]+)["'`]\s*,\s*import\.meta\.url\s*\)/g;
  for (const m of code.matchAll(re)) {
    const before = code.slice(0, m.index);
    const module = [...before.matchAll(/^\/\/ (\S+\.(?:ts|tsx|js|mjs|json))$/gm)].at(-1)?.[1];
    const source = module ? resolve(root, dirname(module), m[1]) : undefined;
    loads.push({ expr: m[0], rel: m[1], source: source && existsSync(source) ? source : undefined });
  }
  return loads;
}

/** Worker modules (named `*_worker.ts` by convention) travel inside the bundle and start from a blob: URL. */
export const WORKER_FILE = /_worker\.(ts|js)$/;

/**
 * The header that holds embedded workers' code and hands each out as a blob: URL (made once). Each is kept gzipped,
 * in base64. As text, a worker's code was in the running program three times while no worker ran (the page's
 * 1.45 MB: in V8's copy of the script, in Deno's, and as the string the header made at start); gzipped, it is a
 * quarter of that in the script, and becomes text only when its worker starts, as the blob's bytes. An idle daemon
 * (default DCR, 45 s after start): RssAnon 47.6-48.5 MB before, 44.3-46.4 MB after. `node:zlib` is a runtime
 * built-in: the bundle still needs nothing beside it.
 */
export function workerHeader(sources: string[]): string {
  if (!sources.length) return "";
  const packed = sources.map((s) => gzipSync(s, { level: 9 }).toString("base64"));
  return `import { gunzipSync as __ctagentGunzip } from "node:zlib";\n` +
    `const __ctagentWorkerSources = ${JSON.stringify(packed)};\n` +
    `const __ctagentWorkerUrls = [];\n` +
    `function __ctagentWorkerUrl(i) {\n` +
    `  __ctagentWorkerUrls[i] ??= URL.createObjectURL(\n` +
    `    new Blob([__ctagentGunzip(Uint8Array.fromBase64(__ctagentWorkerSources[i]))], { type: "text/javascript" }),\n` +
    `  );\n` +
    `  return new URL(__ctagentWorkerUrls[i]);\n}\n`;
}

/**
 * `code` with each character outside Latin-1 on a comment line written as a \u escape. One such character makes V8
 * hold the whole source two bytes a character (the 4 MB bundle: 8 MB instead of 4); esbuild escapes strings,
 * templates and regular expressions but keeps comments as they are.
 */
export function latin1Comments(code: string): string {
  return code.replace(
    /^[ \t]*(?:\/\/|\/\*).*$/gm,
    (line) => line.replace(/[\u0100-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`),
  );
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

/** The comment that names a script's source map, at its end. */
const MAP_COMMENT = /\n\/\/# sourceMappingURL=\S+\s*$/;

/**
 * Reads what `deno bundle` wrote (and deletes it), without its source-map comment. A shebang line is left empty:
 * the lines stay where the source map says they are.
 */
async function readOutput(tmp: string): Promise<string> {
  const code = (await readFile(tmp, "utf8")).replace(MAP_COMMENT, "\n");
  await rm(tmp, { force: true });
  return code.startsWith("#!") ? code.slice(code.indexOf("\n")) : code;
}

/** Reads what `deno bundle` wrote (and deletes it), checked: nothing left to fetch at run time. */
async function readBundle(tmp: string, entry: string): Promise<string> {
  const code = latin1Comments(await readOutput(tmp));
  const external = externalImports(code);
  if (external.length) {
    throw new BuildError(
      `The bundle of ${entry} still imports ${external.join(", ")}: it would not run on its own`,
    );
  }
  return code;
}

/** A source map (version 3) as esbuild writes it; `mappings` holds one `;`-separated group per line. */
interface SourceMap {
  mappings: string;
  [field: string]: unknown;
}

/** Reads the source map `deno bundle --sourcemap=linked` wrote beside `file` (and deletes it). */
async function readMap(file: string): Promise<SourceMap> {
  const map = JSON.parse(await readFile(`${file}.map`, "utf8")) as SourceMap;
  await rm(`${file}.map`, { force: true });
  return map;
}

/** `map` for its script with `text` put before it (a line without mappings per line of `text`). */
function mapAfter(text: string, map: SourceMap): SourceMap {
  return { ...map, mappings: ";".repeat(text.split("\n").length - 1) + map.mappings };
}

/**
 * `code` (a bundle, checked) minified by esbuild (`--minify`), with its source map carried through when `map` is
 * given. Done after the checks and the embedding of workers, which read the module comments minifying drops.
 * V8 reads and holds the whole source at every start: the bundle went from 2.9 MB to 1.5 MB, `--once` of software
 * and services (`deno task bench startup`) from 0.93-0.97 s to 0.80-0.82 s on a first start, the page's first
 * answer from 1.28 s to 1.08 s, the idle daemon's anonymous memory from 46 MB to 41-43 MB. Names are not kept
 * (`--keep-names` renames each function as it is made: an unchanged rescan of /usr took 2.33 s instead of 1.98 s);
 * the source map says where a stack trace points.
 */
async function minify(
  deno: string,
  code: string,
  tmp: string,
  what: string,
  map?: SourceMap,
): Promise<{ code: string; map?: SourceMap }> {
  const src = `${tmp}.src.js`, min = `${tmp}.min.js`;
  try {
    if (map) {
      await writeFile(`${src}.map`, JSON.stringify(map));
      code += `\n//# sourceMappingURL=${basename(src)}.map\n`;
    }
    await writeFile(src, code);
    const args = ["bundle", "--platform", "deno", "--quiet", "--minify", "--output", min, src];
    if (map) args.splice(1, 0, "--sourcemap=linked");
    const r = await run(deno, args, { cwd: ROOT });
    if (r.code !== 0) {
      throw new BuildError(`Cannot minify the bundle of ${what} (exit ${r.code}):\n${r.stderr}`);
    }
    return { code: await readOutput(min), map: map && await readMap(min) };
  } finally {
    for (const f of [src, `${src}.map`, min, `${min}.map`]) await rm(f, { force: true });
  }
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
  // With its source map, carried through the minifying (minify()).
  const args = ["bundle", "--platform", "deno", "--quiet", "--sourcemap=linked", "--output", tmp, entry];
  const res = await run(deno, args, { cwd: ROOT });
  if (res.code !== 0) {
    await rm(tmp, { force: true });
    await rm(`${tmp}.map`, { force: true });
    throw new BuildError(`deno bundle ${entry} failed (exit ${res.code}):\n${res.stderr}`);
  }
  const map = await readMap(tmp);
  let code = await readBundle(tmp, entry);
  const workers: string[] = [];
  const loads = moduleRelativeLoads(code);
  for (const load of loads.filter((l, i) => loads.findIndex((m) => m.expr === l.expr) === i)) {
    if (!load.source || !WORKER_FILE.test(load.source)) {
      throw new BuildError(
        `The bundle of ${entry} loads ${JSON.stringify(load.rel)} relative to its module (${load.expr}): ` +
          `that file would be missing beside the single file. Import it instead, or name a worker *_worker.ts`,
      );
    }
    log(`bundle: worker ${load.source} embedded`);
    const wtmp = `${out}.worker${workers.length}.${Deno.pid}.tmp`;
    const w = await run(deno, ["bundle", "--platform", "deno", "--quiet", "--output", wtmp, load.source], {
      cwd: ROOT,
    });
    if (w.code !== 0) {
      throw new BuildError(`deno bundle ${load.source} (worker) failed (exit ${w.code}):\n${w.stderr}`);
    }
    const wcode = await readBundle(wtmp, load.source);
    if (moduleRelativeLoads(wcode).length) {
      throw new BuildError(`The worker ${load.source} loads files relative to itself`);
    }
    code = code.replaceAll(load.expr, `__ctagentWorkerUrl(${workers.length})`);
    workers.push((await minify(deno, wcode, wtmp, load.source)).code);
  }
  const header = workerHeader(workers);
  const minified = await minify(deno, header + code, tmp, entry, mapAfter(header, map));
  // The source map goes beside the bundle, not named in it: `deno run` reads a named map as it loads the script
  // (+7.5 MB for the idle daemon). Kept with a build, it says where a stack trace of that build points: in the
  // TypeScript sources (any source-map tool, or `//# sourceMappingURL=ctagent.js.map` added as a last line).
  const stamped = stampHeader(stamp);
  code = stamped + minified.code;
  await writeFile(`${tmp}.map`, JSON.stringify(mapAfter(stamped, minified.map!)));
  await rename(`${tmp}.map`, `${out}.map`);
  await writeFile(tmp, code);
  await rename(tmp, out);
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
