// Where the command line's output goes (stdout, stderr) and what it reads of the environment; tests pass their own.
export interface Io {
  out(text: string): void;
  /**
   * One text given in pieces, each written as it comes, then a newline (as `out` writes one text): a document
   * of any size (`--once --json`) is never one string in memory.
   */
  outPieces(pieces: AsyncIterable<string>): Promise<void>;
  err(text: string): void;
  env(name: string): string | undefined;
}

const encoder = new TextEncoder();

/** Writes all of `text` to stdout (a write to a pipe may take only part of it). */
function writeOut(text: string): void {
  const bytes = encoder.encode(text);
  for (let done = 0; done < bytes.length;) done += Deno.stdout.writeSync(bytes.subarray(done));
}

export const realIo: Io = {
  out: (t) => console.log(t),
  async outPieces(pieces) {
    try {
      for await (const p of pieces) writeOut(p);
      writeOut("\n");
    } catch (e) {
      // The reader went away (`| head`): nothing more is written, and the run goes on, as after console.log.
      if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
    }
  },
  err: (t) => console.error(t),
  env: (k) => Deno.env.get(k),
};
