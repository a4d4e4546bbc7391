// Gives the C heap's free memory back to the OS (issue 18: a small idle agent).
//
// glibc's malloc keeps what is freed in its arenas for reuse, and returns to the OS only the free space at the top
// of the main heap. What V8's isolates, SQLite and Deno's own module loading freed in the middle of an arena, or in
// the arena of another thread, stays resident: on an idle daemon after its first runs (default DCR, no realtime)
// ~18-25 MB of RssAnon, measured by calling `malloc_trim(0)` into the running agent with gdb. `malloc_trim(0)`
// walks every arena (glibc ≥ 2.8) and gives back each free page.
// Only glibc has it: on musl (whose libc is not `libc.so.6`), Windows and macOS this does nothing.

const SYMBOLS = { malloc_trim: { parameters: ["usize"], result: "i32" } } as const;

let trim: ((pad: bigint) => number) | null | undefined;

/** Returns the C heap's free pages to the OS; says whether any was returned (false where there is no such call). */
export function trimNativeHeap(): boolean {
  if (trim === undefined) {
    trim = null;
    if (Deno.build.os === "linux") {
      try {
        trim = Deno.dlopen("libc.so.6", SYMBOLS).symbols.malloc_trim;
      } catch {
        // Not glibc (musl), or no permission to load a library: the memory stays with malloc, as without this.
      }
    }
  }
  return trim ? trim(0n) === 1 : false;
}
