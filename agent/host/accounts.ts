// User and group names by id, from the host's /etc/passwd and /etc/group (no NSS: what the files say).
import type { Host } from "./mod.ts";

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
  warnings: string[];
}

/** Reads the host's account files; a missing or unreadable one gives ids without names and a warning. */
export async function loadAccounts(host: Host): Promise<Accounts> {
  const warnings: string[] = [];
  const read = async (path: string) => {
    try {
      return parseIdFile(await host.readText(path));
    } catch (e) {
      warnings.push(`cannot read ${path} for owner names: ${(e as Error).message}`);
      return new Map<number, string>();
    }
  };
  return { users: await read("/etc/passwd"), groups: await read("/etc/group"), warnings };
}
