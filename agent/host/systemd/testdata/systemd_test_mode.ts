// systemd's own loader as a test oracle: `systemd --test --system` on this machine's unit tree or a fixture's.
import { SYSTEM_UNIT_PATH } from "../unit_tree.ts";

/**
 * What systemd itself loads and starts at boot from the unit tree under `root` ("/" for this machine's):
 * `systemd --test --system` (which refuses to run as root: run as nobody) dumps every unit it loaded and the
 * jobs of the initial transaction. Null when systemd is not installed here.
 */
export function systemdTest(root = "/"): { loaded: Set<string>; started: Set<string> } | null {
  const env: Record<string, string> = { SYSTEMD_LOG_TARGET: "console" };
  if (root !== "/") env.SYSTEMD_UNIT_PATH = SYSTEM_UNIT_PATH.map((d) => root + d).join(":");
  let out;
  try {
    out = new Deno.Command("setpriv", {
      args: [
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "/lib/systemd/systemd",
        "--test",
        "--system",
      ],
      env,
      cwd: "/",
      stdout: "piped",
      stderr: "null",
    }).outputSync();
  } catch {
    return null;
  }
  if (!out.success) return null;
  const text = new TextDecoder().decode(out.stdout);
  const loaded = new Set([...text.matchAll(/^\t-> Unit (\S+):$/gm)].map((m) => m[1]));
  const started = new Set([...text.matchAll(/^\t+Action: (\S+) -> start$/gm)].map((m) => m[1]));
  return { loaded, started };
}
