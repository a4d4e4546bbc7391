// Fills a state database with many synthetic items and changes (bench and paging tests), through node:sqlite.
import type { OpenedDb } from "../../db/open.ts";

const HOUR = 3600_000;

function softwareItem(i: number): Record<string, unknown> {
  return {
    SoftwareName: `pkg-${String(i).padStart(6, "0")}-${["lib", "tool", "daemon", "doc"][i % 4]}`,
    CurrentVersion: `${i % 7}.${i % 13}.${i % 100}-${i % 3}`,
    Architecture: ["amd64", "all", "i386"][i % 3],
    Publisher: `Maintainer ${i % 250} <m${i % 250}@example.org>`,
    SoftwareDescription: `Synthetic package number ${i} for the bench`,
    Size: (i * 7919) % 9_000_000,
    SoftwareType: "Package",
    Manager: "dpkg",
    Status: "installed",
    InstalledAt: null,
  };
}

function fileItem(i: number): Record<string, unknown> {
  return {
    FileSystemPath: `/srv/bench/d${i % 100}/file-${i}.conf`,
    FileContentChecksum: (i * 2654435761 >>> 0).toString(16).padStart(64, "0"),
    Size: i % 65536,
    DateModified: new Date(1_700_000_000_000 + i * 1000).toISOString(),
    DateCreated: new Date(1_700_000_000_000).toISOString(),
    Owner: "root",
    Mode: "0644",
  };
}

/**
 * Inserts `items` software items, `files` file items and `changes` change rows spread over the last
 * `spanMs` before `now` (a third Modified, a third Added, a third Removed), all in one transaction.
 */
export function fillSynthetic(
  db: OpenedDb,
  opts: { software?: number; files?: number; changes?: number; now?: number; spanMs?: number },
): void {
  const now = opts.now ?? Date.now();
  const span = opts.spanMs ?? 30 * 24 * HOUR;
  const raw = db.raw;
  // Loading a million changes through the per-row trigram trigger is slow; index them in one pass instead.
  const trigger = raw.prepare("select sql from sqlite_master where name = 'changes_fts_ins'").get() as
    | { sql: string }
    | undefined;
  if (trigger) raw.exec("drop trigger changes_fts_ins");
  raw.exec("begin");
  try {
    const item = raw.prepare(
      "insert into items (collector, key, checksum, data, error, first_seen, changed_at) values (?, ?, ?, ?, null, ?, ?)",
    );
    for (let i = 0; i < (opts.software ?? 0); i++) {
      const d = softwareItem(i);
      item.run(
        "software",
        `dpkg:${d.SoftwareName}:${d.Architecture}`,
        null,
        JSON.stringify(d),
        now - span,
        now,
      );
    }
    for (let i = 0; i < (opts.files ?? 0); i++) {
      const d = fileItem(i);
      item.run("files", d.FileSystemPath as string, null, JSON.stringify(d), now - span, now);
    }
    const change = raw.prepare(
      "insert into changes (run_id, at, collector, key, category, fields_changed, previous, current) values (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    const n = opts.changes ?? 0;
    for (let i = 0; i < n; i++) {
      const at = now - Math.floor(span * (n - i) / n);
      const isFile = i % 2 === 1;
      const d = isFile ? fileItem(i % 100_000) : softwareItem(i % 100_000);
      const key = isFile ? d.FileSystemPath as string : `dpkg:${d.SoftwareName}:${d.Architecture}`;
      const category = ["Modified", "Added", "Removed"][i % 3];
      const prev = isFile ? { ...d, FileContentChecksum: "0".repeat(64) } : { ...d, CurrentVersion: "0.0" };
      const fields = isFile ? ["FileContentChecksum"] : ["CurrentVersion"];
      change.run(
        1 + Math.floor(i / 1000),
        at,
        isFile ? "files" : "software",
        key,
        category,
        category === "Modified" ? JSON.stringify(fields) : "[]",
        category === "Added" ? null : JSON.stringify(prev),
        category === "Removed" ? null : JSON.stringify(d),
      );
    }
    if (trigger) {
      raw.exec("insert into changes_fts (changes_fts) values ('rebuild')");
      raw.exec(trigger.sql);
    }
    raw.exec("commit");
  } catch (e) {
    raw.exec("rollback");
    if (trigger) raw.exec(trigger.sql);
    throw e;
  }
}
