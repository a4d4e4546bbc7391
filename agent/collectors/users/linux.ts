// Linux users and groups: /etc/passwd, /etc/group, /etc/shadow when readable, and the sudoers rules naming them.
import type { Collected } from "../types.ts";
import type { Host } from "../../host/mod.ts";
import { isMissing } from "../../host/mod.ts";
import { blankItem, type UserItem } from "./item.ts";
import {
  accountExpired,
  dayText,
  type GroupEntry,
  type Parsed,
  parseGroup,
  parsePasswd,
  parseShadow,
  type PasswdEntry,
  passwordExpired,
  type ShadowEntry,
} from "./passwd.ts";
import { isDenied, names, readSudoers, type Sudoers, type Who } from "./sudoers.ts";

/** Groups whose members administer the machine through sudo (Debian's sudo, Red Hat's and Arch's wheel). */
export const ADMIN_GROUPS: readonly string[] = ["sudo", "wheel"];

/** Each entry once, by name, the first one winning as getpwnam(3) and getgrnam(3) find it; repeats said. */
function firstByName<T extends { name: string }>(
  file: string,
  parsed: Parsed<T>,
  warnings: string[],
): Map<string, T> {
  for (const s of parsed.skipped) warnings.push(`${file} line ${s.line}: ${s.why}: not read`);
  const out = new Map<string, T>();
  for (const e of parsed.entries) {
    if (out.has(e.name)) warnings.push(`${file}: ${e.name} is listed twice: the first entry counts`);
    else out.set(e.name, e);
  }
  return out;
}

/** The sudoers rules naming `who`, as `file: rule`; null when some sudoers file could not be read. */
function sudoText(sudo: Sudoers, who: Who): string | null {
  const rules = sudo.rules.filter((r) => names(r, who, sudo.userAliases));
  if (sudo.unreadable.length && !rules.length) return null;
  return rules.map((r) => `${r.file}: ${r.text}`).join("; ");
}

/** True when anything says yes; false when everything was read and nothing does; null otherwise. */
function admin(yes: boolean, sudo: Sudoers, rulesSay: boolean): boolean | null {
  if (yes || rulesSay) return true;
  return sudo.unreadable.length ? null : false;
}

/** An optional file: its text, or null when it is not there or this process may not read it (said in `warnings`). */
async function optional(host: Host, path: string, warnings: string[]): Promise<string | null> {
  try {
    return await host.readText(path);
  } catch (e) {
    if (isMissing(e)) return null;
    if (isDenied(e)) {
      warnings.push(`${path} cannot be read (permission denied): its fields are left unknown`);
      return null;
    }
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
}

/**
 * The users and groups of a Linux machine (the running one or one under `--root`). `now` is the run's start,
 * which expiry is judged at. No /etc/passwd is no Linux user database: nothing is read and nothing is Removed.
 */
export async function readLinuxUsers(host: Host, now: number | undefined): Promise<Collected<UserItem>> {
  const warnings: string[] = [];
  let passwdText: string;
  try {
    passwdText = await host.readText("/etc/passwd");
  } catch (e) {
    if (!isMissing(e)) throw new Error(`cannot read /etc/passwd: ${(e as Error).message}`);
    return {
      items: [],
      unseen: [""],
      warnings: [`no /etc/passwd${host.root === "/" ? "" : ` under ${host.root}`}: no users read`],
    };
  }
  let groupText: string;
  try {
    groupText = await host.readText("/etc/group");
  } catch (e) {
    throw new Error(`cannot read /etc/group: ${(e as Error).message}`);
  }
  const users: Map<string, PasswdEntry> = firstByName("/etc/passwd", parsePasswd(passwdText), warnings);
  const groups: Map<string, GroupEntry> = firstByName("/etc/group", parseGroup(groupText), warnings);
  const shadowText = await optional(host, "/etc/shadow", warnings);
  const shadow = new Map<string, ShadowEntry>();
  if (shadowText !== null) {
    const parsed = parseShadow(shadowText);
    for (const s of parsed.skipped) warnings.push(`/etc/shadow line ${s.line}: ${s.why}: not read`);
    for (const [name, entry] of parsed.entries) if (!shadow.has(name)) shadow.set(name, entry);
  }
  const sudo = await readSudoers(host);
  warnings.push(...sudo.warnings);
  for (const f of sudo.unreadable) {
    warnings.push(`${f} cannot be read (permission denied): who it makes an administrator is unknown`);
  }

  const groupOfGid = new Map<number, GroupEntry>();
  const listing = new Map<string, GroupEntry[]>();
  for (const g of groups.values()) {
    if (!groupOfGid.has(g.gid)) groupOfGid.set(g.gid, g);
    for (const m of new Set(g.members)) listing.set(m, [...listing.get(m) ?? [], g]);
  }
  const items: UserItem[] = [];
  for (const u of users.values()) {
    const primary = groupOfGid.get(u.gid);
    const mine = [...new Set([...primary ? [primary] : [], ...listing.get(u.name) ?? []])];
    // A primary gid with no group entry still is the user's group: by its number.
    const groupNames = [...mine.map((g) => g.name), ...(primary ? [] : [String(u.gid)])].sort();
    const who: Who = {
      name: u.name,
      id: u.uid,
      kind: "user",
      groups: mine.map((g) => ({ name: g.name, gid: g.gid })),
    };
    const item = blankItem("user", u.name, u.uid);
    item.Gid = u.gid;
    item.FullName = u.fullName;
    item.Home = u.home;
    item.Shell = u.shell;
    item.Groups = groupNames.join(", ");
    item.Sudo = sudoText(sudo, { ...who, groups: [] });
    item.Admin = admin(
      u.uid === 0 || mine.some((g) => ADMIN_GROUPS.includes(g.name)),
      sudo,
      sudo.rules.some((r) => r.grantsAll && names(r, who, sudo.userAliases)),
    );
    const s = u.password === "shadow" ? shadow.get(u.name) : undefined;
    item.PasswordStatus = u.password === "shadow" ? s?.status ?? null : u.password;
    if (s) {
      item.PasswordChanged = s.lastChange ? dayText(s.lastChange) : null;
      item.PasswordExpired = passwordExpired(s, now);
      item.Disabled = accountExpired(s, now);
    }
    items.push(item);
  }
  for (const g of groups.values()) {
    const who: Who = { name: g.name, id: g.gid, kind: "group", groups: [] };
    const item = blankItem("group", g.name, g.gid);
    item.OtherMembers = [...new Set(g.members.filter((m) => !users.has(m)))].sort().join(", ");
    item.Sudo = sudoText(sudo, who);
    item.Admin = admin(
      ADMIN_GROUPS.includes(g.name),
      sudo,
      sudo.rules.some((r) => r.grantsAll && names(r, who, sudo.userAliases)),
    );
    items.push(item);
  }
  return { items, warnings };
}
