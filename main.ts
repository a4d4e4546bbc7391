// ctagent's entry point: parse the command line, run, exit with the code a script can branch on.
import { main } from "./agent/cli.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
