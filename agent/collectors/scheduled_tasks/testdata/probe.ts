// Prints what the scheduled_tasks collector finds on this machine (or under --root DIR) as JSON, for tests that
// run it inside a private mount namespace.
import { liveHost } from "../../../host/mod.ts";
import { memoryLogger } from "../../../log.ts";
import { settingsSchema } from "../../../config/dcr.ts";
import collector from "../mod.ts";

const root = Deno.args[0] === "--root" ? Deno.args[1] : undefined;
const found = await collector.collect(settingsSchema("linux").parse({}), {
  host: liveHost(root ? { root } : {}),
  signal: new AbortController().signal,
  log: memoryLogger(),
});
console.log(JSON.stringify(found));
