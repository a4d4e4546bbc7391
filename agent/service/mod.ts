// `ctagent service install|uninstall|status`: run the agent at boot (systemd on Linux, a boot task on Windows).
import { isAbsolute, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { ServiceDeps, ServiceOptions } from "./types.ts";
import { linuxService } from "./linux.ts";
import { windowsService } from "./windows.ts";

export type { ServiceDeps, ServiceOptions } from "./types.ts";
export { programOf } from "./types.ts";

export const SERVICE_USAGE = `Usage: ctagent service install|uninstall|status [options] [-- agent options]

  install     copy ctagent to its place, write the service definition, enable it and start it
              (run it again with a new ctagent to upgrade: the state is kept and migrated)
  uninstall   stop and remove the service and the installed executable; the state is kept unless --purge
  status      show whether the service is installed, enabled and running

Options:
  --dcr FILE        give the service this DCR file (absolute path recorded)
  --listen ADDR     where the service serves its page (passed to the agent)
  --no-ui           the service serves no page
  --no-start        install and enable, but do not start now
  --purge           uninstall: also delete the state directory
  --root DIR        Linux: a directory standing for / (for images and tests); nothing is started
  -h, --help        this text

Anything after -- is passed to the agent as is.`;

/** Parses the words after `service`; throws TypeError naming the bad word. */
export function parseServiceArgs(args: string[]): ServiceOptions | "help" {
  const dash = args.indexOf("--");
  const own = dash < 0 ? args : args.slice(0, dash);
  const passed = dash < 0 ? [] : args.slice(dash + 1);
  let parsed;
  try {
    parsed = parseArgs({
      args: own,
      allowPositionals: true,
      options: {
        root: { type: "string" },
        dcr: { type: "string" },
        listen: { type: "string" },
        "no-ui": { type: "boolean" },
        "no-start": { type: "boolean" },
        purge: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    throw new TypeError(`ctagent service: ${(e as Error).message}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";
  const [action, ...extra] = positionals;
  if (action !== "install" && action !== "uninstall" && action !== "status") {
    throw new TypeError(
      `ctagent service: expected install, uninstall or status, got ${
        action === undefined ? "nothing" : JSON.stringify(action)
      }`,
    );
  }
  if (extra.length) throw new TypeError(`ctagent service ${action}: unexpected ${JSON.stringify(extra[0])}`);
  const agentArgs: string[] = [];
  if (values.dcr !== undefined) {
    agentArgs.push("--dcr", isAbsolute(values.dcr) ? values.dcr : resolve(values.dcr));
  }
  if (values.listen !== undefined) agentArgs.push("--listen", values.listen);
  if (values["no-ui"]) agentArgs.push("--no-ui");
  agentArgs.push(...passed);
  return {
    action,
    root: values.root === undefined ? "/" : resolve(values.root),
    agentArgs,
    start: !values["no-start"],
    purge: !!values.purge,
  };
}

/** Runs `ctagent service …`; returns the process exit code (0 done; status: 0 installed, 3 not installed). */
export async function serviceCommand(args: string[], deps: ServiceDeps): Promise<number> {
  let opts;
  try {
    opts = parseServiceArgs(args);
  } catch (e) {
    deps.err((e as Error).message);
    deps.err(SERVICE_USAGE);
    return 2;
  }
  if (opts === "help") {
    deps.out(SERVICE_USAGE);
    return 0;
  }
  try {
    return deps.os === "windows" ? await windowsService(opts, deps) : await linuxService(opts, deps);
  } catch (e) {
    deps.err(`ctagent service ${opts.action}: ${(e as Error).message}`);
    return 1;
  }
}

/** The live dependencies. */
export function liveServiceDeps(version: string): ServiceDeps {
  return {
    os: Deno.build.os === "windows" ? "windows" : "linux",
    execPath: Deno.execPath(),
    mainModule: Deno.mainModule,
    version,
    privileged: Deno.build.os === "windows" ? true : Deno.uid() === 0, // Windows: schtasks says when it is not
    exec: async (cmd, args) => {
      try {
        const r = await new Deno.Command(cmd, { args, stdin: "null" }).output();
        const dec = new TextDecoder();
        return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return { code: 127, stdout: "", stderr: `${cmd}: not found` };
        throw e;
      }
    },
    env: (n) => Deno.env.get(n),
    out: (l) => console.log(l),
    err: (l) => console.error(l),
  };
}
