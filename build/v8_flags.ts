// The V8 flags ctagent runs with, in one place: `deno task compile` embeds them in the executable, and
// `deno task start` and the benchmarks pass them (v8_flags_test.ts keeps deno.json in step).
// An agent that lives on every server favours memory over speed: with --optimize-for-size V8 collects
// garbage before growing the heap, which halves the peak RSS of a big files scan (issue 3's bench) for a
// few percent of its time. --expose-gc lets the daemon collect a big run's garbage when the run ends
// (agent/heap.ts) instead of growing the heap by it.
export const V8_FLAGS: readonly string[] = ["--optimize-for-size", "--expose-gc"];

/** The command-line argument that passes V8_FLAGS to `deno run` / `deno compile`. */
export const V8_FLAGS_ARG = `--v8-flags=${V8_FLAGS.join(",")}`;
