// The V8 flags ctagent runs with, in one place: `deno task compile` embeds them in the executable, and
// `deno task start` and the benchmarks pass them (v8_flags_test.ts keeps deno.json in step).
// An agent that lives on every server favours memory over speed: with --optimize-for-size V8 collects
// garbage before growing the heap, which halves the peak RSS of a big files scan (issue 3's bench) for a
// few percent of its time. --expose-gc lets the daemon collect a big run's garbage when the run ends
// (agent/heap.ts) instead of growing the heap by it.
export const V8_FLAGS: readonly string[] = ["--optimize-for-size", "--expose-gc"];

/** The command-line argument that passes V8_FLAGS to `deno run` / `deno compile`. */
export const V8_FLAGS_ARG = `--v8-flags=${V8_FLAGS.join(",")}`;

// The compiled program writes a V8 code cache of the modules it loads at start on its first start, into the
// temp directory, and reads it on later starts. For the one-file program (4 MB bundle under `deno run`, the same
// mechanism, `--once`) writing it cost ~8 MB of peak RSS (139 MB vs 131 MB on a file's first start) and reading
// it 0-4 MB on later starts (89-93 MB vs 88-89 MB); a temp directory cleaned at boot makes every boot a first
// start. Without it a start takes ~30 ms more: the agent favours memory.
/** The `deno compile` / `deno run` argument that turns V8's code cache off (the compiled program's form). */
export const NO_CODE_CACHE_ARG = "--no-code-cache";
