// Builds a hostile file tree for tests: odd names, special files, links that loop or dangle, a sparse file.
import { execFileSync } from "node:child_process";

export const LONG_NAME = "L".repeat(251) + ".bin"; // 255 bytes, the Linux maximum

export interface HostileTree {
  dir: string;
  /** Whether a character device could be made (needs root). */
  device: boolean;
  cleanup(): Promise<void>;
}

/** Makes the tree in a new temp dir. Names that are not valid UTF-8 are made by the shell (bytes). */
export async function makeHostileTree(): Promise<HostileTree> {
  const dir = await Deno.makeTempDir({ prefix: "ctagent-files-" });
  const w = (p: string, data: string | Uint8Array) =>
    typeof data === "string"
      ? Deno.writeTextFileSync(`${dir}/${p}`, data)
      : Deno.writeFileSync(`${dir}/${p}`, data);
  w("a.conf", "a=1\n");
  w("empty.conf", "");
  const bin = new Uint8Array(2 * 1024 * 1024 + 3);
  for (let i = 0; i < bin.length; i++) bin[i] = (i * 2654435761) >>> 24;
  w("bin.dat", bin);
  w("new\nline.conf", "newline\n");
  w("back\\slash.conf", "backslash\n");
  w(LONG_NAME, "long\n");
  Deno.mkdirSync(`${dir}/sub/deep`, { recursive: true });
  w("sub/deep/x.conf", "x\n");
  w("sub/y.conf", "y\n");
  Deno.symlinkSync("a.conf", `${dir}/link.conf`);
  Deno.symlinkSync("loop2", `${dir}/loop1`);
  Deno.symlinkSync("loop1", `${dir}/loop2`);
  Deno.symlinkSync("nowhere", `${dir}/dangling`);
  Deno.symlinkSync("sub", `${dir}/linkdir`);
  Deno.symlinkSync("..", `${dir}/sub/up`);
  Deno.symlinkSync(".", `${dir}/sub/self`);
  const sh = (script: string) => execFileSync("bash", ["-c", script], { cwd: dir });
  sh(`printf 'bad\\n' > "$(printf 'bad\\xff\\xfe.conf')"; mkfifo fifo; mkfifo sub/fifo2`);
  // A 64 MiB sparse file with a few bytes at the end (the 10 GB one is the benchmark's).
  sh(
    `truncate -s 64M sparse.img && printf 'end' | dd of=sparse.img bs=1 seek=$((64*1024*1024-3)) conv=notrunc status=none`,
  );
  // A bound unix socket file (closing a Deno listener removes its file, so python makes it).
  sh(`python3 -c "import socket; socket.socket(socket.AF_UNIX).bind('sock')"`);
  let device = false;
  try {
    sh("mknod null c 1 3");
    device = true;
  } catch { /* not root: no device node */ }
  return { dir, device, cleanup: () => Deno.remove(dir, { recursive: true }) };
}

/** `sha256sum` of every regular file (and link to one) under `dir`, by path (bytes → our path form). */
export function sha256sumAll(dir: string, toPath: (b: Uint8Array) => string): Map<string, string> {
  const out = execFileSync("bash", [
    "-c",
    `find . \\( -type f -o \\( -type l -xtype f \\) \\) -print0 2>/dev/null | xargs -0 -r sha256sum -z`,
  ], { cwd: dir, maxBuffer: 64 << 20 });
  const map = new Map<string, string>();
  let start = 0;
  for (let i = 0; i < out.length; i++) {
    if (out[i] !== 0) continue;
    const line = out.subarray(start, i);
    start = i + 1;
    const hash = new TextDecoder().decode(line.subarray(0, 64));
    const name = line.subarray(66 + 2); // "<hash>  ./name"
    map.set(`${dir}/${toPath(name)}`, hash);
  }
  return map;
}
