// The systemd side of `ctagent service`: place the executable, write the unit, enable and start it.
import { existsSync, realpathSync } from "node:fs";
import { chmod, copyFile, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { programOf, type ServiceDeps, type ServiceOptions } from "./types.ts";
import { BIN_PATH, STATE_DIR, systemdUnit, UNIT_NAME, UNIT_PATH, unitExecStart } from "./systemd.ts";

const CACHE_DIR = "/var/cache/ctagent";

export async function linuxService(opts: ServiceOptions, deps: ServiceDeps): Promise<number> {
  const live = opts.root === "/";
  const at = (p: string) => live ? p : join(opts.root, p);
  // sd_booted(): whether systemd runs this machine, so units can be started now (never for a --root)
  const booted = live && existsSync("/run/systemd/system");
  const rootFlag = live ? [] : [`--root=${opts.root}`];

  async function systemctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const r = await deps.exec("systemctl", [...rootFlag, ...args]);
    if (r.code === 127) {
      throw new Error(`systemctl not found: this machine does not use systemd (unit at ${at(UNIT_PATH)})`);
    }
    return r;
  }
  async function must(...args: string[]) {
    const r = await systemctl(...args);
    if (r.code !== 0) {
      throw new Error(`systemctl ${[...rootFlag, ...args].join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
    }
  }

  if (opts.action !== "status" && live && !deps.privileged) {
    throw new Error(`needs root to change ${UNIT_PATH}: run it with sudo`);
  }

  if (opts.action === "install") {
    const program = programOf(deps);
    let argv = program.argv;
    if (program.kind === "compiled") {
      await placeExecutable(deps.execPath, at(BIN_PATH));
      argv = [BIN_PATH];
      deps.out(`installed ${deps.execPath} as ${at(BIN_PATH)}`);
    } else {
      deps.err(
        `warning: running under deno, so the unit runs ${argv.join(" ")} in place: keep both files there ` +
          `(a compiled ctagent is copied to ${BIN_PATH} instead)`,
      );
    }
    const unit = systemdUnit({
      execStart: [...argv, "--data-dir", STATE_DIR, ...opts.agentArgs],
      version: deps.version,
      environment: program.kind === "deno" ? { DENO_DIR: CACHE_DIR } : undefined,
    });
    await mkdir(dirname(at(UNIT_PATH)), { recursive: true });
    await writeFile(`${at(UNIT_PATH)}.tmp`, unit, { mode: 0o644 });
    await rename(`${at(UNIT_PATH)}.tmp`, at(UNIT_PATH));
    deps.out(`wrote ${at(UNIT_PATH)}`);
    if (booted) await must("daemon-reload");
    await must("enable", UNIT_NAME);
    if (booted && opts.start) {
      await must("restart", UNIT_NAME); // restart, not start: an upgrade must run the new executable
      deps.out(`started ${UNIT_NAME}; logs: journalctl -u ctagent -f`);
    } else if (live && !booted) {
      deps.out(`enabled ${UNIT_NAME}; systemd is not running here, so it starts at the next boot`);
    } else {
      deps.out(`enabled ${UNIT_NAME}${live ? " (not started: --no-start)" : ` under ${opts.root}`}`);
    }
    deps.out(`state: ${at(STATE_DIR)} (kept across upgrades and uninstall)`);
    return 0;
  }

  if (opts.action === "uninstall") {
    if (!existsSync(at(UNIT_PATH))) {
      deps.out(`${UNIT_NAME} is not installed (no ${at(UNIT_PATH)})`);
    } else {
      await must("disable", ...(booted ? ["--now"] : []), UNIT_NAME);
      await rm(at(UNIT_PATH));
      if (booted) await must("daemon-reload");
      deps.out(`stopped, disabled and removed ${at(UNIT_PATH)}`);
    }
    if (existsSync(at(BIN_PATH))) {
      await rm(at(BIN_PATH));
      deps.out(`removed ${at(BIN_PATH)}`);
    }
    if (opts.purge) {
      await rm(at(STATE_DIR), { recursive: true, force: true });
      await rm(at(CACHE_DIR), { recursive: true, force: true });
      deps.out(`deleted the state in ${at(STATE_DIR)}`);
    } else if (existsSync(at(STATE_DIR))) {
      deps.out(`kept the state in ${at(STATE_DIR)} (delete it with --purge)`);
    }
    return 0;
  }

  // status
  if (!existsSync(at(UNIT_PATH))) {
    deps.out(`${UNIT_NAME}: not installed (no ${at(UNIT_PATH)})`);
    return 3;
  }
  const unit = await readFile(at(UNIT_PATH), "utf8");
  const enabled = (await systemctl("is-enabled", UNIT_NAME)).stdout.trim() || "unknown";
  const active = booted
    ? (await systemctl("is-active", UNIT_NAME)).stdout.trim()
    : "unknown (systemd is not running)";
  deps.out(`${UNIT_NAME}: installed at ${at(UNIT_PATH)}`);
  deps.out(`  written by: ${unit.match(/\(ctagent ([^)]+)\)/)?.[1] ?? "unknown version"}`);
  deps.out(`  ExecStart:  ${unitExecStart(unit) ?? "(none)"}`);
  deps.out(`  enabled:    ${enabled}`);
  deps.out(`  active:     ${active}`);
  deps.out(`  state:      ${at(STATE_DIR)}${existsSync(at(STATE_DIR)) ? "" : " (not created yet)"}`);
  if (live && existsSync(BIN_PATH)) {
    const v = await deps.exec(BIN_PATH, ["--version"]);
    deps.out(`  program:    ${v.code === 0 ? v.stdout.trim() : `${BIN_PATH} --version exited ${v.code}`}`);
  }
  return 0;
}

/** Copies the running executable to `dest` atomically (a running service keeps its old file until restart). */
async function placeExecutable(source: string, dest: string): Promise<void> {
  if (existsSync(dest) && realpathSync(dest) === realpathSync(source)) return;
  await mkdir(dirname(dest), { recursive: true });
  const tmp = `${dest}.new`;
  await copyFile(source, tmp);
  await chmod(tmp, 0o755);
  await rename(tmp, dest);
}
