// The V8 flags ctagent runs with, in one place: `deno task compile` embeds them in the executable, and
// `deno task start` and the benchmarks pass them (v8_flags_test.ts keeps deno.json in step).
// An agent that lives on every server favours memory over speed, but pays only for what keeps memory down:
// a young generation of at most 8 MB per isolate (--max-semi-space-size, in MB; V8 starts each at 1-2 MB and
// grows it only while much of what is allocated survives a collection) and an old generation that may grow 10 %
// past what was live after a collection before the next one (--heap-growing-percent). V8's --optimize-for-size
// sets the first and has the collector favour memory in every other decision too; with it instead of these two
// (the young generation then at 1 MB, on a slower machine), the first files scan of /usr took 9.7-12.6 s instead
// of 9.1-9.9 s (peak RSS 128-132 MB against 134-136 MB), an unchanged rescan 2.05-2.21 s instead of 1.88-2.15 s,
// and the idle daemon held the same (RssAnon 43-45 MB). With V8's defaults the same first scan peaked at
// 248-264 MB.
// The young generation was capped at 1 MB until a rescan's profile showed what it cost (/usr, 117k files): the
// agent's thread made 223 scavenges and 7 full collections (165 ms of pauses in a 0.85 s rescan) and V8's helper
// threads spent ~0.15 s more on them, beside the thread reading the tree ahead on a machine of two cores; what a
// run keeps for a few hundred files (a directory's listing, a window of stored rows) lived through a scavenge or
// two and went to the old generation, which then needed a full collection every ~100 ms. With 8 MB, `--once`
// rescans alternated with 1 MB ones, three times 8-10 each: medians 0.72 against 0.825 s, 0.70 against 0.745 s,
// 0.98 against 1.145 s (a slow hour); a first scan's pauses on the agent's thread 336 ms against 703 ms; a first
// scan of 100k small files 2.89-2.96 s against 3.29-4.71 s. What it costs: a first scan's peak RSS 138-146 MB
// against 123-125 MB (the young generations of the agent's thread and of the hash workers grow; a hash worker's
// is given back since, once its heap passes WORKER_HEAP_BOUND in agent/host/files/hash_worker.ts), 117-125 MB
// against 99-110 MB for 10k and 100k small files, an unchanged rescan's the same (106-111 MB), a `--once` of the
// default DCR 77-79 MB against 65-66 MB (no faster: 2 MB 67-70, 4 MB 71-73); the idle daemon, what lives on
// every server, 54.8 MB against 53.4 MB 45 s after start (`deno task bench soak`).
export const V8_FLAGS: readonly string[] = [
  "--max-semi-space-size=8",
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
