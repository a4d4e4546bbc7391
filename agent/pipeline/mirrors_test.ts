import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { openDb } from "../../db/open.ts";
import { MirrorDraft, writeFileAtomicStreamed, writeMirrors } from "./mirrors.ts";

async function setup() {
  const opened = await openDb(":memory:");
  const put = (collector: string, key: string, data: Record<string, unknown>, error: string | null = null) =>
    opened.db.insertInto("items").values({
      collector,
      key,
      checksum: "c",
      data: JSON.stringify(data),
      error,
      first_seen: 1,
      changed_at: 1,
    }).execute();
  await put("software", "zlib", { SoftwareName: "zlib", CurrentVersion: "1.3", SoftwareType: "Package" });
  await put("software", "KB5034441", { SoftwareName: "KB5034441", SoftwareType: "Update" });
  await put("software", "apt", { SoftwareName: "apt", CurrentVersion: "2.6", SoftwareType: "Application" });
  await put("services", "cron", { SvcName: "cron", SvcState: "Running" });
  await put("files", "/etc/a.conf", { FileSystemPath: "/etc/a.conf", Size: 3 }, "EACCES: permission denied");
  await put("registry", "HKLM\\x", { RegistryKey: "HKLM\\x" });
  const dir = await Deno.makeTempDir();
  const read = (f: string) => JSON.parse(readFileSync(`${dir}/${f}`, "utf8"));
  return { ...opened, dir, read };
}

Deno.test("writeMirrors() writes File.json, Packages.json and Services.json on Linux, sorted by key", async () => {
  const { db, dir, read, close } = await setup();
  const written = await writeMirrors({ db, dir, os: "linux" });
  assert.deepEqual(written.map((p) => p.slice(dir.length + 1)), [
    "File.json",
    "Packages.json",
    "Services.json",
  ]);
  assert.deepEqual(read("Packages.json").map((i: { SoftwareName: string }) => i.SoftwareName), [
    "KB5034441",
    "apt",
    "zlib",
  ]);
  assert.deepEqual(read("Services.json"), [{ SvcName: "cron", SvcState: "Running" }]);
  assert.deepEqual(read("File.json"), [{
    FileSystemPath: "/etc/a.conf",
    Size: 3,
    error: "EACCES: permission denied",
  }]);
  assert.deepEqual(readdirSync(dir).sort(), ["File.json", "Packages.json", "Services.json"]);
  await close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("writeMirrors() splits software into Applications.json and Patches.json on Windows, no registry mirror", async () => {
  const { db, dir, read, close } = await setup();
  await writeMirrors({ db, dir, os: "windows" });
  assert.deepEqual(readdirSync(dir).sort(), [
    "Applications.json",
    "File.json",
    "Patches.json",
    "Services.json",
  ]);
  assert.deepEqual(read("Patches.json").map((i: { SoftwareName: string }) => i.SoftwareName), ["KB5034441"]);
  assert.deepEqual(read("Applications.json").map((i: { SoftwareName: string }) => i.SoftwareName), [
    "apt",
    "zlib",
  ]);
  await close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("writeMirrors() with `only` rewrites just the mirrors of the collectors that ran", async () => {
  const { db, dir, read, close } = await setup();
  await writeMirrors({ db, dir, os: "linux" });
  await db.deleteFrom("items").where("collector", "=", "software").execute();
  await db.deleteFrom("items").where("collector", "=", "services").execute();
  await writeMirrors({ db, dir, os: "linux", only: ["services"] });
  assert.deepEqual(read("Services.json"), []);
  assert.equal(read("Packages.json").length, 3, "software did not run: its mirror is kept");
  // A run that wrote no item leaves its mirror alone, unless it is missing.
  await Deno.remove(`${dir}/File.json`);
  const written = await writeMirrors({ db, dir, os: "linux", unchanged: ["files", "software"] });
  assert.deepEqual(written.map((p) => p.slice(dir.length + 1)), ["File.json", "Services.json"]);
  assert.equal(read("Packages.json").length, 3);
  await close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("writeFileAtomicStreamed() replaces a file whole and leaves no temp file when it cannot", async () => {
  const dir = await Deno.makeTempDir();
  const write = (path: string, ...parts: string[]) =>
    writeFileAtomicStreamed(`${dir}/${path}`, (put) => parts.forEach(put));
  await write("m.json", "[1]");
  await write("m.json", "[", "2", "]");
  assert.equal(readFileSync(`${dir}/m.json`, "utf8"), "[2]");
  mkdirSync(`${dir}/blocked.json/inner`, { recursive: true });
  await assert.rejects(() => write("blocked.json", "[3]"), /Cannot write mirror .*blocked\.json/);
  // A fill that fails leaves the old file and no temp file.
  await assert.rejects(
    () =>
      writeFileAtomicStreamed(`${dir}/m.json`, (put) => {
        put("[4");
        throw new Error("database gone");
      }),
    /database gone/,
  );
  assert.equal(readFileSync(`${dir}/m.json`, "utf8"), "[2]");
  assert.deepEqual(readdirSync(dir).sort(), ["blocked.json", "m.json"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("writeFileAtomicStreamed() writes what was put as UTF-8, pieces of any size and text of any kind", async () => {
  const dir = await Deno.makeTempDir();
  // Many small pieces (several holds' worth), wide characters at a hold's end, a lone surrogate, one piece
  // larger than a hold, and an empty one.
  const parts = [
    ...Array.from({ length: 30_000 }, (_, i) => `,\n{"n":${i},"s":"é ☃ 😀"}`),
    "x".repeat(300_000),
    "\ud800 lone",
    "",
    "😀".repeat(100_000),
    "end",
  ];
  await writeFileAtomicStreamed(`${dir}/m.json`, (put) => parts.forEach(put));
  // Compared whole, not element by element (a failure's diff of megabytes would take minutes to print).
  const got = readFileSync(`${dir}/m.json`), want = new TextEncoder().encode(parts.join(""));
  assert.equal(got.length, want.length);
  assert.ok(got.equals(want), `differs from byte ${got.findIndex((b, i) => b !== want[i])}`);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("writeMirrors() streams a mirror of several pages, one item per line", async () => {
  const opened = await openDb(":memory:");
  const items = Array.from({ length: 1234 }, (_, i) => ({
    FileSystemPath: `/etc/f${String(i).padStart(5, "0")}`,
    Size: i,
  }));
  for (const i of items) {
    await opened.db.insertInto("items").values({
      collector: "files",
      key: i.FileSystemPath,
      checksum: "c",
      data: JSON.stringify(i),
      error: null,
      first_seen: 1,
      changed_at: 1,
    }).execute();
  }
  const dir = await Deno.makeTempDir();
  await writeMirrors({ db: opened.db, dir, os: "linux", only: ["files", "services"] });
  assert.equal(
    readFileSync(`${dir}/File.json`, "utf8"),
    `[\n${items.map((i) => JSON.stringify(i)).join(",\n")}\n]\n`,
  );
  assert.equal(readFileSync(`${dir}/Services.json`, "utf8"), "[]\n");
  await opened.close();
  await Deno.remove(dir, { recursive: true });
});

/** How the drafted item of `key` (the `i`th to come) looks: an update or not, read or not. */
type Kind = (key: string, i: number) => { update: boolean; error: boolean };
const byArrival: Kind = (_, i) => ({ update: i < 2, error: i % 4 === 1 });

/** Software items of Windows (two mirrors, each with its `keep`), stored in `db` and drafted in the order given. */
async function drafted(order: string[], hold: number, kind = byArrival, lateCap?: number) {
  const opened = await openDb(":memory:");
  const dir = await Deno.makeTempDir();
  const draft = MirrorDraft.of(`${dir}/draft`, "windows", "software", hold, lateCap)!;
  const stored = new Set<string>();
  for (const [i, key] of order.entries()) {
    const { update, error: failed } = kind(key, i);
    const json = JSON.stringify({ SoftwareName: key, SoftwareType: update ? "Update" : "Application" });
    const error = failed ? `EIO: cannot read ${key}` : null;
    // The table keeps the first of a key given twice.
    if (!stored.has(key)) {
      stored.add(key);
      await opened.db.insertInto("items").values({
        collector: "software",
        key,
        checksum: "c",
        data: json,
        error,
        first_seen: 1,
        changed_at: 1,
      }).execute();
    }
    draft.add(key, json, error);
  }
  return { ...opened, dir, draft };
}

/** Asserts that the draft's mirrors are byte for byte writeMirrors()' from the table, and no temp file is left. */
async function assertAsTable(db: Awaited<ReturnType<typeof openDb>>["db"], dir: string) {
  await writeMirrors({ db, dir: `${dir}/table`, os: "windows", only: ["software"] });
  for (const f of ["Applications.json", "Patches.json"]) {
    assert.equal(readFileSync(`${dir}/draft/${f}`, "utf8"), readFileSync(`${dir}/table/${f}`, "utf8"), f);
  }
  assert.deepEqual(
    readdirSync(`${dir}/draft`).sort(),
    ["Applications.json", "Patches.json"],
    "no temp file left",
  );
}

// Keys in code point order (SQLite's): \u0001 a b\n c\\d m z é \uE000x \uFF21 😀. They come at most two places
// late, and JavaScript's `<` would put 😀 (a surrogate pair) before \uFF21, which comes after it here.
const NEARLY = ["a", "\u0001", "c\\d", "b\n", "z", "m", "\uE000x", "\u00e9", "\u{1F600}", "\uFF21"];
// \u0001 comes eight places late.
const LATE = ["a", "b\n", "\u{1F600}", "\uFF21", "\uE000x", "c\\d", "\u00e9", "z", "\u0001", "m"];

Deno.test("MirrorDraft: items a little out of key order give the same bytes as writeMirrors() from the table", async () => {
  const { db, dir, draft, close } = await drafted(NEARLY, 4);
  assert.equal(draft.commit(), true);
  await writeMirrors({ db, dir: `${dir}/table`, os: "windows", only: ["software"] });
  for (const f of ["Applications.json", "Patches.json"]) {
    assert.deepEqual(readFileSync(`${dir}/draft/${f}`), readFileSync(`${dir}/table/${f}`), f);
  }
  assert.ok(JSON.parse(readFileSync(`${dir}/draft/Patches.json`, "utf8")).length > 0);
  assert.deepEqual(readdirSync(`${dir}/draft`).sort(), ["Applications.json", "Patches.json"]);
  await close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("MirrorDraft: items that come after greater ones were written are put in their places at commit", async () => {
  const { db, dir, draft, close } = await drafted(LATE, 4);
  assert.equal(draft.commit(), true);
  await assertAsTable(db, dir);
  await close();
  await Deno.remove(dir, { recursive: true });
});

// 100 keys k00..k99 in code point order, then \uFF21, 😀 and ten keys after 😀 (JavaScript's `<` puts the
// surrogate pairs before \uFF21). Every 7th k from k03 is an update (Patches.json, k94 its last); every 4th from k01
// cannot be read.
const MANY = [
  ...Array.from({ length: 100 }, (_, i) => `k${String(i).padStart(2, "0")}`),
  "\uFF21",
  "\u{1F600}",
  ...Array.from({ length: 10 }, (_, i) => `\u{1F600}${i}`),
];
const manyKind: Kind = (key) => {
  const i = MANY.indexOf(key);
  return { update: i < 100 && i % 7 === 3, error: i % 4 === 1 };
};
// Late: k00 (before the first line of both mirrors, 110 places late), k01 (unreadable), k50, k94 (after the last
// line of Patches.json) and \uFF21 (after 😀 was written).
const LATER = ["k94", "k50", "\uFF21", "k01", "k00"];

Deno.test("MirrorDraft: items far later than the hold (ten times it and more) give the same bytes as writeMirrors()", async () => {
  const { db, dir, draft, close } = await drafted(
    [...MANY.filter((k) => !LATER.includes(k)), ...LATER],
    8,
    manyKind,
  );
  assert.equal(draft.commit(), true);
  await assertAsTable(db, dir);
  const patches = JSON.parse(readFileSync(`${dir}/draft/Patches.json`, "utf8"));
  assert.equal(patches.at(-1).SoftwareName, "k94");
  const apps = JSON.parse(readFileSync(`${dir}/draft/Applications.json`, "utf8"));
  assert.deepEqual(apps.slice(0, 2), [
    { SoftwareName: "k00", SoftwareType: "Application" },
    { SoftwareName: "k01", SoftwareType: "Application", error: "EIO: cannot read k01" },
  ]);
  assert.deepEqual(apps.slice(-12, -10).map((i: { SoftwareName: string }) => i.SoftwareName), [
    "\uFF21",
    "\u{1F600}",
  ]);
  await close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("MirrorDraft: late items between the lines of one write-out, many to a mirror, give writeMirrors()' bytes", async () => {
  // Every fifth k comes at the end, in reverse: with a hold of 16 each write-out is three items, so most of the
  // late ones go between two lines of the same write-out.
  const late = MANY.filter((_, i) => i < 100 && i % 5 === 0);
  const { db, dir, draft, close } = await drafted(
    [...MANY.filter((k) => !late.includes(k)), ...late.reverse()],
    16,
    manyKind,
  );
  assert.equal(draft.commit(), true);
  await assertAsTable(db, dir);
  await close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("MirrorDraft: late items alone in a mirror, or everything late but the last, still give writeMirrors()' bytes", async () => {
  // Patches.json gets only late lines; Applications.json's first written line comes after all of them.
  const onlyLate = await drafted(
    ["k10", "k11", "k12", "k13", "k14", "k15", "k03", "k00", "k01", "k02"],
    2,
    manyKind,
  );
  assert.equal(onlyLate.draft.commit(), true);
  await assertAsTable(onlyLate.db, onlyLate.dir);
  await onlyLate.close();
  await Deno.remove(onlyLate.dir, { recursive: true });
});

Deno.test("MirrorDraft: a late key given before (written or late) gives the draft up, leaving no temp file", async () => {
  for (const again of ["k05", "k40", "k00"]) {
    const order = [...MANY.filter((k) => k !== "k00"), "k00", again];
    const { dir, draft, close } = await drafted(order, 8, manyKind);
    assert.equal(draft.commit(), false, again);
    assert.deepEqual(readdirSync(`${dir}/draft`), [], "no temp file left");
    await close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("MirrorDraft: more late than its cap gives the draft up, leaving no temp file", async () => {
  const order = [...MANY.filter((k) => !LATER.includes(k)), ...LATER];
  // Each late item is ~60 characters: the cap takes two of the five.
  const capped = await drafted(order, 8, manyKind, 150);
  assert.equal(capped.draft.commit(), false);
  assert.deepEqual(readdirSync(`${capped.dir}/draft`), [], "no temp file left");
  await capped.close();
  await Deno.remove(capped.dir, { recursive: true });
  const roomy = await drafted(order, 8, manyKind, 1000);
  assert.equal(roomy.draft.commit(), true);
  await assertAsTable(roomy.db, roomy.dir);
  await roomy.close();
  await Deno.remove(roomy.dir, { recursive: true });
});

Deno.test("MirrorDraft: a key given twice gives the draft up; an aborted draft leaves nothing", async () => {
  const dir = await Deno.makeTempDir();
  const twice = MirrorDraft.of(dir, "linux", "files")!;
  twice.add("/a", "{}", null);
  twice.add("/a", "{}", null);
  assert.equal(twice.commit(), false);
  const aborted = MirrorDraft.of(dir, "linux", "files")!;
  aborted.add("/a", "{}", null);
  aborted.abort();
  assert.deepEqual(readdirSync(dir), []);
  assert.equal(MirrorDraft.of(dir, "linux", "registry"), undefined, "no mirror, no draft");
  const empty = MirrorDraft.of(dir, "linux", "files")!;
  assert.equal(empty.commit(), true);
  assert.equal(readFileSync(`${dir}/File.json`, "utf8"), "[]\n");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("MirrorDraft: a temp file another process left (killed mid-write) is removed; this process's own stay", async () => {
  const dir = await Deno.makeTempDir();
  const orphan = `${dir}/File.json.tmp-${Deno.pid + 1}-deadbeef`;
  const own = `${dir}/File.json.tmp-${Deno.pid}-cafecafe`;
  const other = `${dir}/Packages.json.tmp-${Deno.pid + 1}-deadbeef`;
  for (const f of [orphan, own, other]) Deno.writeTextFileSync(f, "[\n{");
  const draft = MirrorDraft.of(dir, "linux", "files")!;
  assert.equal(existsSync(orphan), false);
  assert.equal(existsSync(own), true);
  assert.equal(existsSync(other), true, "another mirror's temp files are its own draft's business");
  draft.abort();
  await Deno.remove(dir, { recursive: true });
});
