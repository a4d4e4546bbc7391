// The running Windows machine's listening sockets (iphlpapi) and their processes' images and users, through FFI.
import { accountOfSid, sidAt } from "../local_accounts_windows.ts";
import { parseSocketTable, type TableProtocol, type TableSocket } from "./table.ts";

/**
 * A process's image path and the account it runs as (null, with `userError` saying why, when its token cannot
 * be read), or why the process is not known at all (never a guess).
 */
export type ProcessImage = { path: string; user: string | null; userError?: string } | { error: string };

const IPHLPAPI = {
  GetExtendedTcpTable: { parameters: ["buffer", "buffer", "i32", "u32", "u32", "u32"], result: "u32" },
  GetExtendedUdpTable: { parameters: ["buffer", "buffer", "i32", "u32", "u32", "u32"], result: "u32" },
} as const;
const KERNEL32 = {
  OpenProcess: { parameters: ["u32", "i32", "u32"], result: "pointer" },
  QueryFullProcessImageNameW: { parameters: ["pointer", "u32", "buffer", "buffer"], result: "i32" },
  CloseHandle: { parameters: ["pointer"], result: "i32" },
  GetLastError: { parameters: [], result: "u32" },
} as const;
const ADVAPI32 = {
  OpenProcessToken: { parameters: ["pointer", "u32", "buffer"], result: "i32" },
  GetTokenInformation: { parameters: ["pointer", "u32", "buffer", "u32", "buffer"], result: "i32" },
} as const;
let iphlpapi: Deno.DynamicLibrary<typeof IPHLPAPI> | undefined;
let kernel32: Deno.DynamicLibrary<typeof KERNEL32> | undefined;
let advapi32: Deno.DynamicLibrary<typeof ADVAPI32> | undefined;

const AF_INET = 2;
const AF_INET6 = 23;
const TCP_TABLE_OWNER_PID_LISTENER = 3;
const UDP_TABLE_OWNER_PID = 1;
const NO_ERROR = 0;
const ERROR_INSUFFICIENT_BUFFER = 122;
const PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;
const TOKEN_QUERY = 0x0008;
const TOKEN_USER = 1;
/** Longest path QueryFullProcessImageNameW writes, in UTF-16 units (the \\?\ limit). */
const MAX_PATH_CHARS = 32768;

const ERRORS: Record<number, string> = {
  5: "access denied",
  87: "no such process",
};
const errorText = (code: number) => `Win32 error ${code}${ERRORS[code] ? ` (${ERRORS[code]})` : ""}`;

/**
 * The raw bytes of one table: TCP listeners (TCP_TABLE_OWNER_PID_LISTENER) or UDP sockets (UDP_TABLE_OWNER_PID),
 * with their owning pids. The buffer grows to what the call says it needs (sockets open meanwhile).
 */
export function readSocketTableBytes(protocol: TableProtocol): Uint8Array {
  iphlpapi ??= Deno.dlopen("iphlpapi.dll", IPHLPAPI);
  const tcp = protocol.startsWith("tcp");
  const af = protocol.endsWith("6") ? AF_INET6 : AF_INET;
  const call = tcp ? iphlpapi.symbols.GetExtendedTcpTable : iphlpapi.symbols.GetExtendedUdpTable;
  const what = tcp
    ? `GetExtendedTcpTable(${af === AF_INET ? "AF_INET" : "AF_INET6"}, TCP_TABLE_OWNER_PID_LISTENER)`
    : `GetExtendedUdpTable(${af === AF_INET ? "AF_INET" : "AF_INET6"}, UDP_TABLE_OWNER_PID)`;
  let size = 16 * 1024;
  for (let attempt = 0; attempt < 8; attempt++) {
    const buf = new Uint8Array(size);
    const asked = new Uint32Array([size]);
    const r = call(buf, asked, 1, af, tcp ? TCP_TABLE_OWNER_PID_LISTENER : UDP_TABLE_OWNER_PID, 0);
    if (r === NO_ERROR) return asked[0] && asked[0] < size ? buf.subarray(0, asked[0]) : buf;
    if (r !== ERROR_INSUFFICIENT_BUFFER) throw new Error(`${what} failed: ${errorText(r)}`);
    size = Math.max(size * 2, asked[0] + 4096);
  }
  throw new Error(`${what}: the table kept growing past ${size} bytes`);
}

/** The sockets of one table that wait for peers (the table read and parsed). */
export function listeningSockets(protocol: TableProtocol): TableSocket[] {
  return parseSocketTable(readSocketTableBytes(protocol), protocol);
}

/** The account a process runs as (its token's user), or why it cannot be told. */
function processUser(h: Deno.PointerObject, pid: number): { user: string | null; userError?: string } {
  advapi32 ??= Deno.dlopen("advapi32.dll", ADVAPI32);
  const a = advapi32.symbols, k = kernel32!.symbols;
  const token = new BigUint64Array(1);
  if (!a.OpenProcessToken(h, TOKEN_QUERY, token)) {
    return {
      user: null,
      userError: `cannot read the token of process ${pid}: ${errorText(k.GetLastError())}`,
    };
  }
  const t = Deno.UnsafePointer.create(token[0]);
  try {
    // TOKEN_USER: a pointer to the SID (inside the buffer) and its attributes.
    const buf = new BigUint64Array(64);
    const got = new Uint32Array(1);
    if (!a.GetTokenInformation(t, TOKEN_USER, buf, buf.byteLength, got)) {
      return {
        user: null,
        userError: `cannot read the user of process ${pid}: ${errorText(k.GetLastError())}`,
      };
    }
    const sid = Deno.UnsafePointer.create(buf[0]);
    const name = sid && accountOfSid(sidAt(sid));
    return name
      ? { user: name }
      : { user: null, userError: `the user of process ${pid} has no account name` };
  } finally {
    k.CloseHandle(t);
  }
}

/**
 * The image path of a running process (QueryFullProcessImageNameW) and its user, or why it cannot be known: pid
 * 0 (the table names no process), a process that cannot be opened (another user's, a protected one), or one gone.
 */
export function processImage(pid: number): ProcessImage {
  if (pid === 0) return { error: "the socket table names no process (pid 0)" };
  kernel32 ??= Deno.dlopen("kernel32.dll", KERNEL32);
  const k = kernel32.symbols;
  const h = k.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid);
  if (h === null) return { error: `cannot open process ${pid}: ${errorText(k.GetLastError())}` };
  try {
    const buf = new Uint16Array(MAX_PATH_CHARS);
    const chars = new Uint32Array([MAX_PATH_CHARS]);
    if (!k.QueryFullProcessImageNameW(h, 0, buf, chars)) {
      return { error: `cannot read the image of process ${pid}: ${errorText(k.GetLastError())}` };
    }
    return { path: String.fromCharCode(...buf.subarray(0, chars[0])), ...processUser(h, pid) };
  } finally {
    k.CloseHandle(h);
  }
}
