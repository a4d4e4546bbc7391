import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { DatabaseError, openDb, releaseCache, schemaObjects } from "./open.ts";
import { migrations, SCHEMA_OBJECTS } from "./migrations/mod.ts";
import { tmpfsSkipReason, withTmpfs } from "../test/tmpfs.ts";

const skip = tmpfsSkipReason();
const note = skip ? ` (SKIPPED: ${skip})` : "";

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

Deno.test("SCHEMA_OBJECTS, what each open checks for, is what the migrations make of an empty database", async () => {
  const { raw, db } = await openDb(":memory:");
  try {
    assert.deepEqual([...SCHEMA_OBJECTS].sort(), schemaObjects(raw).sort());
  } finally {
    await db.destroy();
  }
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

/** Fills the file system holding `dir` to the last page (what a full disk leaves: not room for one -shm page). */
function fill(dir: string): void {
  const f = Deno.openSync(`${dir}/filler`, { write: true, create: true });
  try {
    for (const chunk of [new Uint8Array(64 * 1024), new Uint8Array(4096), new Uint8Array(1)]) {
      try {
        for (;;) f.writeSync(chunk);
      } catch (e) {
        if (!(e instanceof Error) || !/no space left/i.test(e.message)) throw e;
      }
    }
  } finally {
    f.close();
  }
}

/** A ctagent database at `path` holding state key "k", copied as a crash would leave it: `wal` keeps it in the -wal. */
async function stored(dir: string, wal: boolean): Promise<string> {
  const src = await Deno.makeTempDir();
  try {
    const o = await openDb(`${src}/state.db`);
    // No checkpoint: the row stays in the -wal, as after a crash or while the writer still runs.
    if (wal) o.raw.exec("PRAGMA wal_autocheckpoint = 0");
    await o.db.insertInto("state").values({ key: "k", value: "v" }).execute();
    if (wal) await Deno.copyFile(`${src}/state.db-wal`, `${dir}/state.db-wal`);
    else await o.close(); // the last connection checkpoints and removes the -wal and -shm
    await Deno.copyFile(`${src}/state.db`, `${dir}/state.db`);
    if (wal) await o.close();
    return `${dir}/state.db`;
  } finally {
    await Deno.remove(src, { recursive: true });
  }
}

/** What SQLite itself says to a read-only WAL reader of `path` (the -shm it must make does not fit). */
function plainReadOnlyError(path: string): string {
  const raw = new DatabaseSync(path, { readOnly: true });
  try {
    raw.prepare("SELECT 1 FROM sqlite_master LIMIT 1").get();
    return "";
  } catch (e) {
    return String(e);
  } finally {
    raw.close();
  }
}

/** Opens `path` read-only as `ctagent status` does and finds the row `stored()` wrote. */
async function readsStoredRow(path: string): Promise<void> {
  const o = await openDb(path, { readOnly: true });
  try {
    assert.deepEqual(await o.db.selectFrom("state").selectAll().where("key", "=", "k").execute(), [
      { key: "k", value: "v" },
    ]);
  } finally {
    await o.close();
  }
}

Deno.test({
  name:
    `openDb() read-only on a full disk: without -wal content it reads the database file as immutable${note}`,
  ignore: !!skip,
  fn: () =>
    withTmpfs("2m", async (fs) => {
      const path = await stored(fs.dir, false);
      const before = Deno.readFileSync(path);
      fill(fs.dir);
      assert.match(plainReadOnlyError(path), /disk I\/O error/, "the -shm cannot be made");
      await readsStoredRow(path);
      assert.deepEqual(Deno.readFileSync(path), before, "the database file is untouched");
    }),
});

Deno.test({
  name: `openDb() read-only on a full disk: with -wal content it reports the full disk and the path${note}`,
  ignore: !!skip,
  fn: () =>
    withTmpfs("2m", async (fs) => {
      const path = await stored(fs.dir, true);
      assert.ok(Deno.statSync(`${path}-wal`).size > 0);
      fill(fs.dir);
      assert.match(plainReadOnlyError(path), /disk I\/O error/, "the -shm cannot be made");
      await assert.rejects(
        () => openDb(path, { readOnly: true }),
        (e: Error) => {
          assert.ok(e instanceof DatabaseError, String(e));
          assert.match(e.message, new RegExp(`^Cannot open database ${path}: disk I/O error.*no space left`));
          assert.match(e.message, /free space on the file system/);
          return true;
        },
      );
      // The row is only in the -wal: a read of the database file alone would miss it. With room again it is read.
      const file = new DatabaseSync(`file:${encodeURI(path)}?immutable=1`, { readOnly: true });
      try {
        const tables = file.prepare("SELECT name FROM sqlite_master WHERE name = 'state'").all();
        assert.ok(!tables.length || !file.prepare("SELECT 1 FROM state WHERE key = 'k'").get());
      } finally {
        file.close();
      }
      Deno.removeSync(`${fs.dir}/filler`);
      await readsStoredRow(path);
    }),
});

Deno.test("releaseCache() lets the connection's cached pages go and the connection goes on; a closed one is left be", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ctagent_cache_" });
  try {
    const opened = await openDb(`${dir}/state.db`);
    opened.raw.exec("CREATE TABLE t (x TEXT)");
    const insert = opened.raw.prepare("INSERT INTO t VALUES (?)");
    for (let i = 0; i < 2000; i++) insert.run(`row ${i} `.repeat(20));
    const count = () => opened.raw.prepare("SELECT count(*) AS n, sum(length(x)) AS b FROM t").get();
    const before = count();
    releaseCache(opened.raw);
    assert.deepEqual(count(), before, "read again from the file");
    await opened.close();
    assert.equal(opened.raw.isOpen, false);
    releaseCache(opened.raw); // the agent stopped meanwhile: nothing to give back, nothing thrown
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
