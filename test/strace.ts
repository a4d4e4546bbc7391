// The kernel as the witness of file descriptors: a deno script run under strace, each file's opens and closes.

/** Whether strace can run here (Linux with strace installed). */
const HAVE_STRACE = Deno.build.os === "linux" &&
  new Deno.Command("sh", { args: ["-c", "command -v strace"], stdout: "null" }).outputSync().success;

/** A test that needs strace: ignored where it cannot run, and then its name says it was SKIPPED. */
export function straceTest(name: string, fn: () => Promise<void>): void {
  Deno.test({
    name: HAVE_STRACE ? name : `${name} (SKIPPED: needs Linux and strace)`,
    ignore: !HAVE_STRACE,
    fn,
  });
}

export interface Traced {
  /** What the script printed on stdout. */
  stdout: string;
  /** How often each file under the watched directory was opened and closed (calls that succeeded). */
  files: Map<string, { opened: number; closed: number }>;
  /**
   * close() calls that failed with EBADF, anywhere in the process: a number closed twice (by then maybe another
   * thread's file). Other failures are no double close: strace shows a close cut short by the process's exit
   * as failed with an odd errno (seen: the Deno cache's close at exit).
   */
  failedCloses: string[];
}

/** Runs `script` with `args` under `strace -ff -y`, watching the files under `watched` (an absolute path). */
export async function traceDescriptors(script: string, args: string[], watched: string): Promise<Traced> {
  const dir = await Deno.makeTempDir({ prefix: "ctagent-strace-" });
  try {
    // One trace file per thread (-ff): no call is split by another thread's; -y names each fd's file.
    const out = await new Deno.Command("strace", {
      args: ["-ff", "-y", "-e", "trace=openat,close", "-e", "signal=none", "-o", `${dir}/t`, Deno.execPath()]
        .concat(["run", "-A", "--no-check", script, ...args]),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    if (!out.success) {
      throw new Error(`${script} failed under strace: ${stdout}${new TextDecoder().decode(out.stderr)}`);
    }
    const lines = [...Deno.readDirSync(dir)].flatMap((e) =>
      Deno.readTextFileSync(`${dir}/${e.name}`).split("\n")
    );
    const files = new Map<string, { opened: number; closed: number }>();
    const failedCloses: string[] = [];
    const named = new RegExp(`<(${watched.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/[^>]*)>`);
    for (const l of lines) {
      const call = /^(openat|close)\(/.exec(l)?.[1];
      if (!call) continue;
      const failed = / = -1 /.test(l);
      if (call === "close" && / = -1 EBADF/.test(l)) failedCloses.push(l);
      // An openat's file is the one it returned (its directory fd may be named before it).
      const path = named.exec(call === "openat" ? l.slice(l.lastIndexOf(" = ")) : l)?.[1];
      if (!path || failed) continue;
      const f = files.get(path) ?? { opened: 0, closed: 0 };
      if (call === "openat") f.opened++;
      else f.closed++;
      files.set(path, f);
    }
    return { stdout, files, failedCloses };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
