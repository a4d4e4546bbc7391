// A reader process for the concurrency tests: opens the state database in a loop, as `status`, `--once` or the page does.
// Usage: deno run -A open_loop.ts status|once|page DB_PATH SECONDS; prints {"opens":N,"failures":N,"errors":[...]}.
import { openDb } from "../../db/open.ts";
import { readStatus } from "../../agent/status.ts";
import { createApi } from "../../ui/api.ts";

const [kind, path, seconds] = Deno.args;

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
    const api = createApi({ db: o.db });
    for (const url of ["/status", "/changes?limit=50", "/inventory/software?limit=50"]) {
      const res = await api.request(url);
      if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}: ${await res.text()}`);
    }
  },
};

const read = READS[kind];
if (!read || !path || !seconds) {
  console.error("usage: open_loop.ts status|once|page DB_PATH SECONDS");
  Deno.exit(16);
}
const until = Date.now() + Number(seconds) * 1000;
let opens = 0;
const errors: string[] = [];
while (Date.now() < until) {
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
