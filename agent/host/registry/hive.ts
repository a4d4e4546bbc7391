// Offline registry hive reader: the regf format (base block, hbins, nk/vk/lf/lh/li/ri/db cells), pure over bytes.
//
// Every read is bounds-checked; anything malformed throws a HiveError naming the file offset, so a corrupt or
// truncated hive can never hang or crash the agent. Damage is never read as data: a base block whose checksum
// fails refuses the hive; a bad hive bin, a free cell referenced as used, an offset where no cell starts refuse
// what is stored there. Offsets in messages are file offsets (cell offset + 0x1000).

const BASE_BLOCK = 0x1000;
/** Largest data a single cell holds before hives ≥ 1.4 switch to big data (db) records. */
const BIG_DATA_SEGMENT = 16344;
/** Subkey lists nest (ri → li/lf/lh); real hives use one level. More than this is a loop in a corrupt hive. */
const MAX_LIST_DEPTH = 8;

/** A hive that cannot be read; `offset` is the file offset of the offending structure. */
export class HiveError extends Error {
  override name = "HiveError";
  constructor(readonly source: string, readonly offset: number, what: string) {
    super(`${source}: ${what} at offset 0x${offset.toString(16)}`);
  }
}

export interface HiveHeader {
  major: number;
  minor: number;
  /** Primary and secondary sequence numbers: equal once a write finished, different while one is under way. */
  sequence: [number, number];
  /** The sequence numbers differ: the hive was not cleanly written (its transaction logs hold the rest). */
  dirty: boolean;
  /** 0 a primary file (a hive), 1 an old-format transaction log, 6 a new-format one. */
  fileType: number;
  /** The stored XOR-32 checksum of the first 508 bytes matches them. */
  checksumOk: boolean;
  /** The raw FILETIME, as old-format logs are matched to their hive by it. */
  lastWriteRaw: [number, number];
  lastWrite: Date | null;
  /** The name Windows embedded (e.g. `\??\C:\Users\x\ntuser.dat`), often truncated or empty. */
  fileName: string;
  rootOffset: number;
  binsSize: number;
}

/** A key node. `offset` is its cell offset (relative to the first hbin), usable with the other calls. */
export interface HiveKey {
  offset: number;
  name: string;
  lastWrite: Date | null;
  subkeyCount: number;
  valueCount: number;
  /** Cell offset of the parent key (Windows writes it; the reader checks it to keep the tree a tree). */
  parent: number;
}

export interface HiveValue {
  /** "" is the key's default value. */
  name: string;
  type: number;
  data: Uint8Array;
}

/** A stretch of the hive bins that cannot be trusted: what lies there is unreadable, never read as data. */
export interface HiveDamage {
  /** File offset of the hive bin (or of the cell where its chain of cells breaks) and where the damage ends. */
  offset: number;
  end: number;
  /** Why, naming what was found: `bad signature "hbix"`, `cell size 0 at 0x3020 breaks its chain of cells`. */
  what: string;
  /** File offset of the hive bin the damage is in. */
  bin: number;
}

export interface Hive {
  source: string;
  header: HiveHeader;
  /** Damaged hive bins found on opening (a cell there is refused with a HiveError naming it). */
  damage: readonly HiveDamage[];
  root(): HiveKey;
  key(offset: number): HiveKey;
  subkeys(key: HiveKey): HiveKey[];
  values(key: HiveKey): HiveValue[];
  /** The child named `name` (case-insensitive, as Windows compares key names), or null. */
  subkey(key: HiveKey, name: string): HiveKey | null;
  /** A key by path below the root (`a\b\c`; "" is the root), or null. */
  lookup(path: string): HiveKey | null;
  /** The key's security descriptor (self-relative, as its sk cell holds it). */
  security(key: HiveKey): Uint8Array;
}

const latin1 = new TextDecoder("latin1");
const utf16 = new TextDecoder("utf-16le");

/** Short names decode faster by hand than through a TextDecoder call (a hive has ~100k of them). */
function latin1Name(b: Uint8Array): string {
  return b.length > 1024 ? latin1.decode(b) : String.fromCharCode.apply(null, b as unknown as number[]);
}
function utf16Name(b: Uint8Array): string {
  if (b.length > 2048 || b.byteOffset % 2) return utf16.decode(b);
  return String.fromCharCode.apply(
    null,
    new Uint16Array(b.buffer, b.byteOffset, b.length >> 1) as unknown as number[],
  );
}

/**
 * FILETIME (100 ns since 1601) → Date; null for 0 or out of range. In BigInt: a FILETIME of this century is
 * above 2^53, where a double rounds the 100 ns count and can carry it into the next millisecond.
 */
export function fileTimeToDate(lo: number, hi: number): Date | null {
  if (lo === 0 && hi === 0) return null;
  const ms = Number(((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)) / 10_000n) - 11_644_473_600_000;
  const d = new Date(ms);
  return Number.isFinite(d.getTime()) && Math.abs(ms) < 8.64e15 ? d : null;
}

/** XOR-32 of the first 508 bytes of a base block, as Windows stores it at 0x1fc (0 and ~0 are never stored). */
export function baseBlockChecksum(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, 0x200);
  let checksum = 0;
  for (let i = 0; i < 0x1fc; i += 4) checksum = (checksum ^ view.getUint32(i, true)) >>> 0;
  return checksum === 0 ? 1 : checksum === 0xffffffff ? 0xfffffffe : checksum;
}

/**
 * The fields of a base block (a hive's, or the partial copy at the start of a transaction log), or null when
 * the bytes do not start with one. Nothing is judged here: the caller decides what a bad checksum means.
 */
export function readBaseBlock(bytes: Uint8Array): HiveHeader | null {
  if (bytes.length < 0x200 || latin1.decode(bytes.subarray(0, 4)) !== "regf") return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, 0x200);
  const u32 = (at: number) => view.getUint32(at, true);
  const lastWriteRaw: [number, number] = [u32(0x0c), u32(0x10)];
  return {
    major: u32(0x14),
    minor: u32(0x18),
    sequence: [u32(0x04), u32(0x08)],
    dirty: u32(0x04) !== u32(0x08),
    fileType: u32(0x1c),
    checksumOk: baseBlockChecksum(bytes) === u32(0x1fc),
    lastWriteRaw,
    lastWrite: fileTimeToDate(...lastWriteRaw),
    fileName: utf16.decode(bytes.subarray(0x30, 0x70)).replace(/\0.*$/s, ""),
    rootOffset: u32(0x24),
    binsSize: u32(0x28),
  };
}

const hexOf = (n: number) => `0x${n.toString(16)}`;

/** Cells start and end on 8-byte boundaries of the hive bins data. */
const SLOT = 8;
const HBIN = 0x1000;

/** Why the hive bin header at relative offset `pos` is not sound, or null. */
function binProblem(bytes: Uint8Array, view: DataView, pos: number, binsSize: number): string | null {
  const at = BASE_BLOCK + pos;
  const sig = latin1.decode(bytes.subarray(at, at + 4));
  if (sig !== "hbin") return `bad signature ${JSON.stringify(sig)}`;
  const offset = view.getUint32(at + 4, true), size = view.getUint32(at + 8, true);
  if (offset !== pos) return `it says it is at ${hexOf(BASE_BLOCK + offset)}`;
  if (size < HBIN || size % HBIN || pos + size > binsSize) return `bad size ${hexOf(size)}`;
  return null;
}

/**
 * One pass over the hive bins, as Windows checks them on load: each bin's header, then its chain of cells.
 * Returns where allocated and free cells start (a bit per 8-byte slot) and what is damaged.
 */
function mapCells(bytes: Uint8Array, view: DataView, binsSize: number) {
  const slots = Math.ceil(binsSize / SLOT);
  const used = new Uint8Array((slots >>> 3) + 1), free = new Uint8Array((slots >>> 3) + 1);
  const damage: HiveDamage[] = [];
  let pos = 0;
  while (pos < binsSize) {
    const problem = binProblem(bytes, view, pos, binsSize);
    if (problem) {
      // Nothing in a bad bin can be trusted, its size included: the damage runs to the next sound bin.
      let next = pos + HBIN;
      while (next < binsSize && binProblem(bytes, view, next, binsSize)) next += HBIN;
      next = Math.min(next, binsSize);
      damage.push({ offset: BASE_BLOCK + pos, end: BASE_BLOCK + next, what: problem, bin: BASE_BLOCK + pos });
      pos = next;
      continue;
    }
    const end = pos + view.getUint32(BASE_BLOCK + pos + 8, true);
    for (let c = pos + 32; c < end;) {
      const size = view.getInt32(BASE_BLOCK + c, true);
      const len = Math.abs(size);
      if (len < SLOT || len % SLOT || c + len > end) {
        damage.push({
          offset: BASE_BLOCK + c,
          end: BASE_BLOCK + end,
          what: `cell size ${size} at ${hexOf(BASE_BLOCK + c)} breaks its chain of cells`,
          bin: BASE_BLOCK + pos,
        });
        break;
      }
      const slot = c >>> 3;
      (size < 0 ? used : free)[slot >>> 3] |= 1 << (slot & 7);
      c += len;
    }
    pos = end;
  }
  return { used, free, damage };
}

/**
 * Opens a hive. Throws HiveError when the base block is not a sound regf header (signature, checksum,
 * version) or the file is shorter than it says. Hive bins that are damaged (a bad signature after the first,
 * a chain of cells that breaks) are listed in `damage`; a cell there, a free cell or an offset where no cell
 * starts is refused with a HiveError naming it, so damage is never read as data.
 */
export function openHive(bytes: Uint8Array, source = "hive"): Hive {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (offset: number, what: string): never => {
    throw new HiveError(source, offset, what);
  };
  if (bytes.length < BASE_BLOCK + 32) {
    fail(0, `not a hive: ${bytes.length} bytes, less than a base block and one hbin`);
  }
  const header = readBaseBlock(bytes) ?? fail(0, 'not a hive: no "regf" signature');
  if (!header.checksumOk) {
    fail(
      0x1fc,
      `base block checksum ${hexOf(view.getUint32(0x1fc, true))} does not match its contents (${
        hexOf(baseBlockChecksum(bytes))
      }): the base block is damaged`,
    );
  }
  if (header.major !== 1) fail(0x14, `unsupported hive format version ${header.major}.${header.minor}`);
  // The hbins may end before the file does (padding), never after it.
  const binsEnd = BASE_BLOCK + header.binsSize;
  if (binsEnd > bytes.length) {
    fail(
      bytes.length,
      `hive truncated: the base block says the hive bins end at 0x${binsEnd.toString(16)}, the file ends`,
    );
  }
  if (latin1.decode(bytes.subarray(BASE_BLOCK, BASE_BLOCK + 4)) !== "hbin") {
    fail(BASE_BLOCK, 'no "hbin" signature in the first hive bin');
  }
  const { used, free, damage } = mapCells(bytes, view, header.binsSize);

  /** Payload of the allocated cell at `cell` (relative offset): [start, end) file offsets. */
  function cellAt(cell: number, what: string): [number, number] {
    const at = BASE_BLOCK + cell;
    if (cell >= header.binsSize) {
      fail(at, `${what}: cell offset 0x${cell.toString(16)} is outside the hive bins`);
    }
    const slot = cell >>> 3;
    if (cell % SLOT === 0 && used[slot >>> 3] & (1 << (slot & 7))) {
      return [at + 4, at - view.getInt32(at, true)];
    }
    const d = damage.find((d) => at >= d.offset && at < d.end);
    if (d) fail(at, `${what}: cell in the damaged hive bin at ${hexOf(d.bin)} (${d.what})`);
    if (cell % SLOT === 0 && free[slot >>> 3] & (1 << (slot & 7))) {
      fail(at, `${what}: the cell is free (not in use)`);
    }
    return fail(at, `${what}: no cell starts here`);
  }

  function sig(start: number, stop: number, expect: string[], what: string): string {
    if (stop - start < 2) fail(start, `${what}: cell too small`);
    const s = String.fromCharCode(bytes[start], bytes[start + 1]);
    if (!expect.includes(s)) {
      fail(start, `${what}: expected ${expect.join("/")} cell, found ${JSON.stringify(s)}`);
    }
    return s;
  }

  function need(start: number, stop: number, n: number, what: string) {
    if (start + n > stop) fail(start, `${what}: ${n} bytes needed, cell holds ${stop - start}`);
  }

  function key(offset: number): HiveKey {
    const [s, e] = cellAt(offset, "key");
    sig(s, e, ["nk"], "key");
    need(s, e, 0x4c, "key");
    const flags = view.getUint16(s + 2, true);
    const nameLen = view.getUint16(s + 0x48, true);
    need(s, e, 0x4c + nameLen, "key name");
    const raw = bytes.subarray(s + 0x4c, s + 0x4c + nameLen);
    return {
      offset,
      name: flags & 0x20 ? latin1Name(raw) : utf16Name(raw),
      lastWrite: fileTimeToDate(view.getUint32(s + 4, true), view.getUint32(s + 8, true)),
      subkeyCount: view.getUint32(s + 0x14, true),
      valueCount: view.getUint32(s + 0x24, true),
      parent: view.getUint32(s + 0x10, true),
    };
  }

  function collectList(list: number, out: number[], depth: number) {
    const [s, e] = cellAt(list, "subkey list");
    if (depth > MAX_LIST_DEPTH) fail(s - 4, "subkey lists nested too deeply (a loop?)");
    const kind = sig(s, e, ["lf", "lh", "li", "ri"], "subkey list");
    need(s, e, 4, "subkey list");
    const n = view.getUint16(s + 2, true);
    const step = kind === "lf" || kind === "lh" ? 8 : 4;
    need(s + 4, e, n * step, `subkey list of ${n} entries`);
    for (let i = 0; i < n; i++) {
      const off = view.getUint32(s + 4 + i * step, true);
      if (kind === "ri") collectList(off, out, depth + 1);
      else out.push(off);
    }
  }

  function subkeys(k: HiveKey): HiveKey[] {
    if (k.subkeyCount === 0) return [];
    const [s] = cellAt(k.offset, "key");
    const offsets: number[] = [];
    collectList(view.getUint32(s + 0x1c, true), offsets, 0);
    // Each key listed once, under the parent it names: a corrupt list can then never make a loop or a
    // graph that a recursive walk would visit exponentially often.
    const seen = new Set<number>();
    return offsets.map((off) => {
      if (seen.has(off)) {
        fail(BASE_BLOCK + off, `key listed twice under the key at 0x${(BASE_BLOCK + k.offset).toString(16)}`);
      }
      seen.add(off);
      const child = key(off);
      if (child.parent !== k.offset) {
        fail(
          BASE_BLOCK + off + 4 + 0x10,
          `key ${JSON.stringify(child.name)} names parent 0x${
            (BASE_BLOCK + child.parent).toString(16)
          } but is listed under 0x${(BASE_BLOCK + k.offset).toString(16)}`,
        );
      }
      return child;
    });
  }

  function valueData(s: number): Uint8Array {
    let size = view.getUint32(s + 4, true);
    const dataOff = view.getUint32(s + 8, true);
    if (size & 0x80000000) {
      // Up to 4 bytes stored in the data offset field itself.
      size &= 0x7fffffff;
      if (size > 4) fail(s + 4, `value data: inline size ${size} is over 4`);
      return bytes.slice(s + 8, s + 8 + size);
    }
    if (size === 0) return new Uint8Array(0);
    const [ds, de] = cellAt(dataOff, "value data");
    const isBig = size > BIG_DATA_SEGMENT && (header.minor > 3) && de - ds >= 8 &&
      bytes[ds] === 0x64 && bytes[ds + 1] === 0x62; // "db"
    if (!isBig) {
      if (ds + size > de) fail(ds, `value data: size ${size} is larger than its cell (${de - ds} bytes)`);
      return bytes.slice(ds, ds + size);
    }
    const segments = view.getUint16(ds + 2, true);
    const [ls, le] = cellAt(view.getUint32(ds + 4, true), "big data segment list");
    need(ls, le, segments * 4, `big data segment list of ${segments} entries`);
    const out = new Uint8Array(size);
    let got = 0;
    for (let i = 0; i < segments && got < size; i++) {
      const [ss, se] = cellAt(view.getUint32(ls + i * 4, true), "big data segment");
      const take = Math.min(se - ss, BIG_DATA_SEGMENT, size - got);
      out.set(bytes.subarray(ss, ss + take), got);
      got += take;
    }
    if (got < size) fail(ds, `big data: ${segments} segments hold ${got} bytes of ${size}`);
    return out;
  }

  function values(k: HiveKey): HiveValue[] {
    if (k.valueCount === 0) return [];
    const [s] = cellAt(k.offset, "key");
    const [ls, le] = cellAt(view.getUint32(s + 0x28, true), "value list");
    need(ls, le, k.valueCount * 4, `value list of ${k.valueCount} entries`);
    const out: HiveValue[] = [];
    for (let i = 0; i < k.valueCount; i++) {
      const [vs, ve] = cellAt(view.getUint32(ls + i * 4, true), "value");
      sig(vs, ve, ["vk"], "value");
      need(vs, ve, 0x14, "value");
      const nameLen = view.getUint16(vs + 2, true);
      need(vs, ve, 0x14 + nameLen, "value name");
      const raw = bytes.subarray(vs + 0x14, vs + 0x14 + nameLen);
      out.push({
        name: view.getUint16(vs + 0x10, true) & 1 ? latin1Name(raw) : utf16Name(raw),
        type: view.getUint32(vs + 0x0c, true),
        data: valueData(vs),
      });
    }
    return out;
  }

  function security(k: HiveKey): Uint8Array {
    const [s] = cellAt(k.offset, "key");
    const [ss, se] = cellAt(view.getUint32(s + 0x2c, true), "key security");
    sig(ss, se, ["sk"], "key security");
    need(ss, se, 0x14, "key security");
    const size = view.getUint32(ss + 0x10, true);
    need(ss + 0x14, se, size, "security descriptor");
    return bytes.slice(ss + 0x14, ss + 0x14 + size);
  }

  function subkey(k: HiveKey, name: string): HiveKey | null {
    const want = name.toUpperCase();
    return subkeys(k).find((c) => c.name.toUpperCase() === want) ?? null;
  }

  const root = () => key(header.rootOffset);
  return {
    source,
    header,
    damage,
    root,
    key,
    subkeys,
    values,
    subkey,
    security,
    lookup(path) {
      let k: HiveKey | null = root();
      for (const part of path.split("\\").filter(Boolean)) {
        k = subkey(k, part);
        if (!k) return null;
      }
      return k;
    },
  };
}
