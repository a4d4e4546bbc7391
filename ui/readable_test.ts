import assert from "node:assert/strict";
import { openDb, type OpenedDb } from "../db/open.ts";
import { insertRun } from "../db/runs.ts";
import { type ChangeRow, changes, countChanges, histogram, type QuietSets } from "./queries.ts";
import { commonFolder, lineSummaries, MASS, massRuns, quietSets } from "./readable.ts";
import files from "../agent/collectors/files/spec.ts";
import software from "../agent/collectors/software/spec.ts";
import { timestampOnly } from "../agent/collectors/spec.ts";
import { contentWriter } from "../db/contents.ts";
import { insertChanges } from "../db/changes.ts";
import { createHash } from "node:crypto";

const HOUR = 3600_000;
const SPECS = [files, software];

/** A run of `collector` at `at` that stored `changes` ([key, category, fields changed]). */
async function run(
  o: OpenedDb,
  collector: string,
  at: number,
  changes: [string, string, string[]][],
  data: (key: string, side: "previous" | "current") => Record<string, unknown> = (k) => ({ key: k }),
): Promise<number> {
  const count = (c: string) => changes.filter((x) => x[1] === c).length;
  const id = await insertRun(o.db, {
    collector,
    started_at: at - 10,
    finished_at: at,
    status: "ok",
    counts: JSON.stringify({ added: count("Added"), removed: count("Removed"), modified: count("Modified") }),
    error: null,
    warnings: "[]",
  });
  // Through the changes' writer, which also keeps the page's counts and key index (db/changes.ts).
  await o.db.transaction().execute((trx) =>
    insertChanges(
      trx,
      o.raw,
      { id, collector, at },
      changes.map(([key, category, fields]) => ({
        key,
        category,
        fields_changed: JSON.stringify(fields),
        previous: category === "Added" ? null : JSON.stringify(data(key, "previous")),
        current: category === "Removed" ? null : JSON.stringify(data(key, "current")),
      })),
    )
  );
  return id;
}

/** A little random generator, seeded: the same data every run. */
function random(seed: number) {
  return () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
}

Deno.test("timestampOnly() follows the specs: DateModified alone or with volatile fields, never with content", () => {
  assert.equal(timestampOnly(files, ["DateModified"]), true);
  assert.equal(timestampOnly(files, ["DateCreated", "DateModified", "Inode"]), true);
  assert.equal(timestampOnly(files, ["DateModified", "FileContentChecksum"]), false);
  assert.equal(timestampOnly(files, []), false);
  // A reinstall moves InstalledAt alone: the software spec gives it a format, not a timestamp.
  assert.equal(timestampOnly(software, ["InstalledAt"]), false);
});

Deno.test("countChanges() and histogram() leave timestamp-only changes out, or count only them, exactly", async () => {
  const o = await openDb(":memory:");
  try {
    const now = Date.UTC(2026, 10, 22, 12, 30);
    const rnd = random(7);
    const sets: [string, string[]][] = [
      ["files", ["DateModified"]],
      ["files", ["DateCreated", "DateModified"]],
      ["files", ["DateModified", "FileContentChecksum"]],
      ["files", ["Mode"]],
      ["software", ["CurrentVersion"]],
      ["software", ["InstalledAt"]],
    ];
    for (let i = 0; i < 300; i++) {
      const [collector, fields] = sets[Math.floor(rnd() * sets.length)];
      const category = rnd() < 0.7 ? "Modified" : rnd() < 0.5 ? "Added" : "Removed";
      await run(o, collector, now - Math.floor(rnd() * 48 * HOUR), [[
        `/k${i}`,
        category,
        category === "Modified" ? fields : [],
      ]]);
    }
    const quiet: QuietSets = await quietSets(o.db, SPECS);
    assert.deepEqual({ ...quiet }, { files: ['["DateCreated","DateModified"]', '["DateModified"]'] });
    const all = o.raw.prepare("select at, collector, category, fields_changed from changes").all() as {
      at: number;
      collector: string;
      category: string;
      fields_changed: string;
    }[];
    const isQuiet = (r: typeof all[number]) =>
      r.category === "Modified" && (quiet[r.collector] ?? []).includes(r.fields_changed);
    const ranges = [
      {},
      { since: now - 24 * HOUR - 1234 },
      { since: now - 30 * HOUR + 17, until: now - 2 * HOUR - 5 },
      { since: now - 40 * 60_000, until: now - 20 * 60_000 },
      { since: now - 24 * HOUR, collectors: ["files"], categories: ["Modified"] },
      { since: now - 24 * HOUR, collectors: ["files"], categories: ["Added"] },
    ];
    for (
      const r of ranges as { since?: number; until?: number; collectors?: string[]; categories?: string[] }[]
    ) {
      const inRange = all.filter((x) =>
        x.at >= (r.since ?? 0) && x.at < (r.until ?? Infinity) &&
        (!r.collectors || r.collectors.includes(x.collector)) &&
        (!r.categories || r.categories.includes(x.category))
      );
      assert.equal(
        await countChanges(o.db, { ...r, quiet: { sets: quiet } }),
        inRange.filter((x) => !isQuiet(x)).length,
      );
      assert.equal(
        await countChanges(o.db, { ...r, quiet: { sets: quiet, only: true } }),
        inRange.filter(isQuiet).length,
        JSON.stringify(r),
      );
    }
    const since = now - 48 * HOUR;
    for (const bucket of [6 * HOUR, 10 * 60_000]) {
      const h = await histogram(o.db, { since, until: now, bucket, quiet: { sets: quiet } });
      const modified = h.points.filter((p) => p.collector === "files" && p.category === "Modified")
        .reduce((n, p) => n + p.n, 0);
      const want = all.filter((x) =>
        x.collector === "files" && x.category === "Modified" && !isQuiet(x) && x.at >= h.since && x.at < now
      ).length;
      assert.equal(modified, want, `bucket ${bucket}`);
    }
    // The list leaves them out too, and its total agrees.
    const page = await changes(o.db, { quiet: { sets: quiet }, limit: 500 });
    assert.equal(page.rows.length, all.filter((x) => !isQuiet(x)).length);
    assert.ok(
      page.rows.every((r) =>
        !(r.category === "Modified" && r.fields_changed.every((f) => f.startsWith("Date")))
      ),
    );
  } finally {
    await o.close();
  }
});

Deno.test("massRuns() folds a run's mass change into one row; paging through the list loses and repeats none", async () => {
  const o = await openDb(":memory:");
  try {
    const now = Date.UTC(2026, 10, 22, 12, 30);
    const keys = (n: number, dir: string) => Array.from({ length: n }, (_, i) => `${dir}/site-${i}.conf`);
    await run(o, "files", now - 5 * HOUR, [["/etc/hosts", "Modified", ["FileContentChecksum"]]]);
    const mass = await run(
      o,
      "files",
      now - 4 * HOUR,
      [
        ...keys(100, "/etc/nginx/conf.d").map((k): [string, string, string[]] => [k, "Modified", ["Size"]]),
        ["/etc/nginx/conf.d/new.conf", "Added", []],
      ],
    );
    // A small run stays as it is.
    await run(o, "files", now - 3 * HOUR, keys(MASS - 1, "/srv").map((k) => [k, "Added", []]));
    const other = await run(o, "software", now - 2 * HOUR, keys(40, "pkg").map((k) => [k, "Removed", []]));
    const q = { since: now - 24 * HOUR };
    const folded = await massRuns(o.db, q, (c) => c === "files");
    assert.deepEqual(folded.map((f) => [f.run, f.n, f.categories, f.under]), [
      [other, 40, { Removed: 40 }, null],
      [mass, 101, { Modified: 100, Added: 1 }, "/etc/nginx/conf.d"],
    ]);
    const all = 1 + 101 + (MASS - 1) + 40;
    const seen: number[] = [];
    let total = -1;
    for (let offset = 0; offset < all; offset += 7) {
      const p = await changes(o.db, { ...q, folded, offset, limit: 7 });
      total = p.total;
      seen.push(...p.rows.map((r) => r.id));
    }
    assert.equal(total, all - 100 - 39);
    assert.equal(seen.length, total);
    assert.equal(new Set(seen).size, seen.length, "no row twice");
    assert.ok(folded.every((f) => seen.includes(f.rep)), "each folded run shows its newest change");
    // The filters apply to the fold: only the Added ones of that run are no mass change.
    assert.deepEqual(await massRuns(o.db, { ...q, categories: ["Added"] }, () => true), []);
    // One run's changes listed alone (expanding the fold).
    const { id, collector, finished_at } = await o.db.selectFrom("runs").where("id", "=", mass)
      .selectAll().executeTakeFirstOrThrow();
    const inRun = await changes(o.db, { run: { id, collector, at: finished_at }, limit: 500 });
    assert.equal(inRun.rows.length, 101);
    assert.equal(inRun.total, 101);
  } finally {
    await o.close();
  }
});

Deno.test("commonFolder() is the deepest folder of both paths, Linux and Windows", () => {
  assert.equal(commonFolder("/etc/nginx/conf.d/a.conf", "/etc/nginx/conf.d/z.conf"), "/etc/nginx/conf.d");
  assert.equal(commonFolder("/etc/a.conf", "/etc/ab.conf"), "/etc");
  assert.equal(commonFolder("/etc/x/1", "/usr/y/2"), "/");
  assert.equal(commonFolder("/etc/hosts", "/etc/hosts"), "/etc");
  assert.equal(commonFolder("C:\\Windows\\a.ini", "C:\\Windows\\b.ini"), "C:\\Windows");
  assert.equal(commonFolder("HKLM\\SOFTWARE\\X\\\\A", "HKLM\\SOFTWARE\\X\\\\B"), "HKLM\\SOFTWARE\\X");
  assert.equal(commonFolder("pkg:a", "pkg:b"), null);
});

Deno.test("lineSummaries() says a captured text change by its lines, and nothing of what may not be shown", async () => {
  const o = await openDb(":memory:");
  try {
    const texts = ["# app\nworkers = 8\n", "# app\nworkers = 16\n", "secret = 1\n", "secret = 2\n"];
    const sum = (t: string) => createHash("sha256").update(t).digest("hex");
    const w = contentWriter(o.raw, 1);
    for (const t of texts) w.store({ checksum: sum(t), text: t, size: t.length });
    const row = (key: string, a: string, b: string): ChangeRow => ({
      id: 1,
      run_id: 1,
      at: 1,
      collector: "files",
      key,
      category: "Modified",
      fields_changed: ["FileContentChecksum"],
      previous: { FileContentChecksum: sum(a) },
      current: { FileContentChecksum: sum(b).toUpperCase() },
      origin: null,
    });
    const rows = [row("/etc/app.conf", texts[0], texts[1]), row("/etc/secret.key", texts[2], texts[3])];
    const gate = { withheld: (path: string) => path.endsWith(".key") ? "a secret's name" : undefined };
    await lineSummaries(o.db, { name: "files", checksumField: "FileContentChecksum" }, gate).add(rows);
    assert.deepEqual(rows[0].lines, {
      added: 1,
      removed: 1,
      sample: { op: "~", before: "workers = ", old: "8", new: "16", after: "" },
    });
    assert.equal(rows[1].lines, undefined);
    // A version not captured: no summary (the field diff stays).
    const lost = [row("/etc/app.conf", texts[0], "never captured\n")];
    await lineSummaries(o.db, { name: "files", checksumField: "FileContentChecksum" }, gate).add(lost);
    assert.equal(lost[0].lines, undefined);
  } finally {
    await o.close();
  }
});
