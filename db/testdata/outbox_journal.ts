// Appends Deno.args[1] records to the outbox of a new database at Deno.args[0] with outboxBatchAppender, in one
// transaction as a baseline does, and prints how many rows it holds and which temp files (etilqs_*, the name
// SQLite gives them) this process had open before the commit.
import { readdirSync, readlinkSync } from "node:fs";
import { openDb } from "../open.ts";
import { outboxBatchAppender } from "../outbox.ts";

const opened = await openDb(Deno.args[0]);
const b = outboxBatchAppender(opened.raw);
opened.raw.exec("BEGIN");
for (let i = 0; i < Number(Deno.args[1]); i++) {
  b.append(
    "CONFIG_DATA_BLOB_V2",
    JSON.stringify({ Seq: i, Pad: "x".repeat(400 + i % 300) }),
    `{"RecordId":"${i}"}`,
    i,
  );
}
b.flush();
const tempFiles = readdirSync("/proc/self/fd").map((fd) => {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return ""; // closed meanwhile (the directory's own fd)
  }
}).filter((target) => target.includes("etilqs"));
opened.raw.exec("COMMIT");
const rows = (opened.raw.prepare("SELECT count(*) AS n FROM outbox").get() as { n: number }).n;
console.log(JSON.stringify({ rows, tempFiles }));
await opened.close();
