// Windows users and groups from the SAM hive of an image (offline): names, RIDs, the disabled flag, group members.
import type { Collected } from "../types.ts";
import { getValue, type RegistryReader, type RegKey } from "../../host/registry/reader.ts";
import { sidAt } from "../../host/registry/offline.ts";
import { decodeString } from "../../host/registry/values.ts";
import { blankItem, type UserItem } from "./item.ts";

const DOMAINS = "HKEY_LOCAL_MACHINE\\SAM\\SAM\\Domains";
/** BUILTIN's SID: its aliases (Administrators 544, Users 545 …) are `S-1-5-32-<RID>`. */
const BUILTIN = "S-1-5-32";
export const ADMINISTRATORS = "S-1-5-32-544";
/** ACB_DISABLED in the user record's account control bits. */
const ACB_DISABLED = 0x0001;

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/**
 * A user record's name and full name from its `V` value: a table of 17 (offset, length, unused) triples, each
 * offset counted from the table's end (0xCC). Only entries 1 (name) and 2 (full name) are read: the others hold
 * the password hashes, which are never touched.
 */
export function userNames(v: Uint8Array): { name: string; fullName: string } {
  const TABLE = 0xcc;
  if (v.length < TABLE) throw new RangeError(`the V value is ${v.length} bytes, shorter than its table`);
  const field = (i: number) => {
    const at = view(v).getUint32(i * 12, true), len = view(v).getUint32(i * 12 + 4, true);
    if (TABLE + at + len > v.length) throw new RangeError(`field ${i} of the V value runs past its end`);
    return decodeString(v.subarray(TABLE + at, TABLE + at + len));
  };
  return { name: field(1), fullName: field(2) };
}

/** The account control bits (ACB_*) of a user record's `F` value. */
export function accountBits(f: Uint8Array): number {
  if (f.length < 0x3a) throw new RangeError(`the F value is ${f.length} bytes, too short for its flags`);
  return view(f).getUint16(0x38, true);
}

/** A local group record's `C` value: its name, comment and member SIDs (offsets counted from 0x34). */
export function aliasRecord(c: Uint8Array): { name: string; comment: string; members: string[] } {
  const BASE = 0x34;
  if (c.length < BASE) throw new RangeError(`the C value is ${c.length} bytes, shorter than its header`);
  const d = view(c);
  const text = (at: number, len: number) => {
    if (BASE + at + len > c.length) throw new RangeError("a string of the C value runs past its end");
    return decodeString(c.subarray(BASE + at, BASE + at + len));
  };
  const members: string[] = [];
  let at = BASE + d.getUint32(0x28, true);
  for (let i = 0; i < d.getUint32(0x30, true); i++) {
    const sid = sidAt(c, at);
    if (sid === null) throw new RangeError(`member ${i} of the C value runs past its end`);
    members.push(sid);
    at += 8 + 4 * c[at + 1];
  }
  return {
    name: text(d.getUint32(0x10, true), d.getUint32(0x14, true)),
    comment: text(d.getUint32(0x1c, true), d.getUint32(0x20, true)),
    members,
  };
}

/** The records of a SAM domain's Users or Aliases key: subkeys named by their RID in 8 hex digits. */
function records(reader: RegistryReader, path: string): { rid: number; key: RegKey }[] {
  const parent = reader.open(path);
  if (!parent) return [];
  try {
    return parent.subkeyNames().filter((n) => /^[0-9A-Fa-f]{8}$/.test(n)).flatMap((n) => {
      const key = parent.subkey(n);
      return key ? [{ rid: parseInt(n, 16), key }] : [];
    });
  } finally {
    parent.close();
  }
}

/** `Names\<name>` of a Users or Aliases key: each name's RID is its default value's type. */
function namesByRid(reader: RegistryReader, path: string): Map<number, string> {
  const out = new Map<number, string>();
  const names = reader.open(`${path}\\Names`);
  if (!names) return out;
  try {
    for (const n of names.subkeyNames()) {
      const k = names.subkey(n);
      const v = k && getValue(k.values(), "");
      if (v) out.set(v.type, n);
      k?.close();
    }
  } finally {
    names.close();
  }
  return out;
}

/**
 * The local users and groups a SAM hive holds (mounted at HKLM\SAM). A record that cannot be read is kept with
 * its error, named as the hive's Names key names it. An image without a SAM is nothing seen, nothing Removed.
 */
export function readSamUsers(reader: RegistryReader): Collected<UserItem> {
  const account = reader.open(`${DOMAINS}\\Account`);
  if (!account) return { items: [], unseen: [""], warnings: ["no SAM hive in this image: no users read"] };
  let domainSid: string | null;
  try {
    // The machine's SID closes the Account domain's V value: local accounts are <it>-<RID>.
    const v = getValue(account.values(), "V");
    domainSid = v && v.data.length >= 24 ? sidAt(v.data, v.data.length - 24) : null;
  } finally {
    account.close();
  }
  if (!domainSid?.startsWith("S-1-5-21-")) {
    throw new Error(`${DOMAINS}\\Account: the machine's SID cannot be read from its V value`);
  }

  const items: UserItem[] = [];
  const users = new Map<number, UserItem>();
  const userNamesByRid = namesByRid(reader, `${DOMAINS}\\Account\\Users`);
  for (const { rid, key } of records(reader, `${DOMAINS}\\Account\\Users`)) {
    const item = blankItem("user", userNamesByRid.get(rid) ?? `RID ${rid}`, rid);
    try {
      const v = getValue(key.values(), "V"), f = getValue(key.values(), "F");
      if (!v || !f) throw new Error("its V or F value is missing");
      const { name, fullName } = userNames(v.data);
      item.Name = name || item.Name;
      item.FullName = fullName;
      item.Disabled = (accountBits(f.data) & ACB_DISABLED) !== 0;
    } catch (e) {
      item.error = `${key.path}: ${(e as Error).message}`;
    } finally {
      key.close();
    }
    users.set(rid, item);
    items.push(item);
  }

  const memberOf = new Map<number, string[]>();
  // Unless the Administrators record was read, a user it does not show is not known to be no administrator.
  let adminsRead = false;
  for (const [domain, sid] of [["Builtin", BUILTIN], ["Account", domainSid]] as const) {
    const path = `${DOMAINS}\\${domain}\\Aliases`;
    const aliasNames = namesByRid(reader, path);
    for (const { rid, key } of records(reader, path)) {
      const groupSid = `${sid}-${rid}`;
      const item = blankItem("group", aliasNames.get(rid) ?? `RID ${rid}`, rid);
      item.Admin = groupSid === ADMINISTRATORS;
      try {
        const c = getValue(key.values(), "C");
        if (!c) throw new Error("its C value is missing");
        const alias = aliasRecord(c.data);
        item.Name = alias.name || item.Name;
        const others: string[] = [];
        for (const m of alias.members) {
          const local = m.startsWith(`${domainSid}-`)
            ? users.get(Number(m.slice(domainSid.length + 1)))
            : undefined;
          if (!local) others.push(m);
          else memberOf.set(local.Id!, [...memberOf.get(local.Id!) ?? [], item.Name]);
          if (local && item.Admin) local.Admin = true;
        }
        item.OtherMembers = others.sort().join(", ");
        if (item.Admin) adminsRead = true;
      } catch (e) {
        item.error = `${key.path}: ${(e as Error).message}`;
      } finally {
        key.close();
      }
      items.push(item);
    }
  }
  for (const u of users.values()) {
    u.Groups = (memberOf.get(u.Id!) ?? []).sort().join(", ");
    u.Admin ??= adminsRead ? false : null;
  }
  return { items };
}
