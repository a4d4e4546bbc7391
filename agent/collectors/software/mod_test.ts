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

/** A fake host whose chosen files are there but fail every call with EIO (a bad disk, a broken mount). */
const failingFiles = (files: Record<string, string>, failing: string[]) =>
  fakeHost({ files, failing: Object.fromEntries(failing.map((p) => [p, "EIO" as const])) });

const DPKG_ONE = "Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2\n";
for (
  const [manager, files, failing] of [
    ["dpkg", { "/var/lib/dpkg/status": DPKG_ONE }, ["/var/lib/dpkg/status"]],
    ["apk", { "/lib/apk/db/installed": "P:musl\nV:1.2\n\n" }, ["/lib/apk/db/installed"]],
    ["pacman", { "/etc/pacman.conf": "[options]\n", "/var/lib/pacman/local/ALPM_DB_VERSION": "9\n" }, [
      "/etc/pacman.conf",
    ]],
    ["rpm", { "/var/lib/rpm/rpmdb.sqlite": "" }, ["/var/lib/rpm/rpmdb.sqlite"]],
  ] as const
) {
  Deno.test(`softwareCollector() never takes ${manager}'s database that is there but cannot be read for an absent one`, async () => {
    const host = failingFiles({ ...files, "/lib/apk/db/installed": "P:zlib\nV:1.3\n\n" }, [...failing]);
    const got = await softwareCollector().collect(settings, {
      host,
      signal: new AbortController().signal,
      log: memoryLogger(),
    })
      .catch((e: Error) => ({ items: [], unseen: ["(the run failed)"], warnings: [e.message] }));
    assert.ok(
      got.unseen!.includes(`${manager}:`) || got.unseen!.includes("(the run failed)"),
      JSON.stringify(got),
    );
    // rpm's own program says what it cannot read (here there is none: the database is not taken for absent).
    assert.match(got.warnings!.join("\n"), manager === "rpm" ? /cannot run rpm/ : /EIO/);
  });
}

Deno.test("dpkg: a package whose file list is there but cannot be read keeps its last install time (an error, not null)", async () => {
  const host = failingFiles({
    "/var/lib/dpkg/status": DPKG_ONE,
    "/var/lib/dpkg/info/bash:amd64.list": "/bin/bash\n",
  }, ["/var/lib/dpkg/info/bash:amd64.list"]);
  const got = await softwareCollector().collect(settings, {
    host,
    signal: new AbortController().signal,
    log: memoryLogger(),
  });
  assert.equal(got.items.length, 1);
  assert.match(String(got.items[0].error), /^cannot stat \/var\/lib\/dpkg\/info\/bash:amd64\.list: EIO/);
});
