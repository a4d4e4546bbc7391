// The Computer of an image's records: the name a mounted machine image gives itself (SPEC §7.20).
import { type Host, isMissing, shortHostname } from "./mod.ts";
import { offlineRegistry, systemHiveOf } from "./registry/offline.ts";
import { getValue } from "./registry/reader.ts";
import { valueText } from "./registry/values.ts";

/** The name in an /etc/hostname text: its first line that is not a comment, shortened; null when none. */
export function parseEtcHostname(text: string): string | null {
  const line = text.split("\n").map((l) => l.trim()).find((l) => l && !l.startsWith("#"));
  return line ? shortHostname(line) : null;
}

const COMPUTER_NAME_KEY =
  "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\ComputerName\\ComputerName";

/**
 * The computer name of the machine image under `host.root`: Windows' `ComputerName\ComputerName` value of
 * the image's SYSTEM hive, Linux's /etc/hostname. Null when the image does not say (a test tree). Throws
 * when the hive is there but cannot be read.
 */
export async function imageComputerName(host: Host): Promise<string | null> {
  if (host.os === "windows") {
    const system = await systemHiveOf(host.path("/"));
    if (!system) return null;
    const key = offlineRegistry([system]).open(COMPUTER_NAME_KEY);
    const v = key && getValue(key.values(), "ComputerName");
    const name = v ? valueText(v.type, v.data)?.trim() : null;
    return name ? shortHostname(name) : null;
  }
  try {
    return parseEtcHostname(await host.readText("/etc/hostname"));
  } catch (e) {
    if (isMissing(e)) return null; // no /etc/hostname: the image does not name itself
    throw e;
  }
}
