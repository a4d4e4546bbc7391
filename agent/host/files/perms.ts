// Whether other users can reach a path: every directory above it searchable by all (POSIX `o+x`).
import { dirname } from "node:path";

/**
 * A checker of "every directory above `realPath` lets every user through", each directory looked at once
 * (cached, bounded). A directory that does not exist (a removed file's) stands in the way of nobody; one
 * that cannot be looked at counts as closed. Windows: always false (its ACLs are not read here).
 */
export function dirsOpenChecker(max = 4096): (realPath: string) => boolean {
  const known = new Map<string, boolean>();
  const open = (dir: string): boolean => {
    const have = known.get(dir);
    if (have !== undefined) return have;
    const parent = dirname(dir);
    let mine: boolean;
    try {
      mine = (Deno.statSync(dir).mode! & 0o001) !== 0;
    } catch (e) {
      mine = e instanceof Deno.errors.NotFound;
    }
    const result = mine && (parent === dir || open(parent));
    if (known.size >= max) known.clear();
    known.set(dir, result);
    return result;
  };
  return (realPath) => Deno.build.os !== "windows" && open(dirname(realPath));
}

/** The path a file's content is read from (links followed), or the path itself when that cannot be told. */
export function realPathOf(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}
