// What both walkers take and give: the rule of one walk (its base and last-segment matcher), link modes, the report.

/** Which names one walk reports: everything under `base`, or the names its last segment matches. */
export interface WalkRule {
  /** The directory the pattern applies in (for a literal path: its parent), as a machine path. */
  base: string;
  /** The last segment as written. */
  segment: string;
  /** True when the last segment is matched as a pattern; false for a literal name. */
  pattern: boolean;
  /** Whether a name (last segment) matches. */
  test(name: string): boolean;
}

export type Links = "Follow" | "Ignore" | "Manage";

/** What one walk of one fileInfo entry left out (both walkers fill it). */
export interface WalkReport {
  /** Key prefixes not examined this time (unreadable directories, limits): their old items stay. */
  unseen: string[];
  unreadable: { path: string; error: string }[];
  depthCut: string[];
  /** Matching entries (or directories, uncounted inside) not reported because maxFiles was reached. */
  filesCut: number;
  dirsCut: number;
  /** Directories skipped because they were already walked (symlink loops, links to walked trees). */
  loops: number;
}
