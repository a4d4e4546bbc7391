import assert from "node:assert/strict";
import { changeRecord, changeStream, inventoryRecord, previousColumn } from "./records.ts";
import registrySpec from "../collectors/registry/spec.ts";
import filesSpec from "../collectors/files/spec.ts";

const at = Date.UTC(2026, 10, 22, 3, 0, 0);

Deno.test("changeRecord() shapes a software upgrade as a ConfigurationChange with Previous/Current versions", () => {
  const rec = changeRecord({
    key: "dpkg:curl:amd64",
    category: "Modified",
    fieldsChanged: ["CurrentVersion", "Size"],
    previous: { SoftwareName: "curl", CurrentVersion: "7.88.1-10", Size: 500 },
    current: { SoftwareName: "curl", CurrentVersion: "7.88.1-10+deb12u5", Size: 512 },
    previousChangedAt: at - 3600_000,
  }, { dataType: "Software", computer: "host1", at, currentField: "CurrentVersion" });
  assert.equal(rec.ConfigChangeType, "Software");
  assert.equal(rec.ChangeCategory, "Modified");
  assert.equal(rec.FieldsChanged, "CurrentVersion, Size");
  assert.deepEqual([rec.Previous, rec.Current, rec.PreviousSize, rec.Size], [
    "7.88.1-10",
    "7.88.1-10+deb12u5",
    "500",
    "512",
  ]);
  assert.equal(rec.LastSnapshotAge, "3600");
  assert.equal(rec.TimeGenerated, "2026-11-22T03:00:00.000Z");
  assert.match(rec.RecordId, /^[0-9a-f-]{36}$/);
  assert.equal(rec.PreviousCurrentVersion, undefined);
  for (const v of Object.values(rec)) assert.equal(typeof v, "string");
});

Deno.test("changeRecord() names service previous values SvcPrevious* and sets SvcChangeType", () => {
  const rec = changeRecord({
    key: "ssh",
    category: "Modified",
    fieldsChanged: ["SvcStartupType"],
    previous: { SvcName: "ssh", SvcStartupType: "enabled" },
    current: { SvcName: "ssh", SvcStartupType: "disabled" },
  }, { dataType: "Daemons", computer: "h", at });
  assert.deepEqual([rec.SvcPreviousStartupType, rec.SvcStartupType, rec.SvcChangeType], [
    "enabled",
    "disabled",
    "StartupType",
  ]);
  assert.equal(previousColumn("FileContentChecksum"), "PreviousFileContentChecksum");
});

Deno.test("changeRecord() of a Removed item carries the last known fields, and streams follow SPEC §7.8", () => {
  const rec = changeRecord({
    key: "k",
    category: "Removed",
    fieldsChanged: [],
    previous: { FileSystemPath: "/etc/a.conf", Size: 3 },
  }, {
    dataType: "Files",
    computer: "h",
    at,
  });
  assert.deepEqual([rec.ChangeCategory, rec.FileSystemPath, rec.Size, rec.FieldsChanged], [
    "Removed",
    "/etc/a.conf",
    "3",
    "",
  ]);
  assert.equal(changeStream(registrySpec), "CONFIG_CHANGE_BLOB");
  assert.equal(changeStream(filesSpec), "CONFIG_CHANGE_BLOB_V2");
});

Deno.test("inventoryRecord() is a flat ConfigurationData record without nulls", () => {
  const rec = inventoryRecord({ SoftwareName: "a", Size: null, Ok: true }, {
    dataType: "Software",
    computer: "h",
    at,
  });
  assert.deepEqual(Object.keys(rec).sort(), [
    "Computer",
    "ConfigDataType",
    "Ok",
    "RecordId",
    "SoftwareName",
    "TimeGenerated",
  ]);
  assert.equal(rec.Ok, "true");
});
