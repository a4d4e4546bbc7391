import assert from "node:assert/strict";
import { openDb } from "../db/open.ts";
import { createApi } from "./api.ts";
import { COLLECTORS } from "../agent/collectors/mod.ts";
import { contentGate, type FilePrivacySettings } from "./privacy.ts";

const posix = Deno.build.os !== "windows";
const SUM = "ab".repeat(32);

/** A directory every user may enter, with one closed directory in it. */
async function tree() {
  const dir = await Deno.makeTempDir({ prefix: "ctagent-privacy-" });
  await Deno.chmod(dir, 0o755);
  await Deno.mkdir(`${dir}/closed`);
  await Deno.chmod(`${dir}/closed`, 0o700);
  for (const p of ["app.conf", "closed/app.conf"]) await Deno.writeTextFile(`${dir}/${p}`, "x\n");
  return dir;
}

Deno.test({
  name:
    "contentGate() judges stored versions now: mode, the directories above, secret names, the rule in force",
  ignore: !posix,
  async fn() {
    const dir = await tree();
    try {
      let settings: FilePrivacySettings | undefined;
      const gate = contentGate({ settings: () => settings, os: "linux" });
      const open = `${dir}/app.conf`;
      assert.equal(gate.withheld(open, [{ Mode: "0644", RuleName: "r" }]), undefined);
      assert.match(
        gate.withheld(open, [{ Mode: "0600", RuleName: "r" }])!,
        /\(0600\); set captureRestricted to show it/,
      );
      assert.match(
        gate.withheld(open, [{ Mode: "0644", RuleName: "r" }, { Mode: "0600", RuleName: "r" }])!,
        /0600/,
        "one private version is enough to withhold the content",
      );
      assert.match(gate.withheld(`${dir}/closed/app.conf`, [{ Mode: "0644" }])!, /directory above/);
      assert.match(gate.withheld(`${dir}/gone/app.conf`, [{ Mode: "0600" }])!, /0600/, "a removed file too");
      assert.equal(gate.withheld(`${dir}/gone/app.conf`, [{ Mode: "0644" }]), undefined);
      assert.match(gate.withheld(`${dir}/tls.key`, [{ Mode: "0644" }])!, /holds secrets/);

      settings = { fileInfo: [{ name: "r", path: `${dir}/.*`, captureRestricted: true }] };
      assert.equal(gate.withheld(open, [{ Mode: "0600", RuleName: "r" }]), undefined);
      assert.match(
        gate.withheld(open, [{ Mode: "0600", RuleName: "other" }])!,
        /0600/,
        "another rule's file",
      );
      assert.match(gate.withheld(`${dir}/tls.key`, [{ Mode: "0600", RuleName: "r" }])!, /holds secrets/);
      settings = { fileInfo: [{ name: "k", path: `${dir}/tls.key`, captureRestricted: true }] };
      assert.equal(gate.withheld(`${dir}/tls.key`, [{ Mode: "0600", RuleName: "k" }]), undefined);
      settings = { fileInfo: [], captureRestrictedPaths: [`${dir}/`] };
      assert.equal(gate.withheld(`${dir}/closed/app.conf`, [{ Mode: "0600" }]), undefined);
      assert.match(gate.withheld("/srv/elsewhere/x", [{ Mode: null }])!, /permissions are not known/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "the content API refuses content captured before privacy existed (403, and /api/item withholds it)",
  ignore: !posix,
  async fn() {
    const dir = await tree();
    const opened = await openDb(":memory:");
    try {
      const path = `${dir}/app.conf`;
      // As an older ctagent stored it: a 0600 file's content captured without asking.
      const data = JSON.stringify({
        FileSystemPath: path,
        Mode: "0600",
        RuleName: "r",
        FileContentChecksum: SUM,
      });
      opened.raw.prepare(
        "INSERT INTO items (collector, key, checksum, data, error, first_seen, changed_at) VALUES ('files', ?, null, ?, null, 1, 1)",
      ).run(path, data);
      opened.raw.prepare("INSERT INTO contents (checksum, text, size, captured_at) VALUES (?, ?, 9, 1)")
        .run(SUM, "bindpw=x\n");
      const now: { settings?: FilePrivacySettings } = {};
      const api = createApi({
        db: opened.db,
        collectors: COLLECTORS,
        contents: contentGate({ settings: () => now.settings, os: "linux" }),
      });
      const key = encodeURIComponent(path);
      const refused = await api.request(`/content/${SUM}?key=${key}`);
      assert.equal(refused.status, 403);
      assert.match(
        (await refused.json()).error,
        /^content not shown: the file is not world-readable \(0600\)/,
      );
      const diff = await api.request(`/diff?from=${SUM}&to=${SUM}&key=${key}`);
      assert.equal(diff.status, 403);
      await diff.body?.cancel();
      const item = await (await api.request(`/item?collector=files&key=${key}`)).json();
      assert.deepEqual(item.contents, []);
      assert.match(item.withheld[SUM], /0600/);
      now.settings = { fileInfo: [{ name: "r", path: `${dir}/.*`, captureRestricted: true }] };
      const shown = await api.request(`/content/${SUM}?key=${key}`);
      assert.equal(shown.status, 200);
      assert.equal((await shown.json()).text, "bindpw=x\n");
    } finally {
      await opened.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
