// Where the command line's output goes (stdout, stderr) and what it reads of the environment; tests pass their own.
export interface Io {
  out(text: string): void;
  err(text: string): void;
  env(name: string): string | undefined;
}

export const realIo: Io = {
  out: (t) => console.log(t),
  err: (t) => console.error(t),
  env: (k) => Deno.env.get(k),
};
