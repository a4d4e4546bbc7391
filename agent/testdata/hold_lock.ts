// Takes the state lock of Deno.args[0] as a `--once`, says "held", and sleeps until killed.
import { tryLock } from "../state_lock.ts";

const r = tryLock(Deno.args[0], {
  pid: Deno.pid,
  mode: "once",
  since: Date.now(),
  version: "test",
  root: null,
  dcr: null,
  os: "linux",
  takesRequests: false,
});
console.log("lock" in r ? "held" : "busy");
setInterval(() => {}, 60_000);
