// The V8 flags ctagent runs with, in one place: `deno task compile` embeds them in the executable, and
// `deno task start` and the benchmarks pass them (v8_flags_test.ts keeps deno.json in step).
// An agent that lives on every server favours memory over speed, but pays only for what keeps memory down:
// a young generation of 1 MB per isolate (--max-semi-space-size, in MB; V8 grows it up to 16) and an old
// generation that may grow 10 % past what was live after a collection before the next one
// (--heap-growing-percent). V8's --optimize-for-size sets the first and has the collector favour memory in every
// other decision too; with it instead of these two, the first files scan of /usr took 9.7-12.6 s instead of
// 9.1-9.9 s (peak RSS 128-132 MB against 134-136 MB), an unchanged rescan 2.05-2.21 s instead of 1.88-2.15 s, and
// the idle daemon held the same (RssAnon 43-45 MB). With V8's defaults the same first scan peaked at 248-264 MB.
// --expose-gc lets the daemon collect a big run's garbage when the run ends (agent/heap.ts) instead of growing
// the heap by it.
export const V8_FLAGS: readonly string[] = [
  "--max-semi-space-size=1",
  "--heap-growing-percent=10",
  "--expose-gc",
];

/** The command-line argument that passes V8_FLAGS to `deno run` / `deno compile`. */
export const V8_FLAGS_ARG = `--v8-flags=${V8_FLAGS.join(",")}`;

// The compiled program writes a V8 code cache of the modules it loads at start on its first start, into the
// temp directory, and reads it on later starts. For the one-file program (4 MB bundle under `deno run`, the same
// mechanism, `--once`) writing it cost ~8 MB of peak RSS (139 MB vs 131 MB on a file's first start) and reading
// it 0-4 MB on later starts (89-93 MB vs 88-89 MB); a temp directory cleaned at boot makes every boot a first
// start. Without it a start takes ~30 ms more: the agent favours memory.
/** The `deno compile` / `deno run` argument that turns V8's code cache off (the compiled program's form). */
export const NO_CODE_CACHE_ARG = "--no-code-cache";
