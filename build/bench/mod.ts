// `deno task bench`: every benchmark of the project, each with its peer measured in the same run.
import { existsSync } from "node:fs";

const BENCHES: [name: string, file: string, fn: string][] = [
  ["pipeline", "./pipeline.ts", "benchPipeline"],
  ["services", "./services.ts", "benchServices"],
  ["files", "./files.ts", "benchFiles"],
  ["ama", "./ama.ts", "benchAma"],
  ["ui", "./ui.ts", "benchUi"],
  ["patterns", "./patterns.ts", "benchPatterns"],
  ["startup", "./startup.ts", "benchStartup"],
];

const only = Deno.args.length ? new Set(Deno.args) : undefined;
const results: Record<string, unknown> = {};
for (const [name, file, fn] of BENCHES) {
  if (only && !only.has(name)) continue;
  if (!existsSync(new URL(file, import.meta.url))) continue;
  console.error(`bench: ${name} …`);
  const mod = await import(file);
  try {
    results[name] = await mod[fn]();
  } catch (e) {
    results[name] = { error: (e as Error).message };
  }
  console.log(`\n== ${name}`);
  for (const [k, v] of Object.entries(results[name] as Record<string, unknown>)) {
    console.log(`  ${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`);
  }
}
