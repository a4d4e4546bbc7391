// Dirty hives: the .LOG1/.LOG2 (or .LOG) transaction logs applied in memory as Windows applies them on load.
//
// A hive whose two sequence numbers differ (or whose base block checksum fails) was not written back before
// the machine stopped; what is missing sits in its transaction logs. Two formats exist:
// - old (Windows 7 and earlier): a copy of the base block, a "DIRT" bitmap with one bit per 512-byte page of
//   the hive bins, then the dirty pages in bitmap order. A log applies when its base block is sound, its two
//   sequence numbers are equal and its last-written time is the hive's.
// - new (Windows 8.1 and later): a copy of the base block, then "HvLE" log entries, each with a sequence
//   number, the hive bins size, two Marvin32 hashes and its dirty pages (offset, size, bytes). Entries apply
//   from the hive's secondary sequence number on, in sequence order across both logs, and stop at the first
//   entry that fails its hashes or breaks the sequence (after a partial reconcile, see chain()).
// Every size a log states is bounded by the files read, so a forged log cannot make the reader allocate more.
// The hive and its logs are never written: the result is a new buffer for openHive().
import { baseBlockChecksum, type HiveHeader, readBaseBlock } from "./hive.ts";

const BASE_BLOCK = 0x1000;
const SECTOR = 512;
const HBIN = 0x1000;
/** The seed of the log entry hashes (its low 32 bits start the first Marvin32 word, the high ones the second). */
const LOG_SEED = 0x82ef4d887a4e55c5n;
const HVLE = 0x454c7648; // "HvLE" read little-endian
const DIRT = 0x54524944; // "DIRT"
const FILE_TYPE_OLD_LOG = 1;
const FILE_TYPE_NEW_LOG = 6;

/** The warning for a dirty hive read without its logs (SPEC §7.23). */
export const DIRTY_NO_LOGS = "hive is dirty, its logs are missing: recent changes may be absent";

export interface LogFile {
  /** How warnings name it (its path). */
  source: string;
  bytes: Uint8Array;
}

export interface Recovered {
  /** The hive as Windows would load it: the input itself when nothing was applied, else a new buffer. */
  bytes: Uint8Array;
  /** Log entries (new format) or logs (old format) applied. */
  applied: number;
  /** What could not be applied, and a dirty hive read without logs. */
  warnings: string[];
}

const rotl = (x: number, n: number) => ((x << n) | (x >>> (32 - n))) >>> 0;

/** Marvin32 of `data` with a 64-bit seed, as the 64-bit pair (low word first) the log entries store. */
export function marvin32(data: Uint8Array, seed = LOG_SEED): bigint {
  let p0 = Number(seed & 0xffffffffn), p1 = Number(seed >> 32n);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const block = () => {
    p1 = (p1 ^ p0) >>> 0;
    p0 = rotl(p0, 20);
    p0 = (p0 + p1) >>> 0;
    p1 = rotl(p1, 9);
    p1 = (p1 ^ p0) >>> 0;
    p0 = rotl(p0, 27);
    p0 = (p0 + p1) >>> 0;
    p1 = rotl(p1, 19);
  };
  const whole = data.length & ~3;
  for (let i = 0; i < whole; i += 4) {
    p0 = (p0 + view.getUint32(i, true)) >>> 0;
    block();
  }
  // The last 0–3 bytes, then a 0x80 marker byte after them.
  let last = 0x80;
  for (let i = data.length - 1; i >= whole; i--) last = ((last << 8) | data[i]) >>> 0;
  p0 = (p0 + last) >>> 0;
  block();
  block();
  return (BigInt(p1) << 32n) | BigInt(p0);
}

interface Page {
  /** Offset in the hive bins data. */
  offset: number;
  data: Uint8Array;
}

interface Entry {
  log: LogFile;
  /** File offset of the entry in its log. */
  at: number;
  sequence: number;
  binsSize: number;
  flags: number;
  pages: Page[];
}

/** A log's base block when it is a sound copy of the given type, else why not. */
function logBase(log: LogFile, type: number): HiveHeader | string {
  const base = readBaseBlock(log.bytes);
  if (!base) return "no base block";
  if (!base.checksumOk) return "its base block checksum fails";
  if (base.fileType !== type) return `it is not a log of this format (file type ${base.fileType})`;
  return base;
}

/**
 * The log entries of a new-format log in order, up to the first that is not sound (bad signature, size,
 * hashes, page references) or does not continue the sequence; `stop` says why reading stopped, if not at
 * the end of the entries.
 */
function logEntries(log: LogFile, maxBins: number): { entries: Entry[]; stop?: { at: number; why: string } } {
  const b = log.bytes;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const entries: Entry[] = [];
  for (let at = SECTOR; at + 40 <= b.length;) {
    if (view.getUint32(at, true) !== HVLE) return { entries }; // the end of the entries (or zero padding)
    const size = view.getUint32(at + 4, true);
    const stop = (why: string) => ({ entries, stop: { at, why } });
    if (size < 40 || size % SECTOR || at + size > b.length) return stop(`has a bad size ${size}`);
    if (marvin32(b.subarray(at + 40, at + size)) !== view.getBigUint64(at + 24, true)) {
      return stop("fails its hash");
    }
    if (marvin32(b.subarray(at, at + 32)) !== view.getBigUint64(at + 32, true)) return stop("fails its hash");
    const sequence = view.getUint32(at + 12, true);
    const binsSize = view.getUint32(at + 16, true);
    const count = view.getUint32(at + 20, true);
    const previous = entries[entries.length - 1];
    if (previous && sequence !== previous.sequence + 1) return { entries }; // older entries left behind
    if (binsSize === 0 || binsSize % HBIN || binsSize > maxBins) {
      return stop(`has a bad hive bins size ${binsSize}`);
    }
    if (count > (size - 40) / 8) return stop(`has a bad dirty page count ${count}`);
    const pages: Page[] = [];
    let data = at + 40 + count * 8;
    for (let i = 0; i < count; i++) {
      const offset = view.getUint32(at + 40 + i * 8, true), length = view.getUint32(at + 44 + i * 8, true);
      if (offset % SECTOR || length % SECTOR || offset + length > binsSize || data + length > at + size) {
        return stop(`has a bad dirty page reference (offset ${offset}, size ${length})`);
      }
      pages.push({ offset, data: b.subarray(data, data + length) });
      data += length;
    }
    entries.push({ log, at, sequence, binsSize, flags: view.getUint32(at + 8, true), pages });
    at += size;
  }
  return { entries };
}

/** A copy of the hive with room for `binsSize` bytes of hive bins (grown with zeros, as Windows grows it). */
function workingCopy(primary: Uint8Array, binsSize: number): Uint8Array {
  const out = new Uint8Array(BASE_BLOCK + binsSize);
  out.set(primary.subarray(0, Math.min(primary.length, out.length)));
  return out;
}

function grow(image: Uint8Array, binsSize: number): Uint8Array {
  if (image.length >= BASE_BLOCK + binsSize) return image;
  const out = new Uint8Array(BASE_BLOCK + binsSize);
  out.set(image);
  return out;
}

/** Writes the base block of a recovered hive: clean, a primary file, `binsSize` long, checksum recomputed. */
function sealBase(image: Uint8Array, base: Uint8Array, sequence: number, binsSize: number, flags?: number) {
  image.set(base.subarray(0, SECTOR));
  const view = new DataView(image.buffer, image.byteOffset, BASE_BLOCK);
  view.setUint32(0x04, sequence, true);
  view.setUint32(0x08, sequence, true);
  view.setUint32(0x1c, 0, true);
  view.setUint32(0x28, binsSize, true);
  if (flags !== undefined) view.setUint32(0x90, flags, true);
  view.setUint32(0x1fc, baseBlockChecksum(image), true);
}

const hex = (n: number) => `0x${n.toString(16)}`;

/**
 * The entries to apply, in order: from the one numbered `from` (the hive's secondary sequence number) on,
 * one number at a time across both logs, up to the first gap. When no entry has that number (after a
 * partial reconcile the hive already holds what came before, Windows having rotated its logs twice), or the
 * hive's base block is unreadable (`from` null), the newest unbroken run applies; but not when a log stopped
 * at an entry it could not trust before that run (`stoppedAfter`: the number its bad entry would have had,
 * null if unknown): that entry may be the missing one, and what follows it would be laid over a hive that
 * lacks it.
 */
function chain(entries: Entry[], from: number | null, stoppedAfter: (number | null)[]): Entry[] {
  const bySequence = new Map<number, Entry>();
  for (const e of entries) {
    if ((from === null || e.sequence >= from) && !bySequence.has(e.sequence)) bySequence.set(e.sequence, e);
  }
  let start: number;
  if (from !== null && bySequence.has(from)) start = from;
  else {
    if (!bySequence.size) return [];
    start = Math.max(...bySequence.keys());
    while (bySequence.has(start - 1)) start--;
    if (stoppedAfter.some((n) => n === null || n < start)) return [];
  }
  const out: Entry[] = [];
  for (let n = start; bySequence.has(n); n++) out.push(bySequence.get(n)!);
  return out;
}

/**
 * The largest hive bins size a recovery may make: a hive grows only by pages its logs carry, so anything
 * larger is a forged or damaged number, and memory stays bounded by the size of the files read.
 */
function maxBinsSize(primary: Uint8Array, logs: LogFile[]): number {
  return primary.length + logs.reduce((n, l) => n + l.bytes.length, 0) - BASE_BLOCK;
}

function recoverNew(primary: Uint8Array, base: HiveHeader | null, logs: LogFile[], warnings: string[]) {
  const maxBins = maxBinsSize(primary, logs);
  const usable: { log: LogFile; base: HiveHeader; entries: Entry[]; stop?: { at: number; why: string } }[] =
    [];
  for (const log of logs) {
    const lb = logBase(log, FILE_TYPE_NEW_LOG);
    if (typeof lb === "string") continue; // another format, or not a log: said by the caller if nothing applies
    usable.push({ log, base: lb, ...logEntries(log, maxBins) });
  }
  if (!usable.length) return null;
  // The hive's own base block when it is sound, else the newest sound copy a log holds.
  const baseBytes = base
    ? primary
    : usable.sort((a, b) => b.base.sequence[0] - a.base.sequence[0])[0].log.bytes;
  const stoppedAfter = usable.filter((u) => u.stop).map((u) => {
    const lastGood = u.entries[u.entries.length - 1];
    return lastGood ? lastGood.sequence + 1 : null;
  });
  const pending = chain(usable.flatMap((u) => u.entries), base ? base.sequence[1] : null, stoppedAfter);
  let image = workingCopy(primary, base?.binsSize ?? readBaseBlock(baseBytes)!.binsSize);
  let last: Entry | undefined;
  let applied = 0;
  for (const e of pending) {
    image = grow(image, e.binsSize);
    for (const p of e.pages) image.set(p.data, BASE_BLOCK + p.offset);
    last = e;
    applied++;
  }
  // A log that stopped at an entry it could not trust where the chain ended: what came after is lost.
  for (const u of usable) {
    if (u.stop && (!last || u.entries[u.entries.length - 1] === last)) {
      warnings.push(
        `${u.log.source}: log entry at offset ${
          hex(u.stop.at)
        } ${u.stop.why}: it and the entries after it are not applied, recent changes may be absent`,
      );
    }
  }
  if (!last) return null;
  const binsSize = last.binsSize;
  sealBase(image, baseBytes, last.sequence, binsSize, last.flags);
  return { bytes: image.subarray(0, BASE_BLOCK + binsSize), applied };
}

function recoverOld(primary: Uint8Array, base: HiveHeader | null, logs: LogFile[], warnings: string[]) {
  // The hive's last-written time says which log belongs to this write (the first hive bin keeps a copy).
  const view = new DataView(primary.buffer, primary.byteOffset, primary.byteLength);
  const stamp = base?.lastWriteRaw ??
    (primary.length >= BASE_BLOCK + 28
      ? [view.getUint32(BASE_BLOCK + 20, true), view.getUint32(BASE_BLOCK + 24, true)]
      : null);
  const candidates = logs.flatMap((log) => {
    const lb = logBase(log, FILE_TYPE_OLD_LOG);
    if (typeof lb === "string" || lb.dirty || !stamp) return [];
    if (!lb.binsSize || lb.binsSize % HBIN || lb.binsSize > maxBinsSize(primary, logs)) return [];
    return lb.lastWriteRaw[0] === stamp[0] && lb.lastWriteRaw[1] === stamp[1] ? [{ log, base: lb }] : [];
  }).sort((a, b) => b.base.sequence[0] - a.base.sequence[0]);
  for (const { log, base: lb } of candidates) {
    const b = log.bytes;
    const lv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (b.length < SECTOR + 4 || lv.getUint32(SECTOR, true) !== DIRT) {
      warnings.push(`${log.source}: no dirty vector ("DIRT") at offset 0x200: the log is not applied`);
      continue;
    }
    const bits = lb.binsSize / SECTOR;
    const bitmap = b.subarray(SECTOR + 4, SECTOR + 4 + Math.ceil(bits / 8));
    const first = Math.ceil((SECTOR + 4 + bitmap.length) / SECTOR) * SECTOR;
    const dirty: number[] = [];
    for (let i = 0; i < bits; i++) if (bitmap[i >>> 3] & (1 << (i & 7))) dirty.push(i);
    if (bitmap.length < Math.ceil(bits / 8) || first + dirty.length * SECTOR > b.length) {
      warnings.push(
        `${log.source}: the log ends before its ${dirty.length} dirty pages do: it is not applied`,
      );
      continue;
    }
    const image = workingCopy(primary, lb.binsSize);
    for (let k = 0; k < dirty.length; k++) {
      const page = b.subarray(first + k * SECTOR, first + (k + 1) * SECTOR);
      const offset = dirty[k] * SECTOR;
      // A dirty page that starts a hive bin must be a sound one where it lands: recovery stops at one that is not.
      if (
        offset % HBIN === 0 &&
        new DataView(page.buffer, page.byteOffset, 12).getUint32(0, true) === 0x6e696268
      ) {
        const pv = new DataView(page.buffer, page.byteOffset, 12);
        const size = pv.getUint32(8, true);
        if (pv.getUint32(4, true) !== offset || size < HBIN || size % HBIN) {
          warnings.push(
            `${log.source}: dirty page at offset ${hex(first + k * SECTOR)} holds a bad hive bin for ${
              hex(BASE_BLOCK + offset)
            }: ${dirty.length - k} dirty pages not applied, recent changes may be absent`,
          );
          break;
        }
      }
      image.set(page, BASE_BLOCK + offset);
    }
    sealBase(image, base ? primary : b, lb.sequence[0], lb.binsSize);
    return { bytes: image, applied: 1 };
  }
  return null;
}

/**
 * The hive as Windows loads it: a dirty hive (sequence numbers differ, or a base block checksum that fails)
 * with its transaction logs applied; a clean hive as it is. `logs` are the files found beside it (.LOG1,
 * .LOG2, .LOG), in any order and of either format. Never throws for a bad log: what cannot be applied is a
 * warning, and the hive is then read as it is (openHive names what is damaged).
 */
export function recoverHive(primary: Uint8Array, logs: LogFile[], source: string): Recovered {
  const header = readBaseBlock(primary);
  const base = header?.checksumOk ? header : null;
  if (!header || (base && !base.dirty)) return { bytes: primary, applied: 0, warnings: [] };
  if (base && base.binsSize > maxBinsSize(primary, logs)) {
    // More bins than the hive and its logs together hold: openHive says it is truncated.
    return { bytes: primary, applied: 0, warnings: [] };
  }
  const warnings: string[] = [];
  const done = recoverNew(primary, base, logs, warnings) ?? recoverOld(primary, base, logs, warnings);
  const named = (w: string) => `${source}: ${w}`;
  if (done) return { bytes: done.bytes, applied: done.applied, warnings: warnings.map(named) };
  if (!logs.length) warnings.push(DIRTY_NO_LOGS);
  else {
    warnings.push(
      `hive is dirty and none of its logs (${
        logs.map((l) => l.source).join(", ")
      }) applies to it: recent changes may be absent`,
    );
  }
  return { bytes: primary, applied: 0, warnings: warnings.map(named) };
}
