// A reader process for the concurrency tests: opens the state database in a loop, as `status`, `--once` or the page does.
// Usage: deno run -A open_loop.ts status|once|page DB_PATH STOP_FILE: loops until STOP_FILE exists, then prints
// {"opens":N,"failures":N,"errors":[...]}.
import { openDb } from "../../db/open.ts";
import { readStatus } from "../../agent/status.ts";
import { createApi } from "../../ui/api.ts";
import { COLLECTORS } from "../../agent/collectors/mod.ts";

const [kind, path, stop] = Deno.args;

/** What one open of `kind` reads before it closes again. */
const READS: Record<string, (o: Awaited<ReturnType<typeof openDb>>) => Promise<unknown>> = {
  status: (o) => readStatus(o.db),
  // --once reads the stored items and the last good DCR first; its writes wait for the state lock.
  once: (o) =>
    Promise.all([
      o.db.selectFrom("items").select("key").limit(100).execute(),
      o.db.selectFrom("config").select("id").where("valid", "=", 1).limit(1).execute(),
    ]),
  page: async (o) => {
    const api = createApi({ db: o.db, collectors: COLLECTORS });
    for (const url of ["/status", "/changes?limit=50", "/inventory/software?limit=50"]) {
      const res = await api.request(url);
      if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}: ${await res.text()}`);
    }
  },
};

const read = READS[kind];
if (!read || !path || !stop) {
  console.error("usage: open_loop.ts status|once|page DB_PATH STOP_FILE");
  Deno.exit(16);
}
// Never outlives a test that died without writing the stop file by long.
const deadline = Date.now() + 600_000;
const stopped = () => {
  if (Date.now() > deadline) return true;
  try {
    return Deno.statSync(stop).isFile;
  } catch {
    return false;
  }
};
let opens = 0;
const errors: string[] = [];
while (!stopped()) {
  opens++;
  try {
    const o = await openDb(path);
    try {
      await read(o);
    } finally {
      await o.close();
    }
  } catch (e) {
    errors.push((e as Error).message);
  }
}
console.log(
  JSON.stringify({ kind, opens, failures: errors.length, errors: [...new Set(errors)].slice(0, 5) }),
);
