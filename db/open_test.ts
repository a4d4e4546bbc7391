import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openDb } from "./open.ts";
import { migrations } from "./migrations/mod.ts";

Deno.test("openDb() creates every table and reopens an existing file without re-migrating", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/state.db`;
  const first = await openDb(path);
  await first.db.insertInto("state").values({ key: "k", value: "v" }).execute();
  // items is a view since migration 010.
  const tables = first.raw.prepare(
    "select name from sqlite_master where type in ('table', 'view') order by name",
  )
    .all()
    .map((r) => (r as { name: string }).name);
  for (const t of ["changes", "config", "items", "outbox", "runs", "state"]) assert.ok(tables.includes(t), t);
  assert.equal(
    (first.raw.prepare("pragma journal_mode").get() as { journal_mode: string }).journal_mode,
    "wal",
  );
  await first.close();
  const second = await openDb(path);
  const row = await second.db.selectFrom("state").selectAll().executeTakeFirstOrThrow();
  assert.deepEqual(row, { key: "k", value: "v" });
  await second.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("openDb() names the path when the database cannot be opened", async () => {
  await assert.rejects(
    () => openDb("/proc/nonexistent-dir/x.db"),
    /Cannot open database \/proc\/nonexistent-dir/,
  );
});

Deno.test({
  name:
    "openDb() keeps the database private: 0600 in a 0700 directory it makes, an existing 0644 one made 0600",
  ignore: Deno.build.os === "windows",
  async fn() {
    const dir = await Deno.makeTempDir();
    const path = `${dir}/data/state.db`;
    const first = await openDb(path);
    await first.db.insertInto("state").values({ key: "k", value: "v" }).execute();
    assert.equal((await Deno.stat(`${dir}/data`)).mode! & 0o777, 0o700);
    for (const f of [path, `${path}-wal`]) assert.equal((await Deno.stat(f)).mode! & 0o777, 0o600, f);
    await first.close();
    await Deno.chmod(path, 0o644);
    const again = await openDb(path);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600, "made private again");
    await again.close();
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("openDb() waits its turn while another process holds the write lock of a new file that is not WAL yet", async () => {
  // What a second process opening the same new file meets while the first switches it to WAL: SQLite answers
  // "database is locked" to the switch at once, without the busy timeout (it would be a deadlock for it).
  const dir = await Deno.makeTempDir();
  const path = `${dir}/state.db`;
  const other = new DatabaseSync(path);
  other.exec("BEGIN IMMEDIATE");
  const release = setTimeout(() => other.exec("COMMIT"), 300);
  try {
    const o = await openDb(path);
    assert.equal(
      (o.raw.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode,
      "wal",
    );
    assert.equal(
      (o.raw.prepare("SELECT count(*) AS n FROM kysely_migration").get() as { n: number }).n,
      Object.keys(migrations).length,
    );
    await o.close();
  } finally {
    clearTimeout(release);
    if (other.isTransaction) other.exec("COMMIT");
    other.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openDb() from 6 processes at once on a new file: one creates the tables, every open succeeds", async () => {
  const dir = await Deno.makeTempDir();
  const script = new URL("./testdata/open_at.ts", import.meta.url).pathname;
  // Each process waits for the same moment, then opens (and so migrates) the new database.
  const at = String(Date.now() + 1500);
  const outs = await Promise.all(
    Array.from(
      { length: 6 },
      () =>
        new Deno.Command(Deno.execPath(), { args: ["run", "-A", script, `${dir}/state.db`, at] }).output(),
    ),
  );
  for (const o of outs) {
    assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));
    assert.equal(Number(new TextDecoder().decode(o.stdout)), Object.keys(migrations).length);
  }
  await Deno.remove(dir, { recursive: true });
});
