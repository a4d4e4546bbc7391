// The live Windows registry through Deno FFI into advapi32.dll, opened on first use (never on Linux).
import type { RegistryReader, RegKey, RegValue } from "./reader.ts";
import { normalizeKeyPath, splitKeyPath } from "./reader.ts";
import { fileTimeToDate } from "./hive.ts";

const SYMBOLS = {
  RegOpenKeyExW: { parameters: ["pointer", "buffer", "u32", "u32", "buffer"], result: "i32" },
  RegCloseKey: { parameters: ["pointer"], result: "i32" },
  RegQueryInfoKeyW: {
    parameters: [
      "pointer", // hKey
      "pointer", // lpClass
      "pointer", // lpcchClass
      "pointer", // lpReserved
      "buffer", // lpcSubKeys
      "buffer", // lpcbMaxSubKeyLen
      "pointer", // lpcbMaxClassLen
      "buffer", // lpcValues
      "buffer", // lpcbMaxValueNameLen
      "buffer", // lpcbMaxValueLen
      "pointer", // lpcbSecurityDescriptor
      "buffer", // lpftLastWriteTime
    ],
    result: "i32",
  },
  RegEnumKeyExW: {
    parameters: ["pointer", "u32", "buffer", "buffer", "pointer", "pointer", "pointer", "pointer"],
    result: "i32",
  },
  RegEnumValueW: {
    parameters: ["pointer", "u32", "buffer", "buffer", "pointer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
} as const;

type Advapi = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

/** advapi32, opened once, on first use. */
function advapi(): Advapi {
  lib ??= Deno.dlopen("advapi32.dll", SYMBOLS);
  return lib.symbols;
}

export const ERROR_SUCCESS = 0;
export const ERROR_FILE_NOT_FOUND = 2;
export const ERROR_ACCESS_DENIED = 5;
export const ERROR_MORE_DATA = 234;
export const ERROR_NO_MORE_ITEMS = 259;
const KEY_READ = 0x20019;
const KEY_WOW64_64KEY = 0x0100;
const KEY_WOW64_32KEY = 0x0200;

/** The predefined root handles, sign-extended as Windows defines them on 64-bit. */
export const ROOTS: Record<string, bigint> = {
  HKEY_CLASSES_ROOT: 0xffffffff80000000n,
  HKEY_CURRENT_USER: 0xffffffff80000001n,
  HKEY_LOCAL_MACHINE: 0xffffffff80000002n,
  HKEY_USERS: 0xffffffff80000003n,
  HKEY_CURRENT_CONFIG: 0xffffffff80000005n,
};

/** A Win32 error code from the registry API, with what was being done and where. */
export class RegistryApiError extends Error {
  override name = "RegistryApiError";
  constructor(readonly code: number, what: string) {
    super(`${what}: Win32 error ${code}${code === ERROR_ACCESS_DENIED ? " (access denied)" : ""}`);
  }
}

export function wide(s: string): Uint16Array {
  const out = new Uint16Array(s.length + 1);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function fromWide(buf: Uint16Array, chars: number): string {
  return String.fromCharCode(...buf.subarray(0, chars));
}

interface KeyInfo {
  subkeys: number;
  maxSubkeyLen: number;
  values: number;
  maxValueNameLen: number;
  maxValueLen: number;
  lastWrite: Date | null;
}

function queryInfo(a: Advapi, h: Deno.PointerValue, path: string): KeyInfo {
  const n = new Uint32Array(5);
  const ft = new Uint32Array(2);
  const rc = a.RegQueryInfoKeyW(
    h,
    null,
    null,
    null,
    n.subarray(0, 1),
    n.subarray(1, 2),
    null,
    n.subarray(2, 3),
    n.subarray(3, 4),
    n.subarray(4, 5),
    null,
    ft,
  );
  if (rc !== ERROR_SUCCESS) throw new RegistryApiError(rc, `RegQueryInfoKey ${path}`);
  return {
    subkeys: n[0],
    maxSubkeyLen: n[1],
    values: n[2],
    maxValueNameLen: n[3],
    maxValueLen: n[4],
    lastWrite: fileTimeToDate(ft[0], ft[1]),
  };
}

function openRaw(a: Advapi, parent: Deno.PointerValue, sub: string, sam: number, path: string) {
  const out = new BigUint64Array(1);
  const rc = a.RegOpenKeyExW(parent, wide(sub), 0, sam, out);
  if (rc === ERROR_FILE_NOT_FOUND) return null;
  if (rc !== ERROR_SUCCESS) throw new RegistryApiError(rc, `RegOpenKeyEx ${path}`);
  return Deno.UnsafePointer.create(out[0]);
}

function wrap(a: Advapi, h: Deno.PointerValue, path: string, sam: number): RegKey {
  const info = queryInfo(a, h, path);
  let closed = false;
  return {
    path,
    lastWrite: info.lastWrite,
    subkeyNames() {
      const names: string[] = [];
      let cap = Math.max(info.maxSubkeyLen, 255) + 1;
      let buf = new Uint16Array(cap);
      const len = new Uint32Array(1);
      for (let i = 0;; i++) {
        len[0] = cap;
        const rc = a.RegEnumKeyExW(h, i, buf, len, null, null, null, null);
        if (rc === ERROR_NO_MORE_ITEMS) break;
        if (rc === ERROR_MORE_DATA) { // a longer name appeared since the query: grow and retry
          cap *= 2;
          buf = new Uint16Array(cap);
          i--;
          continue;
        }
        if (rc !== ERROR_SUCCESS) throw new RegistryApiError(rc, `RegEnumKeyEx ${path} #${i}`);
        names.push(fromWide(buf, len[0]));
      }
      return names;
    },
    values() {
      const out: RegValue[] = [];
      let nameCap = Math.max(info.maxValueNameLen, 255) + 1;
      let dataCap = Math.max(info.maxValueLen, 64);
      let name = new Uint16Array(nameCap);
      let data = new Uint8Array(dataCap);
      const nameLen = new Uint32Array(1), type = new Uint32Array(1), dataLen = new Uint32Array(1);
      for (let i = 0;; i++) {
        nameLen[0] = nameCap;
        dataLen[0] = dataCap;
        const rc = a.RegEnumValueW(h, i, name, nameLen, null, type, data, dataLen);
        if (rc === ERROR_NO_MORE_ITEMS) break;
        if (rc === ERROR_MORE_DATA) { // data (or a name) grew since the query
          nameCap *= 2;
          dataCap = Math.max(dataCap * 2, dataLen[0]);
          name = new Uint16Array(nameCap);
          data = new Uint8Array(dataCap);
          i--;
          continue;
        }
        if (rc !== ERROR_SUCCESS) throw new RegistryApiError(rc, `RegEnumValue ${path} #${i}`);
        out.push({ name: fromWide(name, nameLen[0]), type: type[0], data: data.slice(0, dataLen[0]) });
      }
      return out;
    },
    subkey(sub) {
      const child = openRaw(a, h, sub, sam, `${path}\\${sub}`);
      return child === null ? null : wrap(a, child, `${path}\\${sub}`, sam);
    },
    close() {
      if (!closed) a.RegCloseKey(h);
      closed = true;
    },
  };
}

/**
 * The running machine's registry. `view` picks the 64-bit (default) or 32-bit (WOW6432Node-redirected)
 * registry view; 64-bit Deno sees the 64-bit view by default, WOW6432Node paths reach 32-bit entries there.
 */
export function liveRegistry(opts: { view?: 64 | 32 } = {}): RegistryReader {
  const sam = KEY_READ | (opts.view === 32 ? KEY_WOW64_32KEY : KEY_WOW64_64KEY);
  return {
    kind: "live",
    open(raw) {
      const a = advapi();
      const path = normalizeKeyPath(raw);
      const { hive, subPath } = splitKeyPath(path);
      const root = Deno.UnsafePointer.create(ROOTS[hive]);
      const h = openRaw(a, root, subPath, sam, path);
      return h === null ? null : wrap(a, h, path, sam);
    },
    close() {},
  };
}
