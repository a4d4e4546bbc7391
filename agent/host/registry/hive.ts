// Offline registry hive reader: the regf format (base block, hbins, nk/vk/lf/lh/li/ri/db cells), pure over bytes.
//
// Every read is bounds-checked; anything malformed throws a HiveError naming the file offset, so a corrupt or
// truncated hive can never hang or crash the agent. Offsets in messages are file offsets (cell offset + 0x1000).

const BASE_BLOCK = 0x1000;
/** Largest data a single cell holds before hives ≥ 1.4 switch to big data (db) records. */
const BIG_DATA_SEGMENT = 16344;
/** Subkey lists nest (ri → li/lf/lh); real hives use one level. More than this is a loop in a corrupt hive. */
const MAX_LIST_DEPTH = 8;
const NO_CELL = 0xffffffff;

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
  /** The primary and secondary sequence numbers differ: the hive was not cleanly written (logs not applied). */
  dirty: boolean;
  checksumOk: boolean;
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

export interface Hive {
  source: string;
  header: HiveHeader;
  root(): HiveKey;
  key(offset: number): HiveKey;
  subkeys(key: HiveKey): HiveKey[];
  values(key: HiveKey): HiveValue[];
  /** The child named `name` (case-insensitive, as Windows compares key names), or null. */
  subkey(key: HiveKey, name: string): HiveKey | null;
  /** A key by path below the root (`a\b\c`; "" is the root), or null. */
  lookup(path: string): HiveKey | null;
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

/** FILETIME (100 ns since 1601) → Date; null for 0 or out of range. */
export function fileTimeToDate(lo: number, hi: number): Date | null {
  if (lo === 0 && hi === 0) return null;
  const ms = (hi * 2 ** 32 + lo) / 10_000 - 11_644_473_600_000;
  const d = new Date(ms);
  return Number.isFinite(d.getTime()) && Math.abs(ms) < 8.64e15 ? d : null;
}

/** Opens a hive. Throws HiveError when the base block is not a regf header or the file is shorter than it says. */
export function openHive(bytes: Uint8Array, source = "hive"): Hive {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (offset: number, what: string): never => {
    throw new HiveError(source, offset, what);
  };
  if (bytes.length < BASE_BLOCK + 32) {
    fail(0, `not a hive: ${bytes.length} bytes, less than a base block and one hbin`);
  }
  if (latin1.decode(bytes.subarray(0, 4)) !== "regf") fail(0, 'not a hive: no "regf" signature');

  let checksum = 0;
  for (let i = 0; i < 0x1fc; i += 4) checksum = (checksum ^ view.getUint32(i, true)) >>> 0;
  if (checksum === 0) checksum = 1;
  else if (checksum === 0xffffffff) checksum = 0xfffffffe;
  const nameBytes = bytes.subarray(0x30, 0x70);
  const header: HiveHeader = {
    major: view.getUint32(0x14, true),
    minor: view.getUint32(0x18, true),
    dirty: view.getUint32(0x04, true) !== view.getUint32(0x08, true),
    checksumOk: checksum === view.getUint32(0x1fc, true),
    lastWrite: fileTimeToDate(view.getUint32(0x0c, true), view.getUint32(0x10, true)),
    fileName: utf16.decode(nameBytes).replace(/\0.*$/s, ""),
    rootOffset: view.getUint32(0x24, true),
    binsSize: view.getUint32(0x28, true),
  };
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
  const end = Math.max(binsEnd, BASE_BLOCK + 32);

  /** Payload of the cell at `cell` (relative offset): [start, end) file offsets. */
  function cellAt(cell: number, what: string): [number, number] {
    const at = BASE_BLOCK + cell;
    if (cell === NO_CELL || at + 4 > end || cell < 32) {
      fail(at, `${what}: cell offset 0x${cell.toString(16)} is outside the hive bins`);
    }
    const size = view.getInt32(at, true);
    const len = Math.abs(size);
    if (len < 8 || at + len > end) fail(at, `${what}: cell size ${size} runs outside the hive bins`);
    return [at + 4, at + len];
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

  function subkey(k: HiveKey, name: string): HiveKey | null {
    const want = name.toUpperCase();
    return subkeys(k).find((c) => c.name.toUpperCase() === want) ?? null;
  }

  const root = () => key(header.rootOffset);
  return {
    source,
    header,
    root,
    key,
    subkeys,
    values,
    subkey,
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
