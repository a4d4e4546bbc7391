// Opens the database at Deno.args[0] at the epoch ms Deno.args[1], prints how many migrations it has run.
import { openDb } from "../open.ts";

await new Promise((r) => setTimeout(r, Number(Deno.args[1]) - Date.now()));
const o = await openDb(Deno.args[0]);
console.log((o.raw.prepare("SELECT count(*) AS n FROM kysely_migration").get() as { n: number }).n);
await o.close();
