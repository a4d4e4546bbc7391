// The Windows side of `ctagent service`: place the executable, register the boot task, run it.
import { existsSync, realpathSync } from "node:fs";
import { copyFile, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { win32 } from "node:path";
import { programOf, type ServiceDeps, type ServiceOptions } from "./types.ts";
import { encodeTaskFile, lockDownDataDir, schtasks, TASK_NAME, taskXml } from "./windows_task.ts";

/** Where the executable and the state go: %ProgramFiles%\ctagent and %ProgramData%\ctagent. */
export function windowsPaths(env: (name: string) => string | undefined) {
  const programFiles = env("ProgramFiles") ?? "C:\\Program Files";
  const programData = env("ProgramData") ?? "C:\\ProgramData";
  return {
    bin: win32.join(programFiles, "ctagent", "ctagent.exe"),
    dataDir: win32.join(programData, "ctagent"),
    taskFile: win32.join(programData, "ctagent", "ctagent-task.xml"),
  };
}

export async function windowsService(opts: ServiceOptions, deps: ServiceDeps): Promise<number> {
  if (opts.root !== "/") throw new Error("--root is for Linux only");
  const paths = windowsPaths(deps.env);
  async function must([cmd, args]: [string, string[]]) {
    const r = await deps.exec(cmd, args);
    if (r.code !== 0) {
      const hint = /denied/i.test(r.stderr + r.stdout) ? " (run it from an elevated prompt)" : "";
      throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}: ${(r.stderr || r.stdout).trim()}${hint}`);
    }
    return r;
  }

  if (opts.action === "install") {
    const program = programOf(deps);
    let argv = program.argv;
    if (program.kind === "compiled") {
      if (!(existsSync(paths.bin) && realpathSync(paths.bin) === realpathSync(deps.execPath))) {
        await mkdir(win32.dirname(paths.bin), { recursive: true });
        // a running ctagent.exe cannot be overwritten, but it can be renamed away
        if (existsSync(paths.bin)) await rename(paths.bin, `${paths.bin}.old`).catch(() => {});
        await copyFile(deps.execPath, paths.bin);
        await rm(`${paths.bin}.old`, { force: true }).catch(() => {});
      }
      argv = [paths.bin];
      deps.out(`installed ${deps.execPath} as ${paths.bin}`);
    } else {
      deps.err(
        `warning: running under deno, so the task runs ${argv.join(" ")} in place: keep both files there`,
      );
    }
    await mkdir(paths.dataDir, { recursive: true });
    const locked = await deps.exec(...lockDownDataDir(paths.dataDir));
    if (locked.code !== 0) {
      deps.err(`warning: could not restrict ${paths.dataDir} to SYSTEM and Administrators`);
    }
    const [command, ...rest] = argv;
    const xml = taskXml({
      command,
      args: [...rest, "--data-dir", paths.dataDir, ...opts.agentArgs],
      workingDirectory: paths.dataDir,
      version: deps.version,
    });
    await writeFile(paths.taskFile, encodeTaskFile(xml));
    await must(schtasks.create(paths.taskFile));
    deps.out(`registered the task ${TASK_NAME} (at boot, as SYSTEM; definition in ${paths.taskFile})`);
    if (opts.start) {
      await deps.exec(...schtasks.end()); // an upgrade: stop the old one first; fails harmlessly if none runs
      await must(schtasks.run());
      deps.out(`started ${TASK_NAME}`);
    }
    deps.out(`state: ${paths.dataDir} (kept across upgrades and uninstall)`);
    return 0;
  }

  if (opts.action === "uninstall") {
    const q = await deps.exec(...schtasks.query());
    if (q.code !== 0) deps.out(`the task ${TASK_NAME} is not registered`);
    else {
      await deps.exec(...schtasks.end());
      await must(schtasks.remove());
      deps.out(`stopped and removed the task ${TASK_NAME}`);
    }
    if (existsSync(paths.bin)) {
      await rm(paths.bin).catch((e) =>
        deps.err(`warning: could not remove ${paths.bin}: ${(e as Error).message}`)
      );
      deps.out(`removed ${paths.bin}`);
    }
    if (opts.purge) {
      await rm(paths.dataDir, { recursive: true, force: true });
      deps.out(`deleted the state in ${paths.dataDir}`);
    } else if (existsSync(paths.dataDir)) {
      deps.out(`kept the state in ${paths.dataDir} (delete it with --purge)`);
    }
    return 0;
  }

  const q = await deps.exec(...schtasks.query());
  if (q.code !== 0) {
    deps.out(`${TASK_NAME}: not installed (no scheduled task ${TASK_NAME})`);
    return 3;
  }
  deps.out(q.stdout.trim());
  return 0;
}
