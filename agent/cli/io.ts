// Where the command line's output goes (stdout, stderr) and what it reads of the environment; tests pass their own.
export interface Io {
  out(text: string): void;
  /**
   * One text given in pieces, written as they come (gathered into writes of up to OUT_CHUNK bytes), then a
   * newline (as `out` writes one text): a document of any size (`--once --json`) is never one string in memory.
   */
  outPieces(pieces: AsyncIterable<string>): Promise<void>;
  err(text: string): void;
  env(name: string): string | undefined;
}

const encoder = new TextEncoder();

/** Writes all of `bytes` to stdout (a write to a pipe may take only part of it). */
function writeOut(bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length;) done += Deno.stdout.writeSync(bytes.subarray(done));
}

/** Bytes gathered before a write: `--once --json` gives a piece per record, a system call apiece otherwise. */
export const OUT_CHUNK = 64 * 1024;

export const realIo: Io = {
  out: (t) => console.log(t),
  async outPieces(pieces) {
    const buf = new Uint8Array(OUT_CHUNK);
    let used = 0;
    const put = (text: string) => {
      // encodeInto writes at most 3 bytes a UTF-16 unit: a piece that may not fit is written on its own.
      if (used + text.length * 3 > buf.length) {
        writeOut(buf.subarray(0, used));
        used = 0;
        if (text.length * 3 > buf.length) return writeOut(encoder.encode(text));
      }
      used += encoder.encodeInto(text, buf.subarray(used)).written;
    };
    try {
      for await (const p of pieces) put(p);
      put("\n");
      writeOut(buf.subarray(0, used));
    } catch (e) {
      // The reader went away (`| head`): nothing more is written, and the run goes on, as after console.log.
      if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
    }
  },
  err: (t) => console.error(t),
  env: (k) => Deno.env.get(k),
};
