// User and group names by id, from the host's /etc/passwd and /etc/group (no NSS: what the files say).
import { type Host, isMissing } from "./mod.ts";

/** Each name of passwd- or group-format text with its id, in file order (a name's first line wins). */
export function parseNameFile(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const f = line.split(":");
    if (f.length < 3) continue;
    const id = Number(f[2]);
    if (f[0] && Number.isInteger(id) && id >= 0 && !out.has(f[0])) out.set(f[0], id);
  }
  return out;
}

/** Parses passwd- or group-format text into id → name (the first name wins for a shared id). */
export function parseIdFile(text: string): Map<number, string> {
  return namesById(parseNameFile(text));
}

function namesById(names: Map<string, number> | null): Map<number, string> {
  const out = new Map<number, string>();
  for (const [name, id] of names ?? []) if (!out.has(id)) out.set(id, name);
  return out;
}

export interface Accounts {
  users: Map<number, string>;
  groups: Map<number, string>;
  /** Every user name with its uid; null when /etc/passwd could not be read (who exists is not known). */
  userIds: Map<string, number> | null;
  /**
   * Why names cannot be known this time: an account file is there but could not be read. An id without a
   * name then says nothing (its name may well exist), so no name may change on its account. Null when the
   * files were read, or are missing (no file, no names).
   */
  unknown: string | null;
  warnings: string[];
}

/** Reads the host's account files; a missing or unreadable one gives ids without names and a warning. */
export async function loadAccounts(host: Host): Promise<Accounts> {
  const warnings: string[] = [];
  const unreadable: string[] = [];
  const read = async (path: string) => {
    try {
      return parseNameFile(await host.readText(path));
    } catch (e) {
      if (!isMissing(e)) unreadable.push(`cannot read ${path}: ${(e as Error).message}`);
      warnings.push(`cannot read ${path} for owner names: ${(e as Error).message}`);
      return null;
    }
  };
  const userIds = await read("/etc/passwd");
  return {
    users: namesById(userIds),
    groups: namesById(await read("/etc/group")),
    userIds,
    unknown: unreadable.length ? unreadable.join("; ") : null,
    warnings,
  };
}
