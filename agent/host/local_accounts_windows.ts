// The local users and groups of the running Windows machine through FFI (netapi32, advapi32), opened on first use.
import { wide } from "./registry/live_windows.ts";
import { readWide } from "./files/acl_windows.ts";

/** A local user account as NetUserEnum (level 20) gives it. */
export interface LocalUser {
  name: string;
  fullName: string;
  /** The relative ID: the last part of the account's SID (500 Administrator, 501 Guest, 1000 and up). */
  rid: number;
  /** The UF_* flags (UF_ACCOUNTDISABLE 0x2, UF_LOCKOUT 0x10, UF_NORMAL_ACCOUNT 0x200 …). */
  flags: number;
}

/** A local group (an alias: BUILTIN's Administrators, Users …, or one made on this machine) with its members. */
export interface LocalGroup {
  name: string;
  comment: string;
  /** Its SID (`S-1-5-32-544` for Administrators), or null when the name cannot be looked up. */
  sid: string | null;
  /** Its members as NetLocalGroupGetMembers (level 3) names them: `DOMAIN\name`, or a bare name. */
  members: string[];
}

/** The local accounts of the running Windows machine. */
export interface LocalAccounts {
  /** The machine's own account domain (its NetBIOS name): a member `DOMAIN\x` with it is a local account. */
  domain(): string;
  users(): LocalUser[];
  /** Every local group NetLocalGroupEnum lists. */
  groups(): LocalGroup[];
  /** The local group whose SID is `sid`, listed or not (its name is the machine's language's); null if none. */
  group(sid: string): LocalGroup | null;
}

const NETAPI = {
  NetUserEnum: {
    parameters: ["pointer", "u32", "u32", "buffer", "u32", "buffer", "buffer", "buffer"],
    result: "u32",
  },
  NetLocalGroupEnum: {
    parameters: ["pointer", "u32", "buffer", "u32", "buffer", "buffer", "buffer"],
    result: "u32",
  },
  NetLocalGroupGetMembers: {
    parameters: ["pointer", "buffer", "u32", "buffer", "u32", "buffer", "buffer", "buffer"],
    result: "u32",
  },
  NetApiBufferFree: { parameters: ["pointer"], result: "u32" },
} as const;
const ADVAPI = {
  LookupAccountNameW: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  LookupAccountSidW: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  ConvertSidToStringSidW: { parameters: ["buffer", "buffer"], result: "i32" },
  ConvertStringSidToSidW: { parameters: ["buffer", "buffer"], result: "i32" },
} as const;
const KERNEL = {
  GetComputerNameW: { parameters: ["buffer", "buffer"], result: "i32" },
  LocalFree: { parameters: ["pointer"], result: "pointer" },
} as const;

let libs:
  | {
    net: Deno.DynamicLibrary<typeof NETAPI>["symbols"];
    adv: Deno.DynamicLibrary<typeof ADVAPI>["symbols"];
    k32: Deno.DynamicLibrary<typeof KERNEL>["symbols"];
  }
  | undefined;

function api() {
  libs ??= {
    net: Deno.dlopen("netapi32.dll", NETAPI).symbols,
    adv: Deno.dlopen("advapi32.dll", ADVAPI).symbols,
    k32: Deno.dlopen("kernel32.dll", KERNEL).symbols,
  };
  return libs;
}

const NERR_SUCCESS = 0;
const ERROR_MORE_DATA = 234;
const MAX_PREFERRED_LENGTH = 0xffffffff;
/** sizeof(USER_INFO_20) on 64-bit: name*, full_name*, comment*, flags, user_id. */
const USER_INFO_20 = 32;
/** sizeof(LOCALGROUP_INFO_1): name*, comment*. */
const LOCALGROUP_INFO_1 = 16;
/** sizeof(LOCALGROUP_MEMBERS_INFO_3): domainandname*. */
const LOCALGROUP_MEMBERS_INFO_3 = 8;

/** A NUL-terminated UTF-16 string at a pointer the OS returned ("" for NULL). */
function wideAt(p: Deno.PointerValue): string {
  return p === null ? "" : readWide(p);
}

function pointerAt(view: Deno.UnsafePointerView, at: number): Deno.PointerValue {
  return Deno.UnsafePointer.create(view.getBigUint64(at));
}

/**
 * Calls a Net*Enum function until it has given everything (ERROR_MORE_DATA means "call again with the resume
 * handle"), handing each returned buffer's entries to `each` and freeing the buffer.
 */
function enumerate(
  what: string,
  call: (buf: BigUint64Array, read: Uint32Array, total: Uint32Array, resume: BigUint64Array) => number,
  entry: number,
  each: (view: Deno.UnsafePointerView, at: number) => void,
): void {
  const { net } = api();
  const resume = new BigUint64Array(1);
  for (let rounds = 0; rounds < 100_000; rounds++) {
    const buf = new BigUint64Array(1), read = new Uint32Array(1), total = new Uint32Array(1);
    const status = call(buf, read, total, resume);
    if (status !== NERR_SUCCESS && status !== ERROR_MORE_DATA) {
      throw new Error(`${what} failed: NET_API_STATUS ${status}`);
    }
    const p = Deno.UnsafePointer.create(buf[0]);
    if (p !== null) {
      try {
        const view = new Deno.UnsafePointerView(p);
        for (let i = 0; i < read[0]; i++) each(view, i * entry);
      } finally {
        net.NetApiBufferFree(p);
      }
    }
    if (status === NERR_SUCCESS) return;
  }
  throw new Error(`${what}: the enumeration never ended`);
}

function users(): LocalUser[] {
  const out: LocalUser[] = [];
  enumerate(
    "NetUserEnum",
    // Filter 0: every kind of account (normal, temporary duplicate, trust accounts), as `net user` lists them.
    (buf, read, total, resume) =>
      api().net.NetUserEnum(
        null,
        20,
        0,
        buf,
        MAX_PREFERRED_LENGTH,
        read,
        total,
        new Uint32Array(resume.buffer),
      ),
    USER_INFO_20,
    (view, at) =>
      out.push({
        name: wideAt(pointerAt(view, at)),
        fullName: wideAt(pointerAt(view, at + 8)),
        flags: view.getUint32(at + 24),
        rid: view.getUint32(at + 28),
      }),
  );
  return out;
}

/** The string form of a binary SID. */
function sidText(sid: Uint8Array): string | null {
  const { adv, k32 } = api();
  const out = new BigUint64Array(1);
  if (!adv.ConvertSidToStringSidW(sid, out)) return null;
  const p = Deno.UnsafePointer.create(out[0]);
  try {
    return wideAt(p);
  } finally {
    k32.LocalFree(p);
  }
}

/** The SID of an account name, as text; null when it cannot be looked up. */
function sidOf(name: string): string | null {
  const sid = new Uint8Array(68), sidLen = new Uint32Array([sid.length]);
  const domain = new Uint16Array(256), domainLen = new Uint32Array([domain.length]);
  const use = new Uint32Array(1);
  return api().adv.LookupAccountNameW(null, wide(name), sid, sidLen, domain, domainLen, use)
    ? sidText(sid)
    : null;
}

/** The account name of a SID given as text; null when there is no such account here. */
function nameOf(sidString: string): string | null {
  const { adv, k32 } = api();
  const out = new BigUint64Array(1);
  if (!adv.ConvertStringSidToSidW(wide(sidString), out)) return null;
  const sid = Deno.UnsafePointer.create(out[0]);
  try {
    return accountOfSid(sidAt(sid!));
  } finally {
    k32.LocalFree(sid);
  }
}

/** The bytes of a binary SID the OS points at: 8 bytes of header then 4 per sub-authority (count at byte 1). */
export function sidAt(sid: Deno.PointerObject): Uint8Array {
  const head = new Deno.UnsafePointerView(sid);
  const bytes = new Uint8Array(8 + 4 * head.getUint8(1));
  head.copyInto(bytes);
  return bytes;
}

/** The account name of a binary SID (LookupAccountSidW, without its domain); null when there is no such account. */
export function accountOfSid(sid: Uint8Array): string | null {
  const name = new Uint16Array(256), nameLen = new Uint32Array([name.length]);
  const domain = new Uint16Array(256), domainLen = new Uint32Array([domain.length]);
  const use = new Uint32Array(1);
  if (!api().adv.LookupAccountSidW(null, sid, name, nameLen, domain, domainLen, use)) return null;
  return String.fromCharCode(...name.subarray(0, nameLen[0]));
}

function members(group: string): string[] {
  const out: string[] = [];
  enumerate(
    `NetLocalGroupGetMembers ${group}`,
    // Level 3 (DOMAIN\name): the one level Wine answers as well as Windows.
    (buf, read, total, resume) =>
      api().net.NetLocalGroupGetMembers(null, wide(group), 3, buf, MAX_PREFERRED_LENGTH, read, total, resume),
    LOCALGROUP_MEMBERS_INFO_3,
    (view, at) => out.push(wideAt(pointerAt(view, at))),
  );
  return out;
}

function groups(): LocalGroup[] {
  const listed: { name: string; comment: string }[] = [];
  enumerate(
    "NetLocalGroupEnum",
    (buf, read, total, resume) =>
      api().net.NetLocalGroupEnum(null, 1, buf, MAX_PREFERRED_LENGTH, read, total, resume),
    LOCALGROUP_INFO_1,
    (view, at) =>
      listed.push({ name: wideAt(pointerAt(view, at)), comment: wideAt(pointerAt(view, at + 8)) }),
  );
  return listed.map((g) => ({ ...g, sid: sidOf(g.name), members: members(g.name) }));
}

function group(sid: string): LocalGroup | null {
  const name = nameOf(sid);
  return name === null ? null : { name, comment: "", sid, members: members(name) };
}

function computerName(): string {
  const buf = new Uint16Array(256), len = new Uint32Array([buf.length]);
  if (!api().k32.GetComputerNameW(buf, len)) throw new Error("GetComputerName failed");
  return String.fromCharCode(...buf.subarray(0, len[0]));
}

/** The running Windows machine's local accounts (call only on Windows: it opens netapi32 on first use). */
export function localAccounts(): LocalAccounts {
  return { domain: computerName, users, groups, group };
}
