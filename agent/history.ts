// `ctagent verify` and `ctagent export`: the history's hash chain checked link by link, or written to a file that
// verifies itself offline (`verify --file`), and compared with the database it came from.
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import type { OpenedDb } from "../db/open.ts";
import { type ChainReport, recordVerification, storedHashAt, verifyChain } from "../db/chain.ts";
import { type FileReport, verifyExport, writeExport } from "../db/chain_file.ts";
import { EXIT } from "./exit_codes.ts";

export interface HistoryIo {
  out(text: string): void;
  err(text: string): void;
}

const n = (x: number) => x.toLocaleString("en");

const AGO: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000 };

/** `--since`: ISO 8601, epoch ms, or a span before `now` (7d, 24h, 30m). Throws RangeError naming the value. */
export function parseSince(v: string, now: number): number {
  const span = /^(\d+)([dhm])$/.exec(v);
  if (span) return now - Number(span[1]) * AGO[span[2]];
  if (/^\d+$/.test(v)) return Number(v);
  const t = /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) {
    throw new RangeError(
      `--since: expected ISO 8601 (2026-01-31, 2026-01-31T12:00Z), epoch ms or 7d/24h/30m, got ${
        JSON.stringify(v)
      }`,
    );
  }
  return t;
}

/** What `verify` prints of a database's chain. */
export function chainReportText(r: ChainReport): string {
  const lines: string[] = [];
  const cp = r.checkpoint
    ? ` (the ${n(r.checkpoint.pruned)} before were pruned on ${new Date(r.checkpoint.at).toISOString()})`
    : "";
  if (r.ok && r.rows === 0) lines.push(`History chain: ok, no links since seq ${r.from.seq}${cp}`);
  else if (r.ok) {
    lines.push(`History chain: ok, ${n(r.rows)} links from seq ${r.from.seq + 1} to seq ${r.last.seq}${cp}`);
  } else {
    lines.push(`History chain BROKEN: ${r.broken!.message}`);
    lines.push(`  ${n(r.rows)} links before it check out (seq ${r.from.seq + 1} to ${r.last.seq})${cp}`);
  }
  lines.push(`  last link: seq ${r.last.seq} ${r.last.hash}`);
  return lines.join("\n");
}

/** `ctagent verify`: walks the database's chain, records the result for `status` and the page. */
export async function verifyDatabase(opened: OpenedDb, json: boolean, io: HistoryIo): Promise<number> {
  opened.raw.exec("BEGIN");
  let report: ChainReport;
  try {
    report = verifyChain(opened.raw);
  } finally {
    opened.raw.exec("COMMIT");
  }
  try {
    await recordVerification(opened.db, report);
  } catch {
    // A read-only data directory: the result is printed, not kept.
  }
  io.out(json ? JSON.stringify(report, null, 2) : chainReportText(report));
  return report.ok ? EXIT.OK : EXIT.CHAIN_BROKEN;
}

/**
 * `ctagent verify --file FILE`: the export checked on its own; with a database (`--data-dir`), also whether the
 * database still holds the same link where the file ends (a history rewritten since would not).
 */
export function verifyFile(file: string, opened: OpenedDb | undefined, json: boolean, io: HistoryIo): number {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    io.err(`ctagent: cannot read ${file}: ${(e as Error).message}`);
    return EXIT.USAGE;
  }
  const report: FileReport & { database?: { ok: boolean; message: string } } = verifyExport(bytes);
  if (report.ok && opened && report.last && report.last.seq > 0) {
    const seq = report.last.seq;
    const stored = storedHashAt(opened.raw, seq);
    report.database = stored === undefined
      ? {
        ok: true,
        message: `the database no longer holds seq ${seq} (pruned since, or never had it): not compared`,
      }
      : stored === report.last.hash
      ? { ok: true, message: `the database still holds the same link at seq ${seq}` }
      : {
        ok: false,
        message: `the database's link at seq ${seq} differs from the file's: its history was rewritten`,
      };
    if (!report.database.ok) report.ok = false;
  }
  if (json) io.out(JSON.stringify(report, null, 2));
  else if (report.broken) io.out(`${file}: BROKEN at line ${report.broken.line}: ${report.broken.message}`);
  else {
    const h = report.header!;
    io.out(
      `${file}: ok, ${n(report.rows)} links (seq ${h.from.seq + 1} to ${report.last!.seq}) exported from ` +
        `${h.computer} at ${h.exportedAt}`,
    );
  }
  if (report.database) io.out(`${report.database.ok ? "" : "BROKEN: "}${report.database.message}`);
  return report.ok ? EXIT.OK : EXIT.CHAIN_BROKEN;
}

/** `ctagent export [--out FILE] [--since T]`: the chain as a self-verifying file (stdout without --out). */
export function exportHistory(
  opened: OpenedDb,
  opts: { out?: string; since?: number; computer: string; now?: number },
  io: HistoryIo,
): number {
  const fd = opts.out ? openSync(opts.out, "w", 0o600) : undefined;
  let chunk = "";
  // Whole lines at a time: on stdout each flush is one io.out, which ends it with the last line break.
  const flush = () => {
    if (!chunk) return;
    if (fd !== undefined) writeSync(fd, chunk);
    else io.out(chunk.slice(0, -1));
    chunk = "";
  };
  opened.raw.exec("BEGIN");
  try {
    const r = writeExport(opened.raw, (t) => {
      chunk += t;
      if (chunk.length > 1 << 20) flush();
    }, { computer: opts.computer, database: opened.path, now: opts.now ?? Date.now(), since: opts.since });
    flush();
    if (opts.out) io.err(`ctagent: exported ${n(r.rows)} links (to seq ${r.last.seq}) to ${opts.out}`);
    return EXIT.OK;
  } finally {
    opened.raw.exec("COMMIT");
    if (fd !== undefined) closeSync(fd);
  }
}
