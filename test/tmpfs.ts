// A small tmpfs for storage tests (disk full): mounted on a temp dir, resizable, always unmounted. Needs root.

/** Why a tmpfs cannot be mounted here (undefined when it can): the test names it when it skips. */
export function tmpfsSkipReason(): string | undefined {
  if (Deno.build.os !== "linux") return "tmpfs is Linux only";
  if (Deno.uid() !== 0) return "mounting a tmpfs needs root";
  const dir = Deno.makeTempDirSync({ prefix: "ctagent-tmpfs-probe-" });
  try {
    const out = new Deno.Command("mount", { args: ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir] })
      .outputSync();
    if (!out.success) return `mount -t tmpfs failed: ${new TextDecoder().decode(out.stderr).trim()}`;
    new Deno.Command("umount", { args: [dir] }).outputSync();
    return undefined;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

function mount(args: string[]): void {
  const out = new Deno.Command("mount", { args }).outputSync();
  if (!out.success) {
    throw new Error(`mount ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

export interface Tmpfs {
  dir: string;
  /** Grows or shrinks the file system to `size` (mount's syntax: 4m, 64m). */
  resize(size: string): void;
  /** Makes it read-only ("ro") or writable again ("rw"). */
  remount(mode: "ro" | "rw"): void;
}

/** Mounts a tmpfs of `size` on a new temp dir for the life of `fn`. */
export async function withTmpfs<T>(size: string, fn: (fs: Tmpfs) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "ctagent-tmpfs-" });
  mount(["-t", "tmpfs", "-o", `size=${size},mode=0700`, "tmpfs", dir]);
  try {
    return await fn({
      dir,
      resize: (s) => mount(["-o", `remount,size=${s}`, dir]),
      remount: (mode) => mount(["-o", `remount,${mode}`, dir]),
    });
  } finally {
    // Lazy: a test that failed may leave a file open; the mount goes once that is closed.
    new Deno.Command("umount", { args: ["-l", dir] }).outputSync();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
