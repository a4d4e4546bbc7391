// The Service Control Manager of the running Windows machine through FFI (advapi32), opened on first use.
import { liveRegistry, wide } from "./registry/live_windows.ts";
import { getValue } from "./registry/reader.ts";
import { valueNumber } from "./registry/values.ts";
import { SERVICE_WIN32 } from "./windows_services.ts";

/** One service or driver as the SCM describes it (or as an image's Services key configures it). */
export interface ScmService {
  name: string;
  /** The type bits (0x1 kernel driver, 0x2 file system driver, 0x10/0x20 Win32 service …); null when unread. */
  type: number | null;
  displayName: string;
  description: string;
  /** SERVICE_STATUS dwCurrentState: 1 stopped, 2 start pending, … 4 running, … 7 paused; null offline. */
  state: number | null;
  /** The start type (0 boot … 4 disabled); null when the configuration could not be read. */
  start: number | null;
  /** Auto start delayed. */
  delayed: boolean;
  /** The binary path and the account, as configured. */
  path: string;
  account: string;
  /** What could not be read of this service. */
  error?: string;
}

/** Kernel, file system and recognizer drivers: EnumServicesStatusEx's SERVICE_DRIVER. */
const SERVICE_DRIVER = 0x0b;

const SYMBOLS = {
  OpenSCManagerW: { parameters: ["pointer", "pointer", "u32"], result: "pointer" },
  EnumServicesStatusExW: {
    parameters: ["pointer", "u32", "u32", "u32", "buffer", "u32", "buffer", "buffer", "buffer", "pointer"],
    result: "i32",
  },
  OpenServiceW: { parameters: ["pointer", "buffer", "u32"], result: "pointer" },
  QueryServiceConfigW: { parameters: ["pointer", "buffer", "u32", "buffer"], result: "i32" },
  QueryServiceConfig2W: { parameters: ["pointer", "u32", "buffer", "u32", "buffer"], result: "i32" },
  CloseServiceHandle: { parameters: ["pointer"], result: "i32" },
} as const;
let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

const SC_MANAGER_CONNECT = 0x0001;
const SC_MANAGER_ENUMERATE_SERVICE = 0x0004;
const SERVICE_QUERY_CONFIG = 0x0001;
const SC_ENUM_PROCESS_INFO = 0;
const SERVICE_STATE_ALL = 3;
const SERVICE_CONFIG_DESCRIPTION = 1;
const SERVICE_CONFIG_DELAYED_AUTO_START_INFO = 3;
/** sizeof(ENUM_SERVICE_STATUS_PROCESSW) on 64-bit: two pointers and nine DWORDs, padded to 8. */
const ENUM_ENTRY = 56;

/** Reads a NUL-terminated UTF-16 string that a pointer inside `buf` points at ("" for NULL). */
function wideAt(buf: Uint8Array, view: DataView, at: number): string {
  const ptr = view.getBigUint64(at, true);
  if (ptr === 0n) return "";
  const base = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf)));
  let i = Number(ptr - base);
  if (i < 0 || i >= buf.length) {
    throw new RangeError(`SCM returned a string pointer outside its buffer (offset ${i})`);
  }
  const codes: number[] = [];
  for (; i + 1 < buf.length; i += 2) {
    const c = view.getUint16(i, true);
    if (c === 0) break;
    codes.push(c);
  }
  return String.fromCharCode(...codes);
}

/** Calls a Query* function that fills a caller buffer, growing it to what the call says it needs. */
function query(fn: (buf: Uint8Array, needed: Uint32Array) => number, what: string): Uint8Array | null {
  let size = 512;
  for (let attempt = 0; attempt < 4; attempt++) {
    const buf = new Uint8Array(size);
    const needed = new Uint32Array(1);
    if (fn(buf, needed)) return buf;
    if (needed[0] <= size) return null; // failed for another reason (access denied, not supported)
    size = needed[0] + 64;
  }
  throw new Error(`${what}: the buffer kept growing`);
}

function delayedInRegistry(name: string): boolean {
  const key = liveRegistry().open(`HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\${name}`);
  if (!key) return false;
  try {
    const v = getValue(key.values(), "DelayedAutostart");
    return !!v && valueNumber(v.type, v.data) === 1;
  } finally {
    key.close();
  }
}

/**
 * Every service or driver whose type has one of the `types` bits (Win32 services by default, as WMI's
 * Win32_Service lists them), with its configuration. One whose configuration cannot be read is listed with an
 * `error`; the list itself throws only when the SCM is unreachable.
 */
export function listServices(types: number = SERVICE_WIN32): ScmService[] {
  // EnumServicesStatusEx takes SERVICE_WIN32, SERVICE_DRIVER or both; the exact bits are picked after.
  const enumerated = (types & SERVICE_WIN32 ? SERVICE_WIN32 : 0) |
    (types & SERVICE_DRIVER ? SERVICE_DRIVER : 0);
  lib ??= Deno.dlopen("advapi32.dll", SYMBOLS);
  const a = lib.symbols;
  const scm = a.OpenSCManagerW(null, null, SC_MANAGER_CONNECT | SC_MANAGER_ENUMERATE_SERVICE);
  if (scm === null) throw new Error("OpenSCManager failed: cannot connect to the Service Control Manager");
  try {
    const listed: { name: string; display: string; type: number; state: number }[] = [];
    const needed = new Uint32Array(1), count = new Uint32Array(1), resume = new Uint32Array(1);
    let size = 64 * 1024;
    for (let rounds = 0; rounds < 1000; rounds++) {
      const buf = new Uint8Array(size);
      const ok = a.EnumServicesStatusExW(
        scm,
        SC_ENUM_PROCESS_INFO,
        enumerated,
        SERVICE_STATE_ALL,
        buf,
        size,
        needed,
        count,
        resume,
        null,
      );
      const view = new DataView(buf.buffer);
      for (let i = 0; i < count[0]; i++) {
        const at = i * ENUM_ENTRY;
        // SERVICE_STATUS_PROCESS at +16: dwServiceType, dwCurrentState, …
        const type = view.getUint32(at + 16, true);
        if ((type & types) === 0) continue;
        listed.push({
          name: wideAt(buf, view, at),
          display: wideAt(buf, view, at + 8),
          type,
          state: view.getUint32(at + 16 + 4, true),
        });
      }
      if (ok) break;
      if (count[0] === 0 && needed[0] === 0) throw new Error("EnumServicesStatusEx failed");
      if (count[0] === 0) size = Math.max(size * 2, needed[0] + 1024);
    }

    return listed.map(({ name, display, type, state }) => {
      const item: ScmService = {
        name,
        type,
        displayName: display,
        description: "",
        state,
        start: null,
        delayed: false,
        path: "",
        account: "",
      };
      const svc = a.OpenServiceW(scm, wide(name), SERVICE_QUERY_CONFIG);
      if (svc === null) {
        item.error = "OpenService failed (access denied?)";
        return item;
      }
      try {
        const cfg = query((b, n) => a.QueryServiceConfigW(svc, b, b.length, n), `QueryServiceConfig ${name}`);
        const d = query(
          (b, n) => a.QueryServiceConfig2W(svc, SERVICE_CONFIG_DELAYED_AUTO_START_INFO, b, b.length, n),
          `QueryServiceConfig2 ${name}`,
        );
        if (cfg) {
          const v = new DataView(cfg.buffer);
          // An SCM without the delayed-start query (Wine 8) still has the flag where Windows keeps it.
          const delayed = d
            ? new DataView(d.buffer).getInt32(0, true) !== 0
            : v.getUint32(4, true) === 2 && delayedInRegistry(name);
          // QUERY_SERVICE_CONFIGW (64-bit): type, start, errorControl, pad, binaryPath*, loadOrderGroup*,
          // tagId, pad, dependencies*, serviceStartName*, displayName*.
          item.start = v.getUint32(4, true);
          item.delayed = delayed;
          item.path = wideAt(cfg, v, 16);
          item.account = wideAt(cfg, v, 48);
        } else {
          item.error = "QueryServiceConfig failed";
        }
        const desc = query(
          (b, n) => a.QueryServiceConfig2W(svc, SERVICE_CONFIG_DESCRIPTION, b, b.length, n),
          `QueryServiceConfig2 ${name}`,
        );
        if (desc) item.description = wideAt(desc, new DataView(desc.buffer), 0);
      } finally {
        a.CloseServiceHandle(svc);
      }
      return item;
    });
  } finally {
    a.CloseServiceHandle(scm);
  }
}
