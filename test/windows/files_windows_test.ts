// End to end under Windows Deno: `main.ts --once --json` inventories files from a `%TEMP%` path with a
// last-segment glob (checksums, Attributes), then reports exactly one Modified, one Added and one Removed.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { named, onceJson, SKIP, writeDaclSddl } from "./seed.ts";

type Rec = Record<string, string | number | null>;

async function run(cmd: string, args: string[]): Promise<string> {
  const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr);
  if (o.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${o.code}): ${text}`);
  return text;
}

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

Deno.test({
  name: named(
    "ctagent --once --json on Windows: files under %TEMP% with a glob, checksums, then exact changes",
  ),
  ignore: !!SKIP,
  async fn() {
    const temp = Deno.env.get("TEMP");
    assert.ok(temp, "TEMP is set");
    const name = `ctagent-files-${crypto.randomUUID().slice(0, 8)}`;
    const dir = `${temp}\\${name}`;
    await Deno.mkdir(`${dir}\\sub`, { recursive: true });
    const big = new Uint8Array((2 << 20) + 123).map((_, i) => (i * 7) & 0xff);
    await Deno.writeTextFile(`${dir}\\a.cfg`, "alpha\r\n");
    await Deno.writeTextFile(`${dir}\\skip.txt`, "not matched\r\n");
    await Deno.writeTextFile(`${dir}\\sub\\B.CFG`, "beta\r\n");
    await Deno.writeFile(`${dir}\\sub\\big.cfg`, big);
    await run("attrib", ["+r", `${dir}\\sub\\B.CFG`]);
    const dcr = `${dir}-dcr.json`;
    await Deno.writeTextFile(
      dcr,
      JSON.stringify({
        enableFiles: true,
        enableSoftware: false,
        enableServices: false,
        enableRegistry: false,
        enableInventory: false,
        fileSettings: {
          fileCollectionFrequency: 60,
          fileInfo: [{ name: "E2E", enabled: true, recurse: true, path: `%temp%\\${name}\\*.cf?` }],
        },
      }),
    );
    try {
      const first = await onceJson<Rec>(dcr, `${dir}-data`);
      assert.equal(first.code, 0, `first run exit code\n${first.stderr}`);
      for (const r of first.json.runs) assert.equal(r.error, null, `${r.collector}: ${r.error}`);
      const files = first.json.inventory.files ?? [];
      assert.deepEqual(files.map((f) => f.FileSystemPath).sort(), [
        `${dir}\\a.cfg`,
        `${dir}\\sub\\B.CFG`,
        `${dir}\\sub\\big.cfg`,
      ]);
      for (const f of files) {
        const p = f.FileSystemPath as string;
        assert.equal(f.FileContentChecksum, sha(await Deno.readFile(p)), `checksum of ${p}`);
        assert.equal(f.FileType, "File");
        assert.equal(String(f.Size), String((await Deno.stat(p)).size), `Size of ${p}`);
        assert.ok(f.DateModified, `DateModified of ${p}`);
        assert.equal(typeof f.Attributes, "string", `Attributes of ${p}: ${f.Attributes}`);
        assert.match(String(f.Acls), /^D:/, `Acls of ${p} (the DACL as SDDL)`);
      }
      const b = files.find((f) => String(f.FileSystemPath).endsWith("B.CFG"))!;
      assert.match(String(b.Attributes), /\bReadOnly\b/);
      assert.doesNotMatch(
        String(files.find((f) => String(f.FileSystemPath).endsWith("a.cfg"))!.Attributes),
        /ReadOnly/,
      );

      await Deno.writeTextFile(`${dir}\\a.cfg`, "alpha, changed\r\n");
      await Deno.writeTextFile(`${dir}\\sub\\new.cfg`, "new\r\n");
      await Deno.remove(`${dir}\\sub\\big.cfg`);
      const second = await onceJson<Rec>(dcr, `${dir}-data`);
      assert.equal(
        second.code & 7,
        1 | 2 | 4,
        `exit code says added, removed and modified\n${second.stderr}`,
      );
      const changes = second.json.changes.filter((c) => c.ConfigChangeType === "Files");
      assert.deepEqual(
        changes.map((c) => [c.ChangeCategory, c.FileSystemPath]).sort((x, y) =>
          String(x[0]).localeCompare(String(y[0]))
        ),
        [
          ["Added", `${dir}\\sub\\new.cfg`],
          ["Modified", `${dir}\\a.cfg`],
          ["Removed", `${dir}\\sub\\big.cfg`],
        ],
      );
      const modified = changes.find((c) => c.ChangeCategory === "Modified")!;
      assert.ok(
        String(modified.FieldsChanged).split(", ").includes("FileContentChecksum"),
        String(modified.FieldsChanged),
      );
      assert.equal(modified.FileContentChecksum, sha(await Deno.readFile(`${dir}\\a.cfg`)));

      // A DACL written is an Acls change of that file alone (issue 15).
      const before = second.json.inventory.files?.find((f) => f.FileSystemPath === `${dir}\\a.cfg`)?.Acls;
      writeDaclSddl(`${dir}\\a.cfg`, "D:P(A;;FA;;;WD)(A;;FR;;;BU)");
      const third = await onceJson<Rec>(dcr, `${dir}-data`);
      const acl = third.json.changes.filter((c) => c.ConfigChangeType === "Files");
      assert.deepEqual(acl.map((c) => [c.ChangeCategory, c.FileSystemPath]), [["Modified", `${dir}\\a.cfg`]]);
      assert.ok(String(acl[0].FieldsChanged).split(", ").includes("Acls"), String(acl[0].FieldsChanged));
      assert.equal(acl[0].PreviousAcls, before);
      assert.notEqual(acl[0].Acls, before);
    } finally {
      await run("attrib", ["-r", `${dir}\\sub\\B.CFG`]).catch(() => {});
      for (const p of [dir, `${dir}-data`, dcr]) await Deno.remove(p, { recursive: true }).catch(() => {});
    }
  },
});
