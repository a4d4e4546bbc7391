// Where ctagent keeps its data by default, per OS and user.
import { homedir } from "node:os";
import { join } from "node:path";
import type { Platform } from "./platform.ts";

export function defaultDataDir(
  os: Platform,
  env: (k: string) => string | undefined,
  isRoot: boolean,
): string {
  if (os === "windows") {
    const base = env("ProgramData") ?? env("LOCALAPPDATA") ?? join(homedir(), "AppData", "Local");
    return join(base, "ctagent");
  }
  if (isRoot) return "/var/lib/ctagent";
  const state = env("XDG_STATE_HOME") ?? join(env("HOME") ?? homedir(), ".local", "state");
  return join(state, "ctagent");
}

export const DB_FILE = "ctagent.db";
