import assert from "node:assert/strict";
import { openDb, type OpenedDb } from "./open.ts";
import {
  type ChainedChange,
  changeCanonical,
  extendChain,
  GENESIS,
  linkHash,
  pruneChain,
  readHead,
  verifyChain,
} from "./chain.ts";
import { acknowledge, listAcks } from "./acks.ts";
import { indexChanges, insertChanges } from "./changes.ts";
import { verifyExport, writeExport } from "./chain_file.ts";

const DAY = 86_400_000;

/**
 * Writes `n` changes at `at` as one run would (extendChain + insert + indexChanges in one transaction); returns
 * their ids.
 */
async function addChanges(o: OpenedDb, n: number, at: number, key = "k"): Promise<number[]> {
  return await o.db.transaction().execute(async (trx) => {
    const rows = await extendChain(
      trx,
      "changes",
      Array.from({ length: n }, (_, i) => ({
        run_id: 1,
        at,
        collector: "files",
        key: `/etc/${key}${i}`,
        category: i % 2 ? "Modified" : "Added",
        fields_changed: '["Size"]',
        previous: i % 2 ? '{"Size":"1"}' : null,
        current: '{"Size":"2","Owner":"root"}',
      })),
    );
    await trx.insertInto("changes").values(rows).execute();
    indexChanges(o.raw, rows[0].id, rows[rows.length - 1].id);
    return rows.map((r) => r.id);
  });
}

async function world(): Promise<OpenedDb> {
  const o = await openDb(":memory:");
  await addChanges(o, 5, 10 * DAY, "a");
  await acknowledge(o.db, { changeId: 2, reviewer: "ana", note: "expected: package upgrade", at: 11 * DAY });
  await addChanges(o, 5, 12 * DAY, "b");
  await acknowledge(o.db, { group: "run:2", reviewer: "bo", at: 13 * DAY });
  return o;
}

Deno.test("linkHash() and the canonical text are the documented format: SHA-256 of the previous hex hash and the JSON", async () => {
  const c: ChainedChange = {
    id: 7,
    seq: 3,
    run_id: 2,
    at: 1700000000000,
    collector: "files",
    key: "/etc/a\uD800b", // a lone surrogate is stored (and hashed) as U+FFFD
    category: "Added",
    fields_changed: "[]",
    previous: null,
    current: '{"x":"1"}',
  };
  const text = changeCanonical(c);
  assert.equal(
    text,
    '["change",3,7,2,1700000000000,"files","/etc/a\uFFFDb","Added","[]",null,"{\\"x\\":\\"1\\"}"]',
  );
  const { createHash } = await import("node:crypto");
  assert.equal(linkHash(GENESIS, text), createHash("sha256").update(GENESIS + text).digest("hex"));
});

Deno.test("a change with an origin is a change+origin link: its origin is hashed, and an edited origin breaks the chain", async () => {
  const c: ChainedChange = {
    id: 7,
    seq: 3,
    run_id: 2,
    at: 1700000000000,
    collector: "files",
    key: "/etc/a",
    category: "Added",
    fields_changed: "[]",
    previous: null,
    current: "{}",
    origin: '{"ProcessId":"42"}',
  };
  assert.equal(
    changeCanonical(c),
    '["change+origin",3,7,2,1700000000000,"files","/etc/a","Added","[]",null,"{}","{\\"ProcessId\\":\\"42\\"}"]',
  );
  assert.equal(changeCanonical({ ...c, origin: null }), changeCanonical({ ...c, origin: undefined }));
  const o = await openDb(":memory:");
  await o.db.transaction().execute((trx) =>
    insertChanges(trx, o.raw, { id: 1, collector: "files", at: 1 }, [
      { key: "/a", category: "Added", fields_changed: "[]", previous: null, current: "{}", origin: null },
      { key: "/b", category: "Added", fields_changed: "[]", previous: null, current: "{}", origin: c.origin },
    ])
  );
  assert.equal((await verifyChain(o.raw)).ok, true);
  o.raw.exec(`UPDATE changes SET origin = '{"ProcessId":"1"}' WHERE key = '/b'`);
  const report = await verifyChain(o.raw);
  assert.equal(report.broken?.kind, "content changed");
  assert.match(report.broken!.message, /change 2/);
  await o.close();
});

Deno.test("extendChain() links changes and acks in one chain, in the order written, and verifyChain() passes", async () => {
  const o = await world();
  const seqs = [
    ...(await o.db.selectFrom("changes").select(["seq", "id"]).orderBy("id").execute()).map((r) =>
      `c${r.id}:${r.seq}`
    ),
    ...(await o.db.selectFrom("acks").select(["seq", "id"]).orderBy("id").execute()).map((r) =>
      `a${r.id}:${r.seq}`
    ),
  ];
  assert.deepEqual(seqs, [
    "c1:1",
    "c2:2",
    "c3:3",
    "c4:4",
    "c5:5",
    "c6:7",
    "c7:8",
    "c8:9",
    "c9:10",
    "c10:11",
    "a1:6",
    "a2:12",
  ]);
  const r = verifyChain(o.raw);
  assert.equal(r.ok, true, JSON.stringify(r.broken));
  assert.equal(r.rows, 12);
  assert.deepEqual(await readHead(o.db), r.last);
  assert.deepEqual((await listAcks(o.db, { changeIds: [2] })).map((a) => [a.reviewer, a.note]), [[
    "ana",
    "expected: package upgrade",
  ]]);
  assert.deepEqual((await listAcks(o.db)).map((a) => a.group), ["run:2", null]);
  await o.close();
});

/** Each tampering, and what verify must say about which row. */
const TAMPER: [string, string, { table?: string; id?: number }][] = [
  ["UPDATE changes SET run_id = 9 WHERE id = 3", "content changed", { table: "changes", id: 3 }],
  ["UPDATE changes SET at = at + 1 WHERE id = 3", "content changed", { table: "changes", id: 3 }],
  ["UPDATE changes SET collector = 'software' WHERE id = 3", "content changed", { table: "changes", id: 3 }],
  ["UPDATE changes SET key = '/etc/other' WHERE id = 3", "content changed", { table: "changes", id: 3 }],
  ["UPDATE changes SET category = 'Removed' WHERE id = 3", "content changed", { table: "changes", id: 3 }],
  ["UPDATE changes SET fields_changed = '[]' WHERE id = 3", "content changed", { table: "changes", id: 3 }],
  ["UPDATE changes SET previous = '{}' WHERE id = 3", "content changed", { table: "changes", id: 3 }],
  ["UPDATE changes SET current = NULL WHERE id = 3", "content changed", { table: "changes", id: 3 }],
  ["UPDATE changes SET hash = '" + "f".repeat(64) + "' WHERE id = 3", "hash changed", {
    table: "changes",
    id: 3,
  }],
  ["UPDATE changes SET seq = 100 WHERE id = 3", "order broken", { table: "changes", id: 3 }],
  ["UPDATE changes SET seq = NULL WHERE id = 3", "not linked", { table: "changes", id: 3 }],
  ["UPDATE changes SET id = 100 WHERE id = 3", "order broken", { table: "changes", id: 100 }],
  ["DELETE FROM changes WHERE id = 3", "row missing", { table: "changes", id: 4 }],
  ["DELETE FROM changes WHERE id = 10", "row missing", {}],
  // Two rows reordered: their positions swapped, or their ids.
  [
    "UPDATE changes SET seq = -1 WHERE id = 3; UPDATE changes SET seq = 3 WHERE id = 4; UPDATE changes SET seq = 4 WHERE seq = -1",
    "order broken",
    { table: "changes", id: 4 },
  ],
  [
    "UPDATE changes SET id = -3 WHERE id = 3; UPDATE changes SET id = 3 WHERE id = 4; UPDATE changes SET id = 4 WHERE id = -3",
    "order broken",
    { table: "changes", id: 4 },
  ],
  ["UPDATE acks SET note = 'nothing to see' WHERE id = 1", "content changed", { table: "acks", id: 1 }],
  ["UPDATE acks SET reviewer = 'mallory' WHERE id = 1", "content changed", { table: "acks", id: 1 }],
  ["UPDATE acks SET change_id = 3 WHERE id = 1", "content changed", { table: "acks", id: 1 }],
  ["DELETE FROM acks WHERE id = 1", "row missing", { table: "changes", id: 6 }],
  ["UPDATE state SET value = 'garbage' WHERE key = 'chain.head'", "head changed", {}],
  [
    'UPDATE state SET value = \'{"seq":12,"hash":"' + "0".repeat(64) + "\"}' WHERE key = 'chain.head'",
    "head changed",
    {},
  ],
];

Deno.test("verifyChain() names the first broken link after any field of a change or ack is edited, a row deleted or two reordered", async () => {
  for (const [sql, kind, where] of TAMPER) {
    const o = await world();
    o.raw.exec(sql);
    const r = verifyChain(o.raw);
    assert.equal(r.ok, false, sql);
    assert.equal(r.broken!.kind, kind, `${sql}: ${r.broken!.message}`);
    if (where.table) assert.equal(r.broken!.table, where.table, `${sql}: ${r.broken!.message}`);
    if (where.id) assert.equal(r.broken!.id, where.id, `${sql}: ${r.broken!.message}`);
    await o.close();
  }
});

Deno.test("a new link after a tampered head does not hide the tampering, and never takes a used position", async () => {
  const o = await world();
  o.raw.exec(`UPDATE state SET value = '{"seq":3,"hash":"${"0".repeat(64)}"}' WHERE key = 'chain.head'`);
  await addChanges(o, 1, 14 * DAY, "c"); // takes seq 13, after the last row, not 4
  assert.equal((await readHead(o.db)).seq, 13);
  assert.equal(verifyChain(o.raw).ok, true, "the head names the last link again");
  o.raw.exec("DELETE FROM changes WHERE seq = 13");
  assert.equal(verifyChain(o.raw).broken?.kind, "row missing");
  o.raw.exec("UPDATE state SET value = 'not a link' WHERE key = 'chain.head'");
  await addChanges(o, 1, 15 * DAY, "e"); // an unreadable head stops no run: it goes on after the last row
  assert.equal((await readHead(o.db)).seq, 13);
  await o.close();
});

Deno.test("pruneChain() deletes a verified prefix, keeps a checkpoint, and what stays verifies", async () => {
  const o = await world();
  // Prune what was written before day 12: the first 5 changes and the first ack.
  const pruned = await o.db.transaction().execute((trx) => pruneChain(trx, o.raw, 12 * DAY, 20 * DAY));
  assert.deepEqual(pruned, { changes: 5, acks: 1 });
  const r = verifyChain(o.raw);
  assert.equal(r.ok, true, JSON.stringify(r.broken));
  assert.deepEqual(r.from.seq, 6);
  assert.equal(r.checkpoint!.pruned, 6);
  assert.equal(r.rows, 6);
  // Again, later: a second checkpoint on top of the first.
  await addChanges(o, 2, 30 * DAY, "d");
  const again = await o.db.transaction().execute((trx) => pruneChain(trx, o.raw, 25 * DAY, 40 * DAY));
  assert.deepEqual(again, { changes: 5, acks: 1 });
  const r2 = verifyChain(o.raw);
  assert.equal(r2.ok, true, JSON.stringify(r2.broken));
  assert.equal(r2.checkpoint!.pruned, 12);
  assert.equal(r2.rows, 2);
  // Tampering with what is left still shows.
  o.raw.exec("UPDATE changes SET key = 'x' WHERE seq = 14");
  assert.equal(verifyChain(o.raw).broken?.kind, "content changed");
  await o.close();
});

Deno.test("pruneChain() keeps a prefix with a broken link as evidence and prunes nothing", async () => {
  const o = await world();
  o.raw.exec("UPDATE changes SET key = 'hidden' WHERE id = 2");
  const pruned = await o.db.transaction().execute((trx) => pruneChain(trx, o.raw, 12 * DAY, 20 * DAY));
  assert.equal(pruned.changes, 0);
  assert.equal(pruned.broken?.id, 2);
  assert.equal((await o.db.selectFrom("changes").select("id").execute()).length, 10);
  await o.close();
});

Deno.test("acknowledge() refuses what names no change, an unknown change, and no reviewer", async () => {
  const o = await world();
  await assert.rejects(() => acknowledge(o.db, { changeId: 99, reviewer: "x" }), /change 99 does not exist/);
  await assert.rejects(() => acknowledge(o.db, { reviewer: "x" } as never), /either a changeId or a group/);
  await assert.rejects(
    () => acknowledge(o.db, { changeId: 1, group: "g", reviewer: "x" } as never),
    /either a changeId or a group/,
  );
  await assert.rejects(() => acknowledge(o.db, { changeId: 1, reviewer: " " }), /reviewer/);
  assert.equal(verifyChain(o.raw).rows, 12, "nothing was linked");
  await o.close();
});

function exportOf(o: OpenedDb, since?: number): Uint8Array {
  let text = "";
  writeExport(o.raw, (t) => (text += t), { computer: "host1", database: "test.db", now: 50 * DAY, since });
  return new TextEncoder().encode(text);
}

Deno.test("an export verifies offline, alone or from --since, and fails after a one-byte edit anywhere in it", async () => {
  const o = await openDb(":memory:");
  // Multi-byte characters and JSON escapes in the file.
  await addChanges(o, 3, 10 * DAY, "naïve ✓ \u{1F600} ");
  await acknowledge(o.db, { changeId: 2, reviewer: "ana", note: 'quote " and \\ and \n', at: 12 * DAY });
  const whole = exportOf(o);
  const r = verifyExport(whole);
  assert.equal(r.ok, true, JSON.stringify(r.broken));
  assert.equal(r.rows, 4);
  const part = verifyExport(exportOf(o, 11 * DAY));
  assert.equal(part.ok, true, JSON.stringify(part.broken));
  assert.equal(part.rows, 1);
  assert.equal(part.header!.from.seq, 3);
  let failed = 0;
  for (let i = 0; i < whole.length; i++) {
    for (const flip of [0x01, 0x20, 0x80]) {
      const edited = whole.slice();
      edited[i] ^= flip;
      if (!verifyExport(edited).ok) failed++;
      else {assert.fail(
          `byte ${i} ^ ${flip} (${JSON.stringify(String.fromCharCode(whole[i]))}) went unnoticed`,
        );}
    }
  }
  assert.equal(failed, whole.length * 3);
  // Lines removed or swapped.
  const lines = new TextDecoder().decode(whole).split("\n");
  const without = [...lines.slice(0, 2), ...lines.slice(3)].join("\n");
  assert.match(verifyExport(new TextEncoder().encode(without)).broken!.message, /missing/);
  const swapped = [lines[0], lines[2], lines[1], ...lines.slice(3)].join("\n");
  assert.match(verifyExport(new TextEncoder().encode(swapped)).broken!.message, /reordered|missing/);
  assert.match(verifyExport(whole.slice(0, whole.length - 10)).broken!.message, /line break|cut short/);
  await o.close();
});
