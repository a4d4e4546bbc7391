// Writes Deno.args[2] outbox records (outboxBatchAppender) or changes (insertChanges) into a new database at
// Deno.args[0] (Deno.args[1]: "outbox" or "changes"), in one transaction as a run does, and prints how many rows
// the table holds and which temp files (etilqs_*, the name SQLite gives them) this process had open before the
// commit: a statement journal that spilled is one.
import { readdirSync, readlinkSync } from "node:fs";
import { openDb } from "../open.ts";
import { outboxBatchAppender } from "../outbox.ts";
import { insertChanges } from "../changes.ts";

const [path, what, count] = Deno.args;
const n = Number(count);
const opened = await openDb(path);
let tempFiles: string[] = [];
const openTemps = () =>
  readdirSync("/proc/self/fd").map((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return ""; // closed meanwhile (the directory's own fd)
    }
  }).filter((target) => target.includes("etilqs"));
if (what === "outbox") {
  const b = outboxBatchAppender(opened.raw);
  opened.raw.exec("BEGIN");
  for (let i = 0; i < n; i++) {
    b.append(
      "CONFIG_DATA_BLOB_V2",
      JSON.stringify({ Seq: i, Pad: "x".repeat(400 + i % 300) }),
      `{"RecordId":"${i}"}`,
      i,
    );
  }
  b.flush();
  tempFiles = openTemps();
  opened.raw.exec("COMMIT");
} else {
  await opened.db.transaction().execute(async (trx) => {
    const changes = Array.from({ length: n }, (_, i) => ({
      key: `/usr/share/doc/package-${i % 977}/file-${i}.txt`,
      category: i % 3 ? "Modified" : "Added",
      fields_changed: i % 3 ? '["Size"]' : "[]",
      previous: i % 3 ? '{"Size":1}' : null,
      current: '{"Size":2}',
    }));
    await insertChanges(trx, opened.raw, { id: 1, collector: "files", at: 1_796_500_000_000 }, changes);
    tempFiles = openTemps();
  });
}
const table = what === "outbox" ? "outbox" : "changes";
const rows = (opened.raw.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
console.log(JSON.stringify({ rows, tempFiles }));
await opened.close();
