// `deno task bench [NAME…] [--json]`: every benchmark of the project, each with its peer measured in the same
// run. With --json, one JSON object per bench on its own line ({"bench": NAME, …figures}).
import { existsSync } from "node:fs";

const BENCHES: [name: string, file: string, fn: string][] = [
  ["pipeline", "./pipeline.ts", "benchPipeline"],
  ["services", "./services.ts", "benchServices"],
  ["files", "./files.ts", "benchFiles"],
  ["ama", "./ama.ts", "benchAma"],
  ["ui", "./ui.ts", "benchUi"],
  ["patterns", "./patterns.ts", "benchPatterns"],
  ["startup", "./startup.ts", "benchStartup"],
  ["once", "./once.ts", "benchOnce"],
  ["soak", "./soak.ts", "benchSoak"],
  ["realtime", "./realtime.ts", "benchRealtime"],
];
/** Benches left out of a plain `deno task bench` (they take half an hour). */
const ON_REQUEST = new Set(["soak"]);

const json = Deno.args.includes("--json");
const names = Deno.args.filter((a) => a !== "--json");
const unknown = names.filter((n) => !BENCHES.some(([b]) => b === n));
if (unknown.length) {
  console.error(`bench: unknown ${unknown.join(", ")}; known: ${BENCHES.map(([b]) => b).join(", ")}`);
  Deno.exit(16);
}
const only = names.length ? new Set(names) : undefined;
for (const [name, file, fn] of BENCHES) {
  if (only ? !only.has(name) : ON_REQUEST.has(name)) continue;
  if (!existsSync(new URL(file, import.meta.url))) continue;
  console.error(`bench: ${name} …`);
  const mod = await import(file);
  let result: Record<string, unknown>;
  try {
    result = await mod[fn]();
  } catch (e) {
    result = { error: (e as Error).message };
  }
  if (json) {
    console.log(JSON.stringify({ bench: name, ...result }));
    continue;
  }
  console.log(`\n== ${name}`);
  for (const [k, v] of Object.entries(result)) {
    console.log(`  ${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`);
  }
}
