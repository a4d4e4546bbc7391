// Windows services: the Service Control Manager through FFI (advapi32), or the SYSTEM hive of an offline image.
//
// The services collector calls `readWindowsServices(host)` on Windows. Like WMI's Win32_Service (what the real
// agent reads), only Win32 services are listed, not drivers. Startup types: Boot, System, Auto, Auto (Delayed),
// Manual, Disabled. SvcDescription is plain text (an indirect "@dll,-id" string stays as stored offline).
import type { Host } from "../../host/mod.ts";
import type { ServiceItem } from "./types.ts";
import { openRegistry } from "../registry/mod.ts";
import { liveRegistry } from "../../host/registry/live_windows.ts";
import { getValue, type RegistryReader, type RegKey, type RegValue } from "../../host/registry/reader.ts";
import { valueNumber, valueText } from "../../host/registry/values.ts";

/**
 * A Windows service: the same columns as every service item. SvcState is Running | Stopped | Paused | … Pending,
 * or Unknown offline; SvcPath is the binary path as configured; SvcRunlevels is always "" (Windows has none).
 */
export type WindowsServiceItem = ServiceItem;

/** SvcController of Windows services (the services collector's sources say systemd | sysv | windows). */
export const CONTROLLER = "windows";
const SERVICE_WIN32 = 0x30;
const STATES = [
  "Unknown",
  "Stopped",
  "Start Pending",
  "Stop Pending",
  "Running",
  "Continue Pending",
  "Pause Pending",
  "Paused",
];

/** The SCM start type (0–4) and the delayed flag → the startup type word. */
export function startupType(start: number | null, delayed: boolean): string {
  switch (start) {
    case 0:
      return "Boot";
    case 1:
      return "System";
    case 2:
      return delayed ? "Auto (Delayed)" : "Auto";
    case 3:
      return "Manual";
    case 4:
      return "Disabled";
    default:
      return start === null ? "Unknown" : `Unknown (${start})`;
  }
}

export function serviceState(state: number): string {
  return STATES[state] ?? `Unknown (${state})`;
}

const text = (values: RegValue[], name: string) => {
  const v = getValue(values, name);
  return v ? valueText(v.type, v.data) : null;
};
const num = (values: RegValue[], name: string) => {
  const v = getValue(values, name);
  return v ? valueNumber(v.type, v.data) : null;
};

/** One service from its Services\<name> key values; null for drivers and keys that are not services. */
export function serviceFromValues(name: string, values: RegValue[]): WindowsServiceItem | null {
  const type = num(values, "Type");
  if (type === null || (type & SERVICE_WIN32) === 0) return null;
  return {
    SvcName: name,
    SvcDisplayName: text(values, "DisplayName") ?? name,
    SvcDescription: text(values, "Description") ?? "",
    SvcState: "Unknown",
    SvcStartupType: startupType(num(values, "Start"), num(values, "DelayedAutostart") === 1),
    SvcAccount: text(values, "ObjectName") ?? "LocalSystem",
    SvcPath: text(values, "ImagePath") ?? "",
    SvcController: CONTROLLER,
    SvcRunlevels: "",
  };
}

const SERVICES = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services";

/**
 * Services as the registry configures them (HKLM\SYSTEM\CurrentControlSet\Services); state is not known
 * offline. A service whose key cannot be read is kept by its name with an `error` (its last good data
 * stays); the list itself throws when the Services key cannot be read.
 */
export function servicesFromRegistry(reader: RegistryReader): WindowsServiceItem[] {
  const key = reader.open(SERVICES);
  if (!key) throw new Error(`${SERVICES} does not exist`);
  const out: WindowsServiceItem[] = [];
  try {
    for (const name of key.subkeyNames()) {
      let sub: RegKey | null = null;
      try {
        sub = key.subkey(name);
        const item = sub && serviceFromValues(name, sub.values());
        if (item) out.push(item);
      } catch (e) {
        out.push({
          ...unreadService(name),
          error: `cannot read ${SERVICES}\\${name}: ${(e as Error).message}`,
        });
      } finally {
        sub?.close();
      }
    }
  } finally {
    key.close();
  }
  return out;
}

/** A service known only by its name: what an item with an error carries (never diffed, never reported). */
function unreadService(name: string): WindowsServiceItem {
  return {
    SvcName: name,
    SvcDisplayName: name,
    SvcDescription: "",
    SvcState: "Unknown",
    SvcStartupType: "Unknown",
    SvcAccount: "",
    SvcPath: "",
    SvcController: CONTROLLER,
    SvcRunlevels: "",
  };
}

// ---- live: the Service Control Manager ----

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

function wide(s: string): Uint16Array {
  const out = new Uint16Array(s.length + 1);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

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
    return num(key.values(), "DelayedAutostart") === 1;
  } finally {
    key.close();
  }
}

export function readLiveServices(): WindowsServiceItem[] {
  lib ??= Deno.dlopen("advapi32.dll", SYMBOLS);
  const a = lib.symbols;
  const scm = a.OpenSCManagerW(null, null, SC_MANAGER_CONNECT | SC_MANAGER_ENUMERATE_SERVICE);
  if (scm === null) throw new Error("OpenSCManager failed: cannot connect to the Service Control Manager");
  try {
    const listed: { name: string; display: string; state: number }[] = [];
    const needed = new Uint32Array(1), count = new Uint32Array(1), resume = new Uint32Array(1);
    let size = 64 * 1024;
    for (let rounds = 0; rounds < 1000; rounds++) {
      const buf = new Uint8Array(size);
      const ok = a.EnumServicesStatusExW(
        scm,
        SC_ENUM_PROCESS_INFO,
        SERVICE_WIN32,
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
        listed.push({
          name: wideAt(buf, view, at),
          display: wideAt(buf, view, at + 8),
          state: view.getUint32(at + 16 + 4, true),
        });
      }
      if (ok) break;
      if (count[0] === 0 && needed[0] === 0) throw new Error("EnumServicesStatusEx failed");
      if (count[0] === 0) size = Math.max(size * 2, needed[0] + 1024);
    }

    return listed.map(({ name, display, state }) => {
      const item: WindowsServiceItem = {
        SvcName: name,
        SvcDisplayName: display,
        SvcDescription: "",
        SvcState: serviceState(state),
        SvcStartupType: "Unknown",
        SvcAccount: "",
        SvcPath: "",
        SvcController: CONTROLLER,
        SvcRunlevels: "",
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
          item.SvcStartupType = startupType(v.getUint32(4, true), delayed);
          item.SvcPath = wideAt(cfg, v, 16);
          item.SvcAccount = wideAt(cfg, v, 48);
        } else {
          item.error = "QueryServiceConfig failed";
        }
        const desc = query(
          (b, n) => a.QueryServiceConfig2W(svc, SERVICE_CONFIG_DESCRIPTION, b, b.length, n),
          `QueryServiceConfig2 ${name}`,
        );
        if (desc) item.SvcDescription = wideAt(desc, new DataView(desc.buffer), 0);
      } finally {
        a.CloseServiceHandle(svc);
      }
      return item;
    });
  } finally {
    a.CloseServiceHandle(scm);
  }
}

/**
 * The services of a Windows host: the running machine's SCM when `host` is the live Windows machine,
 * otherwise the SYSTEM hive found under `host.root` (state "Unknown" there). Items carry an `error` field
 * when one service's configuration cannot be read; the list itself throws only when the SCM (or the
 * Services key) is unreachable. Warnings: what the hive read says about itself (dirty without logs, damage).
 */
export async function readWindowsServices(
  host: Host,
  open: (host: Host) => Promise<RegistryReader> = openRegistry,
): Promise<{ items: WindowsServiceItem[]; warnings: string[] }> {
  if (host.os === "windows" && host.root === "/" && Deno.build.os === "windows") {
    return { items: readLiveServices(), warnings: [] };
  }
  const reader = await open(host);
  try {
    const items = servicesFromRegistry(reader);
    return { items, warnings: reader.warnings?.() ?? [] };
  } finally {
    reader.close();
  }
}

/**
 * The Windows source for the services collector (its `ServiceSource` shape: add it to SOURCES in
 * services/mod.ts). Typed structurally so this file stands alone.
 */
export const windowsServices = {
  controller: CONTROLLER,
  platforms: ["windows"] as const,
  present: (host: Host): Promise<boolean> => Promise.resolve(host.os === "windows"),
  async read(
    host: Host,
    _signal?: AbortSignal,
  ): Promise<{ items: WindowsServiceItem[]; warnings: string[] }> {
    const { items, warnings } = await readWindowsServices(host);
    const failed = items.filter((i) => i.error).length;
    if (failed) warnings.push(`${failed} services whose configuration could not be read`);
    return { items, warnings };
  },
};
