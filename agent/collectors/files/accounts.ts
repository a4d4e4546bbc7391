// User and group names by id, from the host's /etc/passwd and /etc/group (no NSS: what the files say).
import { type Host, isMissing } from "../../host/mod.ts";

/** Parses passwd- or group-format text into id → name (the first name wins for a shared id). */
export function parseIdFile(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const f = line.split(":");
    if (f.length < 3) continue;
    const id = Number(f[2]);
    if (f[0] && Number.isInteger(id) && id >= 0 && !out.has(id)) out.set(id, f[0]);
  }
  return out;
}

export interface Accounts {
  users: Map<number, string>;
  groups: Map<number, string>;
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
      return parseIdFile(await host.readText(path));
    } catch (e) {
      if (!isMissing(e)) unreadable.push(`cannot read ${path}: ${(e as Error).message}`);
      warnings.push(`cannot read ${path} for owner names: ${(e as Error).message}`);
      return new Map<number, string>();
    }
  };
  const users = await read("/etc/passwd"), groups = await read("/etc/group");
  return { users, groups, unknown: unreadable.length ? unreadable.join("; ") : null, warnings };
}
