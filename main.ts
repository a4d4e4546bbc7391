// ctagent's entry point: parse the command line, run, exit with the code a script can branch on.
import { main } from "./agent/cli.ts";
import { EXIT } from "./agent/exit_codes.ts";

if (import.meta.main) {
  // Whatever escapes is a bug, and still exits with a documented code: a script must never read it as a change
  // (exit 1 is "added").
  const internal = (e: unknown): never => {
    console.error(`ctagent: internal error: ${(e as Error)?.stack ?? e}`);
    Deno.exit(EXIT.INTERNAL);
  };
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    internal(e.reason);
  });
  globalThis.addEventListener("error", (e) => {
    e.preventDefault();
    internal(e.error);
  });
  Deno.exit(await main(Deno.args).catch(internal));
}
