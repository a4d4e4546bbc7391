// The bundle as the benches start it: as the compiled program runs (build/v8_flags.ts), after one first start.
import { spawnSync } from "node:child_process";
import { NO_CODE_CACHE_ARG, V8_FLAGS_ARG } from "../v8_flags.ts";

/** `deno run` arguments before the bundle's path: ctagent's V8 flags, no code cache (the compiled program's form). */
export const AS_COMPILED: readonly string[] = [V8_FLAGS_ARG, NO_CODE_CACHE_ARG];

/**
 * Starts the bundle `js` once (`--version`): a new file's first `deno run` costs ~40 MB more RSS, which a daemon
 * keeps (Deno's first analysis of the file, then cached in DENO_DIR: 131 MB vs 88-89 MB for `--once`), and more
 * time; the compiled program never pays it, so the benches' figures are of the starts after that one.
 */
export function firstStart(js: string): void {
  spawnSync(Deno.execPath(), ["run", "-A", NO_CODE_CACHE_ARG, js, "--version"]);
}
