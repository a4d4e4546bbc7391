// A stand-in for main.ts in the bundling tests: migrations, an npm server and the version stamp, one file.
import { Hono } from "hono";
import { openDb } from "../../db/open.ts";
import { versionLine } from "../../agent/version.ts";

const [dataDir] = Deno.args;
if (Deno.args.includes("--version")) {
  console.log(versionLine());
  Deno.exit(0);
}
const opened = await openDb(`${dataDir}/state.db`);
const tables = opened.raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
const app = new Hono().get("/", (c) => c.json({ tables: tables.map((t) => t.name) }));
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
console.log(JSON.stringify(await res.json()));
await server.shutdown();
await opened.close();
