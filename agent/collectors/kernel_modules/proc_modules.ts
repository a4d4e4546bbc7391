// Parses /proc/modules (the loaded modules, as lsmod shows them) and /proc/sys/kernel/tainted (the taint flags).

/** One loaded module, as the kernel lists it. */
export interface LoadedModule {
  name: string;
  /** Bytes of memory it takes. */
  size: number;
  /** How many references hold it (lsmod's "Used by" count). */
  refcount: number;
  /** The modules that use it, in the kernel's order (lsmod's "Used by" names). */
  usedBy: string[];
  /** Live, Loading or Unloading. */
  state: string;
  /** Its own taint letters (`OE`: out of tree, unsigned), empty when it taints nothing. */
  taint: string;
}

/**
 * `name size refcount deps state address [(taint)]` per line (kernel/module/procfs.c); deps is `-` or names
 * each followed by a comma. A line of any other shape throws, naming the line.
 */
export function parseProcModules(text: string): LoadedModule[] {
  const out: LoadedModule[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (!line) continue;
    const f = line.split(/\s+/);
    const m = /^\(([A-Z]+)\)$/.exec(f[6] ?? "");
    const size = Number(f[1]);
    // A module being loaded or unloaded may show "-" as its count.
    const refcount = f[2] === "-" ? 0 : Number(f[2]);
    if (
      f.length < 6 || f.length > 7 || (f[6] !== undefined && !m) || !/^\d+$/.test(f[1]) ||
      !Number.isSafeInteger(refcount) || !/^(-|([^,\s]+,)+)$/.test(f[3])
    ) {
      throw new TypeError(
        `Cannot parse /proc/modules line ${
          i + 1
        }: expected "name size refcount deps state address [(taint)]": ` +
          JSON.stringify(raw),
      );
    }
    out.push({
      name: f[0],
      size,
      refcount,
      usedBy: f[3] === "-" ? [] : f[3].split(",").filter(Boolean),
      state: f[4],
      taint: m?.[1] ?? "",
    });
  }
  return out;
}

/** The kernel's taint flags by bit (Documentation/admin-guide/tainted-kernels.rst), letter and meaning. */
export const TAINT_FLAGS: readonly (readonly [letter: string, meaning: string])[] = [
  ["P", "proprietary module loaded"],
  ["F", "module force-loaded"],
  ["S", "kernel running on an out-of-specification system"],
  ["R", "module force-unloaded"],
  ["M", "machine check exception"],
  ["B", "bad page referenced or unexpected page flags"],
  ["U", "taint requested by user space"],
  ["D", "kernel died recently (OOPS or BUG)"],
  ["A", "ACPI table overridden"],
  ["W", "kernel issued a warning"],
  ["C", "staging driver loaded"],
  ["I", "workaround for a platform firmware bug"],
  ["O", "externally-built (out-of-tree) module loaded"],
  ["E", "unsigned module loaded"],
  ["L", "soft lockup occurred"],
  ["K", "kernel live-patched"],
  ["X", "auxiliary taint (distribution-defined)"],
  ["T", "kernel built with the struct randomization plugin"],
  ["N", "in-kernel test run"],
  ["J", "userspace used a mutating debug operation in fwctl"],
];

/** The letters and meanings of a taint mask (bits past the known ones as `bit N`). */
export function parseTainted(text: string): { mask: number; letters: string; meanings: string[] } {
  const t = text.trim();
  if (!/^\d+$/.test(t) || !Number.isSafeInteger(Number(t))) {
    throw new TypeError(
      `Cannot parse /proc/sys/kernel/tainted: expected a number, got ${JSON.stringify(text)}`,
    );
  }
  const mask = Number(t);
  let letters = "";
  const meanings: string[] = [];
  for (let bit = 0; 2 ** bit <= mask; bit++) {
    if (Math.floor(mask / 2 ** bit) % 2 === 0) continue;
    const [letter, meaning] = TAINT_FLAGS[bit] ?? [`?`, `bit ${bit}`];
    letters += letter;
    meanings.push(meaning);
  }
  return { mask, letters, meanings };
}
