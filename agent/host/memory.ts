// Gives memory the process holds but does not use back to the OS (issue 18: a small idle agent).
//
// glibc's malloc keeps what is freed in its arenas for reuse, and returns to the OS only the free space at the top
// of the main heap. What V8's isolates, SQLite and Deno's own module loading freed in the middle of an arena, or in
// the arena of another thread, stays resident: on an idle daemon after its first runs (default DCR, no realtime)
// ~18-25 MB of RssAnon, measured by calling `malloc_trim(0)` into the running agent with gdb. `malloc_trim(0)`
// walks every arena (glibc ≥ 2.8) and gives back each free page.
//
// The executable's own pages stay mapped once touched: the code and read-only data that start-up and a run went
// through are ~43 MB of an idle daemon's RSS (the bundle, 45 s after start), pages that nothing reads until the
// next run. `releaseExecutablePages` unmaps the ones that are only the file's
// (`madvise(MADV_DONTNEED)` on the executable's read-only mappings that hold no page copied on write): they stay in
// the page cache, which the kernel can reclaim first under pressure, and the next run maps back, without a disk
// read while they are cached, the ones it touches. A page copied on write (relocated data) would go back to the
// file's bytes, so a mapping that holds any is left alone, as is anything writable or locked.
// Only glibc on Linux has these calls here: on musl (whose libc is not `libc.so.6`), Windows and macOS they do
// nothing.

const SYMBOLS = {
  malloc_trim: { parameters: ["usize"], result: "i32" },
  madvise: { parameters: ["usize", "usize", "i32"], result: "i32" },
} as const;
/** madvise(2): the pages may go; a later access maps them back from the file. */
const MADV_DONTNEED = 4;

let libc: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] | null | undefined;

function glibc(): typeof libc {
  if (libc === undefined) {
    libc = null;
    if (Deno.build.os === "linux") {
      try {
        libc = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
      } catch {
        // Not glibc (musl), or no permission to load a library: the memory stays, as without this.
      }
    }
  }
  return libc;
}

/** Returns the C heap's free pages to the OS; says whether any was returned (false where there is no such call). */
export function trimNativeHeap(): boolean {
  const c = glibc();
  return c ? c.malloc_trim(0n) === 1 : false;
}

/** A mapping whose resident pages are all the file's own. */
export interface FileRange {
  start: bigint;
  length: bigint;
  /** Its resident bytes. */
  rss: number;
}

const HEADER = /^([0-9a-f]+)-([0-9a-f]+) ([-r][-w][-x][ps]) [0-9a-f]+ [0-9a-f]+:[0-9a-f]+ \d+ +(.*)$/;

/**
 * The mappings of `file` in `smaps` (the text of /proc/PID/smaps) that can be let go: not writable, resident,
 * no page copied on write (`Anonymous: 0 kB`), none locked.
 */
export function releasableRanges(smaps: string, file: string): FileRange[] {
  const out: FileRange[] = [];
  let cur: (FileRange & { anon: number; locked: number }) | null = null;
  const done = () => {
    if (cur && cur.rss > 0 && cur.anon === 0 && cur.locked === 0) {
      out.push({ start: cur.start, length: cur.length, rss: cur.rss });
    }
    cur = null;
  };
  for (const line of smaps.split("\n")) {
    const h = HEADER.exec(line);
    if (h) {
      done();
      if (h[4] === file && h[3][1] === "-") {
        const start = BigInt("0x" + h[1]);
        cur = { start, length: BigInt("0x" + h[2]) - start, rss: -1, anon: -1, locked: -1 };
      }
      continue;
    }
    if (!cur) continue;
    const colon = line.indexOf(":");
    const field = line.slice(0, colon);
    if (field !== "Rss" && field !== "Anonymous" && field !== "Locked") continue;
    const kb = /^\s*(\d+) kB$/.exec(line.slice(colon + 1));
    // A field that cannot be read leaves the mapping alone (-1 is never "none").
    const bytes = kb ? Number(kb[1]) * 1024 : -1;
    if (field === "Rss") cur.rss = bytes;
    else if (field === "Anonymous") cur.anon = bytes;
    else cur.locked = bytes;
  }
  done();
  return out;
}

/**
 * Unmaps the executable's resident pages that are only the file's (see above); answers how many bytes were let go
 * (0 where there is no such call, or /proc cannot be read).
 */
export function releaseExecutablePages(): number {
  const c = glibc();
  if (!c) return 0;
  let smaps: string, exe: string;
  try {
    smaps = Deno.readTextFileSync("/proc/self/smaps");
    exe = Deno.execPath();
  } catch {
    return 0;
  }
  let released = 0;
  for (const r of releasableRanges(smaps, exe)) {
    if (c.madvise(r.start, r.length, MADV_DONTNEED) === 0) released += r.rss;
  }
  return released;
}

/** Both of the above: what an idle process gives back once its work is done. */
export function releaseUnusedMemory(): void {
  trimNativeHeap();
  releaseExecutablePages();
}
