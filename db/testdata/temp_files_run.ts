// Runs temp_files.ts in a process of its own (which lists its own open files, /proc/self/fd) on a new database.
import assert from "node:assert/strict";

/** Writes `n` rows of `what` as a run does, in a new process; the rows the table holds and the temp files open. */
export async function writeInProcess(
  what: "outbox" | "changes",
  n: number,
): Promise<{ rows: number; tempFiles: string[] }> {
  const dir = await Deno.makeTempDir({ prefix: "ctagent_temp_files_" });
  try {
    const script = new URL("./temp_files.ts", import.meta.url).pathname;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-check", script, `${dir}/ctagent.db`, what, String(n)],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    return JSON.parse(new TextDecoder().decode(out.stdout));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
