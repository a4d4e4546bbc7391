// JSON mirrors of the last run like the real agent's (File.json, Packages.json, ...), written atomically (SPEC §7.12).
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { CollectorName, Item, Platform } from "../collectors/types.ts";
import type { Db } from "../../db/open.ts";

/** One mirror file: which collector's items, filtered how. */
interface MirrorSpec {
  file: string;
  collector: CollectorName;
  keep?: (item: Item) => boolean;
}

const isUpdate = (i: Item) => String(i.SoftwareType ?? "") === "Update";

/** The mirror files per OS (SPEC §3.4: no registry mirror on Windows either). */
export const MIRRORS: Record<Platform, readonly MirrorSpec[]> = {
  linux: [
    { file: "File.json", collector: "files" },
    { file: "Packages.json", collector: "software" },
    { file: "Services.json", collector: "services" },
  ],
  windows: [
    { file: "File.json", collector: "files" },
    { file: "Applications.json", collector: "software", keep: (i) => !isUpdate(i) },
    { file: "Patches.json", collector: "software", keep: isUpdate },
    { file: "Services.json", collector: "services" },
  ],
};

/** Writes `text` to `path` through a temp file in the same directory, fsynced, then renamed over it. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const fd = openSync(tmp, "w", 0o644);
  try {
    const bytes = new TextEncoder().encode(text);
    let at = 0;
    while (at < bytes.length) at += writeSync(fd, bytes, at);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new Error(`Cannot write mirror ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Writes the mirrors of `os` from the items table into `dir`: a JSON array of items sorted by key, each with
 * its `error` when the last read of it failed. `only` limits it to the mirrors of those collectors (the ones
 * that just ran). Returns the paths written.
 */
export async function writeMirrors(opts: {
  db: Db;
  dir: string;
  os: Platform;
  only?: readonly string[];
}): Promise<string[]> {
  mkdirSync(opts.dir, { recursive: true });
  const specs = MIRRORS[opts.os].filter((m) => !opts.only || opts.only.includes(m.collector));
  const byCollector = new Map<string, Item[]>();
  for (const c of new Set(specs.map((m) => m.collector))) {
    const rows = await opts.db.selectFrom("items").select(["key", "data", "error"])
      .where("collector", "=", c).orderBy("key").execute();
    byCollector.set(
      c,
      rows.map((r) => {
        const item = JSON.parse(r.data) as Item;
        return r.error ? { ...item, error: r.error } : item;
      }),
    );
  }
  const written: string[] = [];
  for (const m of specs) {
    const items = byCollector.get(m.collector) ?? [];
    const path = join(opts.dir, m.file);
    writeFileAtomic(path, JSON.stringify(m.keep ? items.filter(m.keep) : items, null, 1) + "\n");
    written.push(path);
  }
  return written;
}
