// What a files walk could not see or cut, turned into the run's unseen prefixes and warnings (SPEC §7.7).
import type { Settings } from "../../config/dcr.ts";
import { bytesText } from "../../host/files/limit.ts";
import type { WalkReport } from "../../host/files/walk_limits.ts";

/** Lists up to `n` entries and says how many more there were. */
export function some(list: string[], n = 5): string {
  return list.slice(0, n).map((p) => JSON.stringify(p)).join(", ") +
    (list.length > n ? ` and ${list.length - n} more` : "");
}

/** An entry that could not be read, and why (its item's error). */
export interface Unreadable {
  path: string;
  error: string;
}

/** `path (why)`, the path not said twice when the error begins with it. */
function withWhy(u: Unreadable): string {
  const why = u.error.startsWith(`${u.path}: `) ? u.error.slice(u.path.length + 2) : u.error;
  return `${u.path} (${why})`;
}

/** Adds the walks' unseen prefixes to `unseen` and says once per kind what was cut or unreadable. */
export function reportCuts(
  reports: WalkReport[],
  cut: { contentCut: string[]; errors: Unreadable[]; tooBig: string[] },
  fs: Settings["fileSettings"],
  out: { unseen: string[]; warnings: string[] },
): void {
  const all = <T>(pick: (r: WalkReport) => T[]) => reports.flatMap(pick);
  out.unseen.push(...all((r) => r.unseen));
  const unreadable = all((r) => r.unreadable);
  if (unreadable.length) {
    out.warnings.push(
      `${unreadable.length} director${unreadable.length === 1 ? "y" : "ies"} could not be read ` +
        `(their files are kept as last seen): ${some(unreadable.map(withWhy))}`,
    );
  }
  const depthCut = all((r) => r.depthCut);
  if (depthCut.length) {
    out.warnings.push(
      `fileSettings.maxDepth (${fs.maxDepth}) reached: ${depthCut.length} director${
        depthCut.length === 1 ? "y" : "ies"
      } not walked: ${some(depthCut)}`,
    );
  }
  const filesCut = reports.reduce((n, r) => n + r.filesCut, 0);
  const dirsCut = reports.reduce((n, r) => n + r.dirsCut, 0);
  if (filesCut || dirsCut) {
    out.warnings.push(
      `fileSettings.maxFiles (${fs.maxFiles}) reached: ${filesCut} more matching entries and ${dirsCut} directories not examined (kept as last seen)`,
    );
  }
  if (cut.contentCut.length) {
    out.warnings.push(
      `fileSettings.maxContentBytes (${fs.maxContentBytes}) reached: content of ${cut.contentCut.length} text files not captured: ${
        some(cut.contentCut)
      }`,
    );
  }
  if (cut.tooBig.length) {
    out.warnings.push(
      `fileSettings.maxHashBytes (${
        bytesText(fs.maxHashBytes)
      }) exceeded: ${cut.tooBig.length} files not hashed: ${some(cut.tooBig)}`,
    );
  }
  if (cut.errors.length) {
    out.warnings.push(`${cut.errors.length} entries could not be read: ${some(cut.errors.map(withWhy))}`);
  }
}
