import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { openDb } from "../../db/open.ts";
import { writeFileAtomicStreamed, writeMirrors } from "./mirrors.ts";

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
