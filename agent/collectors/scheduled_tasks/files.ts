// Reading the machine's files through the host where "not there" and "cannot be read" must never be confused.
import { type DirEntry, type FileInfo, type Host, isMissing } from "../../host/mod.ts";

function named(what: string, path: string, e: unknown): Error {
  return new Error(`cannot ${what} ${path}: ${(e as Error).message}`);
}

/** The stat of a machine path (links not followed), or null when nothing is there. Throws when it cannot tell. */
export function lstatOrNull(host: Host, path: string): FileInfo | null {
  try {
    return host.lstatSync(path);
  } catch (e) {
    if (isMissing(e)) return null;
    throw named("stat", path, e);
  }
}

/** The stat of a machine path (links followed), or null when nothing is there. Throws when it cannot tell. */
export function statOrNull(host: Host, path: string): FileInfo | null {
  try {
    return host.statSync(path);
  } catch (e) {
    if (isMissing(e)) return null;
    throw named("stat", path, e);
  }
}

/** A directory's entries sorted by name, or null when it is not there. Throws when it cannot be listed. */
export function listOrNull(host: Host, dir: string): DirEntry[] | null {
  try {
    return host.readDirSync(dir).sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  } catch (e) {
    if (isMissing(e)) return null;
    throw named("list", dir, e);
  }
}

/** A file's bytes, or null when it is not there. Throws when it cannot be read. */
export async function readOrNull(host: Host, path: string): Promise<Uint8Array | null> {
  try {
    return await host.readFile(path);
  } catch (e) {
    if (isMissing(e)) return null;
    throw named("read", path, e);
  }
}
