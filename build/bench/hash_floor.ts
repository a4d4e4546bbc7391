// The raw hashing floor of the files bench: SHA-256 of every listed file with node:crypto, synchronous reads
// into one reused buffer, no bookkeeping. One process hashes every Nth file of a NUL-separated list.
// Usage: deno run -A build/bench/hash_floor.ts LIST K N   (hashes files K, K+N, K+2N, …; prints one JSON line)
import { createHash } from "node:crypto";
import { closeSync, openSync, readFileSync, readSync } from "node:fs";

const [list, k, n] = [Deno.args[0], Number(Deno.args[1]), Number(Deno.args[2])];
const names = readFileSync(list, "utf8").split("\0");
const buf = new Uint8Array(1 << 20);
let files = 0, bytes = 0, failed = 0;
let last = "";
for (let i = k; i < names.length; i += n) {
  if (!names[i]) continue;
  let fd: number;
  try {
    fd = openSync(names[i], "r");
  } catch {
    failed++;
    continue;
  }
  try {
    const h = createHash("sha256");
    for (let r; (r = readSync(fd, buf, 0, buf.length, null)) > 0;) {
      h.update(buf.subarray(0, r));
      bytes += r;
    }
    last = h.digest("hex");
    files++;
  } catch {
    failed++;
  } finally {
    closeSync(fd);
  }
}
console.log(JSON.stringify({ files, bytes, failed, last }));
