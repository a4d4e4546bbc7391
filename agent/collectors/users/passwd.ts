// Pure parsers of /etc/passwd, /etc/group and /etc/shadow (a password hash is classified where it is read, never kept).

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  /** The GECOS field's first part (the full name). */
  fullName: string;
  home: string;
  shell: string;
  /** What passwd's own password field says: "shadow" (`x`: look in /etc/shadow), or the state of the hash it holds. */
  password: "shadow" | PasswordStatus;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export type PasswordStatus = "set" | "locked" | "none" | "empty";

/** What /etc/shadow says of one account: no hash, only its state and its days (days since 1970-01-01). */
export interface ShadowEntry {
  status: PasswordStatus;
  /** The day of the last change; 0 forces a change at the next login; null when empty. */
  lastChange: number | null;
  /** The maximum password age in days; null when empty (no limit). */
  maxAge: number | null;
  /** The day the account expires; null when empty. */
  expires: number | null;
}

/** What a file's lines gave, and the lines that were left out (by number only: a shadow line is never quoted). */
export interface Parsed<T> {
  entries: T[];
  skipped: { line: number; why: string }[];
}

/** crypt(3)'s outputs: `$id$…` (yescrypt, SHA-512, bcrypt …), BSDi's `_…`, or traditional DES (13 characters). */
function isHash(s: string): boolean {
  return s.startsWith("$") || s.startsWith("_") || /^[./0-9A-Za-z]{13}$/.test(s);
}

/**
 * The state of a password field: `empty` (no password needed), `set` (a hash), `locked` (a hash behind `!`, as
 * `usermod -L` and `passwd -l` leave it), `none` (no hash: `*`, `!`, `!!`: no password opens it).
 */
export function passwordStatus(field: string): PasswordStatus {
  if (field === "") return "empty";
  if (field.startsWith("!")) return isHash(field.replace(/^!+/, "")) ? "locked" : "none";
  return isHash(field) ? "set" : "none";
}

/** A file's lines with their numbers, blank ones and NIS compat entries (`+`, `-`) left out, the latter counted. */
function lines(text: string): { line: number; fields: string[]; compat: boolean }[] {
  return text.split("\n").flatMap((l, i) => {
    const t = l.replace(/\r$/, "");
    if (t.trim() === "" || t.startsWith("#")) return [];
    return [{ line: i + 1, fields: t.split(":"), compat: t.startsWith("+") || t.startsWith("-") }];
  });
}

const ID = /^\d{1,10}$/;
const DAYS = /^-?\d{1,10}$/;

/** /etc/passwd: `name:password:uid:gid:gecos:home:shell`; lines glibc would not read are skipped and said. */
export function parsePasswd(text: string): Parsed<PasswdEntry> {
  const out: Parsed<PasswdEntry> = { entries: [], skipped: [] };
  for (const { line, fields, compat } of lines(text)) {
    if (compat) {
      out.skipped.push({ line, why: "a NIS compat entry (+/-): NIS's accounts are not listed" });
      continue;
    }
    const [name, password, uid, gid, gecos, home, shell] = fields;
    if (fields.length !== 7 || !name || !ID.test(uid) || !ID.test(gid)) {
      out.skipped.push({ line, why: "not name:password:uid:gid:gecos:home:shell" });
      continue;
    }
    out.entries.push({
      name,
      uid: Number(uid),
      gid: Number(gid),
      fullName: gecos.split(",")[0],
      home,
      shell,
      password: password === "x" ? "shadow" : passwordStatus(password),
    });
  }
  return out;
}

/** /etc/group: `name:password:gid:member,member`. */
export function parseGroup(text: string): Parsed<GroupEntry> {
  const out: Parsed<GroupEntry> = { entries: [], skipped: [] };
  for (const { line, fields, compat } of lines(text)) {
    if (compat) {
      out.skipped.push({ line, why: "a NIS compat entry (+/-): NIS's groups are not listed" });
      continue;
    }
    const [name, , gid, members] = fields;
    if (fields.length !== 4 || !name || !ID.test(gid)) {
      out.skipped.push({ line, why: "not name:password:gid:members" });
      continue;
    }
    out.entries.push({ name, gid: Number(gid), members: members.split(",").filter(Boolean) });
  }
  return out;
}

/**
 * /etc/shadow: `name:password:lastchg:min:max:warn:inactive:expire:reserved`, by name. The password field is
 * turned into its state here and dropped: no hash, nor any part of one, leaves this function.
 */
export function parseShadow(text: string): Parsed<[name: string, entry: ShadowEntry]> {
  const out: Parsed<[string, ShadowEntry]> = { entries: [], skipped: [] };
  const day = (s: string | undefined) => s === undefined || s === "" ? null : Number(s);
  for (const { line, fields, compat } of lines(text)) {
    if (compat) {
      out.skipped.push({ line, why: "a NIS compat entry (+/-)" });
      continue;
    }
    const [name, password, lastChange, , maxAge, , , expires] = fields;
    if (
      fields.length < 8 || !name || [lastChange, maxAge, expires].some((d) => d !== "" && !DAYS.test(d))
    ) {
      out.skipped.push({ line, why: "not name:password:lastchg:min:max:warn:inactive:expire" });
      continue;
    }
    out.entries.push([name, {
      status: passwordStatus(password),
      lastChange: day(lastChange),
      maxAge: day(maxAge),
      expires: day(expires),
    }]);
  }
  return out;
}

const DAY_MS = 86_400_000;

/** Day `n` since 1970-01-01 as `YYYY-MM-DD`. */
export function dayText(n: number): string {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}

/**
 * Whether the password must be changed, as login judges it: a last change of 0 forces one; otherwise past
 * `lastChange + maxAge` (no maximum, or a negative one, never). Null when that depends on a date not given.
 */
export function passwordExpired(s: ShadowEntry, now: number | undefined): boolean | null {
  if (s.lastChange === 0) return true;
  if (s.lastChange === null || s.maxAge === null || s.maxAge < 0) return false;
  return now === undefined ? null : Math.floor(now / DAY_MS) >= s.lastChange + s.maxAge;
}

/** Whether the account has expired (its expire day has come); null when that depends on a date not given. */
export function accountExpired(s: ShadowEntry, now: number | undefined): boolean | null {
  if (s.expires === null || s.expires <= 0) return false;
  return now === undefined ? null : Math.floor(now / DAY_MS) >= s.expires;
}
