import assert from "node:assert/strict";
import { liveHost } from "../../host/mod.ts";
import { memoryLogger } from "../../log.ts";
import { settingsSchema } from "../../config/dcr.ts";
import { softwareCollector, softwareKey } from "./mod.ts";
import { fakeHost } from "../../../test/fake_host.ts";

const testdata = (p: string) => new URL(`./testdata/${p}`, import.meta.url).pathname;
const ctx = (root: string) => ({
  host: liveHost({ root }),
  signal: new AbortController().signal,
  log: memoryLogger(),
});
const settings = settingsSchema("linux").parse({});

Deno.test("softwareCollector() reads every manager present, each item saying its manager", async () => {
  const root = await Deno.makeTempDir({ prefix: "ctagent-sw-" });
  try {
    await Deno.mkdir(`${root}/lib/apk/db`, { recursive: true });
    await Deno.copyFile(testdata("apk_installed"), `${root}/lib/apk/db/installed`);
    await Deno.mkdir(`${root}/var/lib/pacman`, { recursive: true });
    await Deno.symlink(testdata("pacman_local"), `${root}/var/lib/pacman/local`);
    await Deno.mkdir(`${root}/var/lib/dpkg`, { recursive: true });
    await Deno.writeTextFile(
      `${root}/var/lib/dpkg/status`,
      "Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b2\n",
    );
    const r = await softwareCollector().collect(settings, ctx(root));
    const managers = new Map<string, number>();
    for (const i of r.items) managers.set(i.Manager, (managers.get(i.Manager) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(managers), { dpkg: 1, apk: 4, pacman: 1 });
    assert.deepEqual(r.unseen, []);
    // bash from dpkg and bash from pacman are two items
    const keys = r.items.map(softwareKey);
    assert.equal(new Set(keys).size, keys.length);
    assert.ok(keys.includes("dpkg:bash:amd64") && keys.includes("pacman:bash:x86_64"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("softwareCollector() keeps a broken manager's packages unseen and still reads the others", async () => {
  const root = await Deno.makeTempDir({ prefix: "ctagent-sw-" });
  try {
    await Deno.mkdir(`${root}/lib/apk/db`, { recursive: true });
    await Deno.copyFile(testdata("apk_installed"), `${root}/lib/apk/db/installed`);
    await Deno.mkdir(`${root}/var/lib/pacman/local/broken-1-1`, { recursive: true }); // no desc file
    await Deno.writeTextFile(`${root}/var/lib/pacman/local/ALPM_DB_VERSION`, "9\n");
    const r = await softwareCollector().collect(settings, ctx(root));
    assert.equal(r.items.length, 4);
    assert.deepEqual(r.unseen, ["pacman:"]);
    assert.match(
      r.warnings!.join("\n"),
      /pacman: cannot read the package database: cannot read \/var\/lib\/pacman\/local\/broken-1-1\/desc/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("softwareCollector() on a fake host: dpkg's status and apk's database, install times from dpkg's lists", async () => {
  const host = fakeHost({
    mtime: new Date("2025-06-01T12:00:00Z"),
    files: {
      "/var/lib/dpkg/status":
        "Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b2\n\n" +
        "Package: gone\nStatus: deinstall ok config-files\nArchitecture: all\nVersion: 1\n",
      "/var/lib/dpkg/info/bash:amd64.list": "/bin/bash\n",
      "/lib/apk/db/installed": Deno.readTextFileSync(testdata("apk_installed")),
    },
  });
  const r = await softwareCollector().collect(settings, { ...ctx("/"), host });
  const dpkg = r.items.filter((i) => i.Manager === "dpkg");
  assert.deepEqual(dpkg.map((i) => [i.SoftwareName, i.CurrentVersion, i.Status, i.InstalledAt]), [
    ["bash", "5.2.15-2+b2", "installed", "2025-06-01T12:00:00.000Z"],
    ["gone", "1", "config-files", null],
  ]);
  assert.equal(r.items.filter((i) => i.Manager === "apk").length, 4);
  assert.deepEqual([r.unseen, r.warnings], [[], []]);
});
