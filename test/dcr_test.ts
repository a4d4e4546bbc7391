// `dcr check` on real DCR shapes, and the running agent keeping its last good DCR when handed a bad one.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { openDb } from "../db/open.ts";
import { getState } from "../db/state.ts";
import { onlyDcr, runCli, withTempDir } from "./helpers.ts";

const SAMPLE = new URL("../../shared/fixtures/dcr/dcr_resource_both_os.json", import.meta.url);
const haveShared = existsSync(SAMPLE);
const MALFORMED = new URL("../agent/config/testdata/malformed_linux.json", import.meta.url);

Deno.test({
  name: "dcr check accepts the Microsoft sample DCR with both OS entries" +
    (haveShared ? "" : " (SKIPPED: ../shared absent)"),
  ignore: !haveShared,
  async fn() {
    const r = await runCli(["dcr", "check", SAMPLE.pathname, "--json"]);
    assert.equal(r.code, 0, r.err);
    const doc = JSON.parse(r.out);
    assert.equal(doc.form, "resource");
    assert.deepEqual(
      doc.configurations.map((c: { extensionName: string; valid: boolean }) => [c.extensionName, c.valid]),
      [
        ["ChangeTracking-Windows", true],
        ["ChangeTracking-Linux", true],
      ],
    );
    assert.equal(doc.configurations[0].settings.registrySettings.registryInfo.length, 17);
    const text = await runCli(["dcr", "check", SAMPLE.pathname]);
    assert.match(text.out, /ChangeTracking-Linux CTDataSource-Linux \(valid\)/);
  },
});

Deno.test("dcr check rejects a malformed DCR listing every problem with its JSON path (exit 17)", async () => {
  const r = await runCli(["dcr", "check", MALFORMED.pathname]);
  assert.equal(r.code, 17);
  const base = "properties.dataSources.extensions[0].extensionSettings";
  for (
    const path of [
      "enableFiles",
      "fileSettings.fileCollectionFrequency",
      "fileSettings.fileInfo[1].links",
      "fileSettings.fileInfo[1].path",
      "fileSettings.fileInfo[1].recurse",
      "softwareSettings.softwareCollectionFrequency",
    ]
  ) assert.ok(r.err.includes(`${base}.${path}: `), `${path} missing from:\n${r.err}`);
  assert.match(r.err, /6 problem\(s\)/);
  assert.equal((await runCli(["dcr", "check", "/nonexistent/dcr.json"])).code, 17);
  const once = await runCli(["--once", "--dcr", MALFORMED.pathname, "--data-dir", "/nonexistent-unused"]);
  assert.equal(once.code, 17);
});

Deno.test("the running agent keeps its last good DCR when handed a bad one, and takes the next good one", () =>
  withTempDir(async (dir) => {
    const dcr = `${dir}/dcr.json`;
    await Deno.mkdir(`${dir}/root/var/lib/dpkg`, { recursive: true });
    await Deno.writeTextFile(
      `${dir}/root/var/lib/dpkg/status`,
      "Package: a\nStatus: install ok installed\nVersion: 1\n",
    );
    await Deno.writeTextFile(
      dcr,
      onlyDcr(["software"], { softwareSettings: { softwareCollectionFrequency: 600 } }),
    );
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const inForce = async () => {
      const { db, close } = await openDb(`${dir}/data/ctagent.db`);
      const s = JSON.parse((await getState(db, "config.in_force"))!);
      const rejected = await db.selectFrom("config").select("errors").where("valid", "=", 0).execute();
      await close();
      return {
        receivedAt: s.receivedAt,
        configId: s.configId,
        rejected: rejected.map((r) => JSON.parse(r.errors)),
      };
    };
    const r = await runCli(["--dcr", dcr, "--data-dir", `${dir}/data`, "--root", `${dir}/root`, "--no-ui"], {
      untilStopped: async () => {
        await sleep(500);
        const first = await inForce();
        await Deno.writeTextFile(dcr, '{"enableSoftware": "maybe"}');
        await sleep(2600); // the file is checked every 2 s
        const afterBad = await inForce();
        assert.equal(afterBad.configId, first.configId);
        assert.equal(afterBad.rejected.length, 1);
        assert.equal(afterBad.rejected[0][0].path, "enableSoftware");
        await Deno.writeTextFile(
          dcr,
          onlyDcr(["software"], { softwareSettings: { softwareCollectionFrequency: 900 } }),
        );
        await sleep(2600);
        const afterGood = await inForce();
        assert.notEqual(afterGood.configId, first.configId);
      },
    });
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /DCR file .* rejected; keeping DCR extensionSettings/);
    assert.match(r.err, /DCR changed/);
  }));
