// The concurrent-readers scenario: a big baseline and rescans in one process while 4 others open the database in a loop.
import { join } from "node:path";
import { onlyDcr } from "../helpers.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const LOOP = new URL("./open_loop.ts", import.meta.url).pathname;
/** `status` twice (scripts poll it), a `--once`-like open, the page. */
const READERS = ["status", "once", "page", "status"];

export interface ReaderResult {
  kind: string;
  opens: number;
  failures: number;
  errors: string[];
}

export interface ReadersOutcome {
  readers: ReaderResult[];
  /** Writer runs (`--once`) and how many exited with something other than 0-7 (a change mask). */
  writes: number;
  writeFailures: string[];
}

/** A dpkg status file of `n` packages, the ones whose index is a multiple of `step` at `version`. */
function statusFile(n: number, step: number, version: string): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      `Package: pkg${i}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${
        i % step ? "1" : version
      }\nDescription: p\n\n`,
    );
  }
  return out.join("");
}

/**
 * Runs `--once` over `packages` packages in a loop (a baseline, then rescans, each with some packages at a new
 * version) for at least `seconds` and `rounds` runs, while 4 reader processes open the database. Nothing
 * exists when both start, so the first opens also race to create and migrate the database.
 */
export async function concurrentReaders(
  dir: string,
  opts: { seconds: number; rounds: number; packages: number },
): Promise<ReadersOutcome> {
  const { seconds, rounds, packages } = opts;
  const root = join(dir, "root");
  await Deno.mkdir(join(root, "var/lib/dpkg"), { recursive: true });
  await Deno.writeTextFile(join(dir, "dcr.json"), onlyDcr(["software"]));
  const status = join(root, "var/lib/dpkg/status");
  await Deno.writeTextFile(status, statusFile(packages, 1, "1"));
  const data = join(dir, "data");
  const db = join(data, "ctagent.db");
  await Deno.mkdir(data);

  const readers = READERS.map((kind) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", LOOP, kind, db, join(dir, "stop")],
      stdout: "piped",
      stderr: "inherit",
    }).output()
  );
  const until = Date.now() + seconds * 1000;
  let writes = 0;
  const writeFailures: string[] = [];
  for (let round = 1; Date.now() < until || round <= rounds; round++) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        MAIN,
        "--once",
        "--no-ama",
        "--root",
        root,
        "--dcr",
        join(dir, "dcr.json"),
        "--data-dir",
        data,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    writes++;
    if (out.code > 7) {
      writeFailures.push(`exit ${out.code}: ${new TextDecoder().decode(out.stderr).slice(0, 500)}`);
    }
    await Deno.writeTextFile(status, statusFile(packages, 7 + (round % 5), String(round)));
  }
  await Deno.writeTextFile(join(dir, "stop"), "");
  const results: ReaderResult[] = [];
  for (const r of await Promise.all(readers)) {
    const text = new TextDecoder().decode(r.stdout).trim();
    results.push(text ? JSON.parse(text) : { kind: "?", opens: 0, failures: 1, errors: [`exit ${r.code}`] });
  }
  return { readers: results, writes, writeFailures };
}
