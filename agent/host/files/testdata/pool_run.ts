// Test child: hashes every file of a directory through a hash pool whose workers come from a given module,
// and prints the results (checksum or error, by file name) and the pool's fallback as JSON.
import { createHashPool } from "../hash.ts";
import * as libc from "../libc_posix.ts";

const [dir, workerUrl] = Deno.args;
const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
const pool = createHashPool({
  workers: 2,
  batchCount: 3,
  maxInflight: 8,
  inline: { files: 0, bytes: 0 },
  workerUrl,
});
const out: Promise<[string, string]>[] = [];
try {
  for (const name of names) {
    await pool.room();
    const fd = libc.openAt(libc.AT_FDCWD, libc.cstr(`${dir}/${name}`), libc.O_RDONLY);
    out.push(
      pool.submit({ fd, capture: 0, size: 1, limit: 2 ** 40 }).then((
        r,
      ) => [name, r.checksum ?? `error: ${r.error}`]),
    );
  }
  await pool.drain();
} finally {
  await pool.close();
}
console.log(
  JSON.stringify({ results: Object.fromEntries(await Promise.all(out)), fallback: pool.fallback ?? null }),
);
