// The users collector: Linux's account files and sudoers, the live Windows machine's netapi32, or an image's SAM.
import type { Collector } from "../types.ts";
import { implement } from "../spec.ts";
import spec from "./spec.ts";
import type { UserItem } from "./item.ts";
import { readLinuxUsers } from "./linux.ts";
import { readLiveWindowsUsers } from "./windows.ts";
import { readSamUsers } from "./sam.ts";

export const usersCollector: Collector<UserItem> = implement(spec, async (_settings, { host, now }) => {
  if (host.os === "linux") return await readLinuxUsers(host, now);
  if (host.accounts) return readLiveWindowsUsers(host.accounts);
  const reader = await host.registry();
  try {
    const read = readSamUsers(reader);
    // What the hive itself says (dirty without its logs, damaged bins), as the other registry readers report it.
    return { ...read, warnings: [...reader.warnings?.() ?? [], ...read.warnings ?? []] };
  } finally {
    reader.close();
  }
});

export default usersCollector;
