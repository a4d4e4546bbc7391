import assert from "node:assert/strict";
import { parseRpmQuery, rpm } from "./rpm.ts";
import { softwareKey } from "./mod.ts";
import { liveHost } from "../../host/mod.ts";
import { buildRpmDb, haveRpm, rpmOracle, SAMPLE_BUILDS } from "../../../test/fixtures/rpm_db.ts";

const HAVE_RPM = haveRpm();
if (!HAVE_RPM) {
  console.warn("rpm_test.ts: SKIPPED the real-database tests: `rpm`/`rpmbuild` absent (apt-get install rpm)");
}

const FS = "\x1f", RS = "\x1e", GS = "\x1d";
const record = (fields: string[], provides: string[] = []) =>
  fields.join(FS) + FS + provides.map((p) => p + GS).join("") + RS;

Deno.test("parseRpmQuery() writes E:V-R with 0 for an unset epoch and falls back to the vendor", () => {
  const text = record([
    "bash",
    "(none)",
    "5.1.8",
    "9.el9",
    "x86_64",
    "The GNU Bourne Again shell",
    "(none)",
    "Red Hat, Inc.",
    "7738998",
    "1700000000",
  ]) +
    record([
      "openssl-libs",
      "1",
      "3.0.7",
      "27.el9",
      "x86_64",
      "A general purpose cryptography library",
      "Red Hat, Inc. <http://bugzilla.redhat.com/bugzilla>",
      "Red Hat, Inc.",
      "(none)",
      "(none)",
    ]);
  const [bash, ssl] = parseRpmQuery(text);
  assert.equal(bash.CurrentVersion, "0:5.1.8-9.el9");
  assert.equal(bash.Publisher, "Red Hat, Inc.");
  assert.equal(bash.Size, 7738998);
  assert.equal(bash.InstalledAt, "2023-11-14T22:13:20.000Z");
  assert.equal(bash.SoftwareType, "Package");
  assert.equal(bash.Manager, "rpm");
  assert.equal(bash.InstallOnly, false);
  assert.equal(ssl.CurrentVersion, "1:3.0.7-27.el9");
  assert.equal(ssl.Publisher, "Red Hat, Inc. <http://bugzilla.redhat.com/bugzilla>");
  assert.equal(ssl.Size, null);
  assert.equal(ssl.InstalledAt, null);
});

Deno.test("parseRpmQuery() gives each installed kernel and each gpg-pubkey its own key", () => {
  const text =
    record(["kernel-core", "(none)", "5.14.0", "362.el9", "x86_64", "k", "(none)", "(none)", "1", "1"], [
      "kernel-core",
      "installonlypkg(kernel)",
    ]) +
    record(["kernel-core", "(none)", "5.14.0", "427.el9", "x86_64", "k", "(none)", "(none)", "1", "2"], [
      "kernel-core",
      "installonlypkg(kernel)",
    ]) +
    record([
      "gpg-pubkey",
      "(none)",
      "fd431d51",
      "4ae0493b",
      "(none)",
      "gpg(Red Hat)",
      "(none)",
      "(none)",
      "0",
      "3",
    ]) +
    record(["kernel-headers", "(none)", "5.14.0", "427.el9", "x86_64", "h", "(none)", "(none)", "1", "4"], [
      "kernel-headers",
    ]);
  const items = parseRpmQuery(text);
  const keys = items.map(softwareKey);
  assert.deepEqual(keys, [
    "rpm:kernel-core:x86_64:0:5.14.0-362.el9",
    "rpm:kernel-core:x86_64:0:5.14.0-427.el9",
    "rpm:gpg-pubkey::0:fd431d51-4ae0493b",
    "rpm:kernel-headers:x86_64",
  ]);
  assert.equal(items[2].Architecture, "");
});

Deno.test("parseRpmQuery() keeps both versions of a name.arch left by an interrupted transaction", () => {
  const text = record(["tzdata", "(none)", "2024a", "1", "noarch", "t", "(none)", "(none)", "1", "1"]) +
    record(["tzdata", "(none)", "2024b", "1", "noarch", "t", "(none)", "(none)", "1", "2"]);
  assert.deepEqual(parseRpmQuery(text).map(softwareKey), [
    "rpm:tzdata:noarch:0:2024a-1",
    "rpm:tzdata:noarch:0:2024b-1",
  ]);
});

Deno.test("parseRpmQuery() names the record it cannot parse", () => {
  assert.throws(() => parseRpmQuery("bash\x1f5.1\x1e"), /expected 11 fields, got 2 in "bash\\u001f5.1"/);
});

Deno.test({
  name: "rpm source reads a real rpm database exactly as `rpm -qa` lists it (multilib, kernels, epochs)",
  ignore: !HAVE_RPM,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ctagent-rpm-" });
    try {
      const dbdir = await buildRpmDb(dir, `${dir}/root`, SAMPLE_BUILDS);
      const host = liveHost({ root: `${dir}/root` });
      assert.equal(await rpm.present(host), true);
      const { items } = await rpm.read(host, new AbortController().signal);

      const oracle = await rpmOracle(dbdir);
      const ours = items.map((i) => ({
        name: i.SoftwareName,
        summary: i.SoftwareDescription,
        packager: i.Publisher,
        time: Date.parse(i.InstalledAt!) / 1000,
        size: i.Size,
        evr: i.CurrentVersion,
        arch: i.Architecture,
      }));
      const order = (a: { name: string; arch: string; evr: string }, b: typeof a) =>
        `${a.name} ${a.arch} ${a.evr}`.localeCompare(`${b.name} ${b.arch} ${b.evr}`);
      // The oracle writes a missing packager as "0"; ours falls back to the vendor, or is empty.
      const plain = ours.find((o) => o.name === "ctagent-plain")!;
      assert.equal(plain.packager, "Plain Vendor");
      plain.packager = "";
      for (const o of ours) if (o.packager === "") o.packager = "0";
      assert.deepEqual(ours.sort(order), oracle.sort(order));
      assert.equal(items.length, 5);
      assert.equal(new Set(items.map(softwareKey)).size, 5);
      const tool = items.find((i) => i.SoftwareName === "ctagent-tool" && i.Architecture === "i686")!;
      assert.equal(tool.CurrentVersion, "3:1.0-1");
      assert.equal(tool.Size, 2048);
      assert.deepEqual(
        items.filter((i) => i.SoftwareName === "kernel-core").map(softwareKey).sort(),
        ["rpm:kernel-core:x86_64:0:6.1.0-1", "rpm:kernel-core:x86_64:0:6.2.0-1"],
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("rpm source is absent on a root without an rpm database", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/var/lib/rpm`, { recursive: true }); // Debian's rpm package leaves this empty
  assert.equal(await rpm.present(liveHost({ root: dir })), false);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("rpm source names the database when the rpm command cannot run", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/var/lib/rpm`, { recursive: true });
    await Deno.writeTextFile(`${dir}/var/lib/rpm/rpmdb.sqlite`, "", { createNew: true });
    const host = {
      ...liveHost({ root: dir }),
      exec: () => Promise.reject(Object.assign(new Error("spawn rpm ENOENT"), { code: "ENOENT" })),
    };
    assert.equal(await rpm.present(host), true);
    await assert.rejects(
      () => rpm.read(host, new AbortController().signal),
      new RegExp(`cannot run rpm for the database in ${dir}/var/lib/rpm: spawn rpm ENOENT`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
