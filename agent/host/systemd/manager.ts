// The running systemd, when there is one: whether it runs, and what `systemctl list-units` says of its units.
import { type Host, isMissing } from "../mod.ts";

/** Runtime state of a unit from a running systemd: ActiveState and SubState. */
export interface RuntimeState {
  active: string;
  sub: string;
}

/** Parses `systemctl list-units --plain --no-legend --full` (UNIT LOAD ACTIVE SUB DESCRIPTION), units of `type`. */
export function parseListUnits(text: string, type = ".service"): Map<string, RuntimeState> {
  const out = new Map<string, RuntimeState>();
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f[0] === "●" || f[0] === "*") f.shift();
    if (f.length < 4 || !f[0].endsWith(type)) continue;
    out.set(f[0], { active: f[2], sub: f[3] });
  }
  return out;
}

/** Whether systemd is the running service manager of this host (sd_booted: /run/systemd/system exists). */
export function systemdRunning(host: Host): boolean {
  if (host.root !== "/") return false; // a mounted image or a fixture tree is not running
  try {
    return host.statSync("/run/systemd/system").isDirectory;
  } catch (e) {
    // Not knowing would turn every runtime state into unknown and back: fail the run instead.
    if (isMissing(e)) return false;
    throw new Error(`cannot tell whether systemd runs: /run/systemd/system: ${(e as Error).message}`);
  }
}

/** The running systemd's units of `type` (".service", ".timer"), loaded or not, with their states. */
export async function listUnits(
  host: Host,
  type: string,
  signal: AbortSignal,
): Promise<Map<string, RuntimeState>> {
  const res = await host.exec(
    "systemctl",
    ["list-units", `--type=${type.slice(1)}`, "--all", "--plain", "--no-legend", "--no-pager", "--full"],
    { signal },
  );
  if (res.code !== 0) throw new Error(`systemctl list-units exited with ${res.code}: ${res.stderr.trim()}`);
  return parseListUnits(res.stdout, type);
}
