// The history's export (`ctagent export`): a JSON Lines file that verifies itself offline (`ctagent verify --file`).
//
//   line 1    {"format":"ctagent-history","version":1,"computer":…,"database":…,"exportedAt":…,"since":…,
//              "from":{"seq":S,"hash":H}}                         the link the rows continue from
//   then      {"seq":N,"hash":…,"row":[…]}                       one per link, row = its canonical fields
//   last      {"end":{"rows":R,"last":{"seq":…,"hash":…},"sha256":…}}   sha256 of every byte before this line
//
// Every line is the exact JSON.stringify of what it holds, ending in "\n". The rows re-chain from `from`
// (db/chain.ts), so an edited row, a removed or reordered line shows; the trailer's sha256 covers the header
// and everything else, so no byte of the file can change unnoticed.
import { createHash } from "node:crypto";
import type { DatabaseSync } from "node:sqlite";
import { canonicalArray, chainRows, GENESIS, type Link, linkHash, storedHashAt } from "./chain.ts";

export const FORMAT = "ctagent-history";
export const VERSION = 1;

export interface ExportHeader {
  format: typeof FORMAT;
  version: typeof VERSION;
  computer: string;
  database: string;
  /** ISO 8601. */
  exportedAt: string;
  /** The --since given (ISO 8601), or null for the whole chain. */
  since: string | null;
  from: Link;
}

/**
 * Writes the chain (the links written at or after `since`, else all that retention kept) to `write`, a line
 * at a time. Run it inside a read transaction for a consistent view. Returns the rows and the last link.
 */
export function writeExport(
  raw: DatabaseSync,
  write: (text: string) => void,
  opts: { computer: string; database: string; now: number; since?: number },
): { rows: number; last: Link } {
  const checkpoint =
    (raw.prepare("SELECT through_seq FROM chain_checkpoints ORDER BY id DESC LIMIT 1").get() as
      | { through_seq: number }
      | undefined)?.through_seq ?? 0;
  let fromSeq = checkpoint;
  if (opts.since !== undefined) {
    const first = [
      raw.prepare("SELECT min(seq) AS s FROM changes WHERE seq > ? AND at >= ?").get(checkpoint, opts.since),
      raw.prepare("SELECT min(seq) AS s FROM acks WHERE seq > ? AND at >= ?").get(checkpoint, opts.since),
    ].map((r) => (r as { s: number | null }).s).filter((s): s is number => s !== null);
    const head = raw.prepare("SELECT value FROM state WHERE key = 'chain.head'").get() as
      | { value: string }
      | undefined;
    fromSeq = first.length
      ? Math.min(...first) - 1
      : head
      ? (JSON.parse(head.value) as Link).seq
      : checkpoint;
  }
  const sha = createHash("sha256");
  const line = (value: unknown) => {
    const text = JSON.stringify(value) + "\n";
    sha.update(text);
    write(text);
  };
  const header: ExportHeader = {
    format: FORMAT,
    version: VERSION,
    computer: opts.computer,
    database: opts.database,
    exportedAt: new Date(opts.now).toISOString(),
    since: opts.since === undefined ? null : new Date(opts.since).toISOString(),
    from: { seq: fromSeq, hash: storedHashAt(raw, fromSeq) ?? GENESIS },
  };
  line(header);
  let rows = 0, last: Link = header.from;
  for (const r of chainRows(raw, fromSeq)) {
    last = { seq: r.seq, hash: r.hash };
    line({ seq: r.seq, hash: r.hash, row: canonicalArray(r.table, r.values) });
    rows++;
  }
  const end = { end: { rows, last, sha256: sha.digest("hex") } };
  write(JSON.stringify(end) + "\n");
  return { rows, last };
}

export interface FileReport {
  ok: boolean;
  header?: ExportHeader;
  rows: number;
  /** The last link that checked out. */
  last?: Link;
  /** The first thing wrong: its line (1-based) and what. */
  broken?: { line: number; seq?: number; message: string };
}

const isLink = (v: unknown): v is Link =>
  typeof v === "object" && v !== null && Number.isSafeInteger((v as Link).seq) &&
  typeof (v as Link).hash === "string" && /^[0-9a-f]{64}$/.test((v as Link).hash);

/** Verifies an export without any database: every line, every link, the trailer's count, last link and sha256. */
export function verifyExport(bytes: Uint8Array): FileReport {
  let rows = 0;
  const fail = (
    line: number,
    message: string,
    seq?: number,
    header?: ExportHeader,
    last?: Link,
  ): FileReport => ({
    ok: false,
    header,
    rows,
    last,
    broken: { line, ...(seq === undefined ? {} : { seq }), message },
  });
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return fail(1, "not UTF-8 text");
  }
  if (!text.endsWith("\n")) {
    return fail(text.split("\n").length, "the file does not end with a line break (cut short?)");
  }
  const lines = text.slice(0, -1).split("\n");
  const parsed: unknown[] = [];
  for (const [i, l] of lines.entries()) {
    let v: unknown;
    try {
      v = JSON.parse(l);
    } catch (e) {
      return fail(i + 1, `not JSON: ${(e as Error).message}`);
    }
    if (JSON.stringify(v) !== l) {
      return fail(i + 1, "not in the exact form ctagent writes (a byte was changed)");
    }
    parsed.push(v);
  }
  const header = parsed[0] as ExportHeader;
  if (
    typeof header !== "object" || header === null || header.format !== FORMAT || header.version !== VERSION ||
    !isLink(header.from)
  ) {
    return fail(1, `not a ${FORMAT} version ${VERSION} header`);
  }
  if (lines.length < 2) return fail(1, "no trailer: the file was cut short", undefined, header);
  let last = header.from;
  for (let i = 1; i < lines.length - 1; i++) {
    const r = parsed[i] as { seq: number; hash: string; row: unknown[] };
    if (
      !isLink(r) || !Array.isArray(r.row) || r.row[1] !== r.seq ||
      (r.row[0] !== "change" && r.row[0] !== "change+origin" && r.row[0] !== "ack")
    ) {
      return fail(i + 1, "not a chain row", undefined, header, last);
    }
    if (r.seq !== last.seq + 1) {
      return fail(
        i + 1,
        r.seq <= last.seq
          ? `seq ${r.seq} after seq ${last.seq}: rows reordered`
          : `seq ${last.seq + 1}${r.seq - last.seq > 2 ? `–${r.seq - 1}` : ""} missing before seq ${r.seq}`,
        r.seq,
        header,
        last,
      );
    }
    const hash = linkHash(last.hash, JSON.stringify(r.row));
    if (hash !== r.hash) {
      return fail(
        i + 1,
        `${r.row[0]} ${r.row[2]} (seq ${r.seq}): content or hash changed`,
        r.seq,
        header,
        last,
      );
    }
    last = { seq: r.seq, hash };
    rows++;
  }
  const n = lines.length;
  const end = (parsed[n - 1] as { end?: { rows: number; last: Link; sha256: string } }).end;
  if (!end || !isLink(end.last)) {
    return fail(n, "no trailer: the file was cut short", undefined, header, last);
  }
  if (end.rows !== rows) {
    return fail(n, `the trailer counts ${end.rows} rows, the file holds ${rows}`, undefined, header, last);
  }
  if (end.last.seq !== last.seq || end.last.hash !== last.hash) {
    return fail(
      n,
      `the trailer's last link (seq ${end.last.seq}) is not the file's (seq ${last.seq})`,
      undefined,
      header,
      last,
    );
  }
  const before = bytes.subarray(0, bytes.length - new TextEncoder().encode(lines[n - 1] + "\n").length);
  if (createHash("sha256").update(before).digest("hex") !== end.sha256) {
    return fail(
      n,
      "the trailer's sha256 does not match the lines before it (the header or a row was changed)",
      undefined,
      header,
      last,
    );
  }
  return { ok: true, header, rows, last };
}
