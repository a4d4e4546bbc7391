import assert from "node:assert/strict";
import {
  changeRecord,
  changeStream,
  fullRecord,
  inventoryBody,
  inventoryHead,
  inventoryRecord,
  inventoryTableText,
} from "./records.ts";
import { CHANGE_COLUMNS, DATA_COLUMNS, previousColumn } from "./columns.ts";
import type { Item } from "../collectors/types.ts";
import { inventoryRecordText } from "../../db/outbox.ts";
import { fileItem, hostileItems } from "../../db/testdata/items.ts";
import registrySpec from "../collectors/registry/spec.ts";
import filesSpec from "../collectors/files/spec.ts";

const at = Date.UTC(2026, 10, 22, 3, 0, 0);
const keys = (r: Record<string, string> | null) => Object.keys(r ?? {}).sort();

Deno.test("changeRecord() shapes a software upgrade: the version in Previous/Current, only ConfigurationChange columns in the table part", () => {
  const r = changeRecord({
    key: "dpkg:curl:amd64",
    category: "Modified",
    fieldsChanged: ["CurrentVersion", "InstalledAt", "Size"],
    previous: {
      SoftwareName: "curl",
      CurrentVersion: "7.88.1-10",
      Size: 500,
      Manager: "dpkg",
      InstalledAt: "a",
    },
    current: {
      SoftwareName: "curl",
      CurrentVersion: "7.88.1-10+deb12u5",
      Size: 512,
      Manager: "dpkg",
      InstalledAt: "b",
    },
    previousChangedAt: at - 3600_000,
  }, { dataType: "Software", computer: "host1", at, currentField: "CurrentVersion" });
  assert.deepEqual(r.la, {
    TimeGenerated: "2026-11-22T03:00:00.000Z",
    Computer: "host1",
    ConfigChangeType: "Software",
    ChangeCategory: "Modified",
    FieldsChanged: "CurrentVersion, Size",
    LastSnapshotAge: "3600",
    Current: "7.88.1-10+deb12u5",
    Previous: "7.88.1-10",
    PreviousSize: "500",
    SoftwareName: "curl",
    Size: "512",
  });
  assert.match(r.extra.RecordId, /^[0-9a-f-]{36}$/);
  assert.deepEqual({ ...r.extra, RecordId: "" }, {
    RecordId: "",
    FieldsChanged: "CurrentVersion, InstalledAt, Size",
    PreviousInstalledAt: "a",
    CurrentVersion: "7.88.1-10+deb12u5",
    Manager: "dpkg",
    InstalledAt: "b",
  });
  for (const k of keys(r.la)) assert.ok(CHANGE_COLUMNS.has(k), k);
  assert.deepEqual(keys(r.la).filter((k) => k in r.extra), ["FieldsChanged"], "the parts share no other key");
  assert.deepEqual([fullRecord(r).Manager, fullRecord(r).FieldsChanged], [
    "dpkg",
    "CurrentVersion, InstalledAt, Size",
  ]);
});

Deno.test("changeRecord() of a service: SvcPrevious* columns and SvcChangeType in the documented order, never ctagent fields", () => {
  const r = changeRecord({
    key: "ssh",
    category: "Modified",
    fieldsChanged: ["ExecStart", "SvcAccount", "SvcDescription", "SvcPath", "SvcStartupType", "SvcState"],
    previous: {
      SvcName: "ssh",
      SvcState: "Stopped",
      SvcStartupType: "disabled",
      SvcPath: "/a",
      SvcAccount: "root",
      SvcDescription: "old",
      ExecStart: "/usr/sbin/sshd -D",
    },
    current: {
      SvcName: "ssh",
      SvcState: "Running",
      SvcStartupType: "enabled",
      SvcPath: "/b",
      SvcAccount: "sshd",
      SvcDescription: "new",
      ExecStart: "/usr/sbin/sshd",
    },
  }, { dataType: "Daemons", computer: "h", at });
  assert.equal(r.la!.SvcChangeType, "State StartupType Path ServiceAccount Description");
  assert.deepEqual(
    [r.la!.SvcPreviousState, r.la!.SvcPreviousStartupType, r.la!.SvcPreviousPath, r.la!.SvcPreviousAccount],
    ["Stopped", "disabled", "/a", "root"],
  );
  assert.equal(r.la!.FieldsChanged, "SvcAccount, SvcDescription, SvcPath, SvcStartupType, SvcState");
  assert.equal(
    r.extra.FieldsChanged,
    "ExecStart, SvcAccount, SvcDescription, SvcPath, SvcStartupType, SvcState",
  );
  assert.equal(r.la!.SvcDescription, undefined, "SvcDescription is no ConfigurationChange column");
  assert.deepEqual([r.extra.SvcDescription, r.extra.ExecStart, r.extra.PreviousExecStart], [
    "new",
    "/usr/sbin/sshd",
    "/usr/sbin/sshd -D",
  ]);
  assert.equal(previousColumn("FileContentChecksum"), "PreviousFileContentChecksum");
});

Deno.test("changeRecord() keeps a value outside a column's documented set out of the table part (SvcState Unknown, a Windows Boot start)", () => {
  const r = changeRecord({
    key: "x",
    category: "Modified",
    fieldsChanged: ["SvcStartupType"],
    previous: { SvcName: "x", SvcState: "Unknown", SvcStartupType: "Manual" },
    current: { SvcName: "x", SvcState: "Unknown", SvcStartupType: "Boot" },
  }, { dataType: "WindowsServices", computer: "h", at });
  assert.equal(r.la!.SvcState, undefined);
  assert.equal(r.la!.SvcStartupType, undefined);
  assert.equal(r.la!.SvcPreviousStartupType, "Manual");
  assert.deepEqual([r.extra.SvcState, r.extra.SvcStartupType], ["Unknown", "Boot"]);
});

Deno.test("changeRecord() of a change of ctagent-only fields has no table part (it is not for AMA), and FieldsChanged names them in the full record", () => {
  const r = changeRecord({
    key: "/etc/a",
    category: "Modified",
    fieldsChanged: ["Owner"],
    previous: { FileSystemPath: "/etc/a", Owner: "root" },
    current: { FileSystemPath: "/etc/a", Owner: "bin" },
  }, { dataType: "Files", computer: "h", at });
  assert.equal(r.la, null);
  assert.deepEqual([r.extra.FieldsChanged, r.extra.Owner, r.extra.PreviousOwner], ["Owner", "bin", "root"]);
});

Deno.test("changeRecord() of a Removed item: identifying columns, every last value in its Previous column, the other current columns empty", () => {
  const r = changeRecord({
    key: "/etc/a.conf",
    category: "Removed",
    fieldsChanged: [],
    previous: {
      FileSystemPath: "/etc/a.conf",
      Size: 3,
      FileContentChecksum: "ab",
      DateModified: "2026-01-01T00:00:00.000Z",
      DateCreated: null,
      Acls: "user::rw-,group::r--,other::r--",
      Mode: "0644",
    },
  }, { dataType: "Files", computer: "h", at });
  assert.deepEqual({ ...r.la, TimeGenerated: "" }, {
    TimeGenerated: "",
    Computer: "h",
    ConfigChangeType: "Files",
    ChangeCategory: "Removed",
    FieldsChanged: "",
    FileSystemPath: "/etc/a.conf",
    PreviousSize: "3",
    PreviousFileContentChecksum: "ab",
    PreviousDateModified: "2026-01-01T00:00:00.000Z",
    PreviousAcls: "user::rw-,group::r--,other::r--",
  });
  assert.equal(r.extra.Mode, "0644");
  assert.equal(changeStream(registrySpec), "CONFIG_CHANGE_BLOB");
  assert.equal(changeStream(filesSpec), "CONFIG_CHANGE_BLOB_V2");
});

Deno.test("changeRecord() of a Removed package says its last version in Previous; an Added one in Current", () => {
  const ctx = { dataType: "Software", computer: "h", at, currentField: "CurrentVersion" };
  const item = { SoftwareName: "a", CurrentVersion: "1.0", Publisher: "p", SoftwareType: "Package", Size: 7 };
  const removed = changeRecord({ key: "a", category: "Removed", fieldsChanged: [], previous: item }, ctx);
  assert.deepEqual([
    removed.la!.Previous,
    removed.la!.Current,
    removed.la!.Publisher,
    removed.la!.PreviousSize,
  ], [
    "1.0",
    undefined,
    undefined,
    "7",
  ]);
  const added = changeRecord({ key: "a", category: "Added", fieldsChanged: [], current: item }, ctx);
  assert.deepEqual([added.la!.Current, added.la!.Previous, added.la!.Publisher, added.la!.SoftwareType], [
    "1.0",
    undefined,
    "p",
    "Package",
  ]);
});

Deno.test("inventoryRecord() is a flat ConfigurationData record without nulls; what the table lacks is in extra", () => {
  const r = inventoryRecord({ SoftwareName: "a", CurrentVersion: "1", Size: null, Ok: true, error: "x" }, {
    dataType: "Software",
    computer: "h",
    at,
  });
  assert.deepEqual(keys(r.la), [
    "Computer",
    "ConfigDataType",
    "CurrentVersion",
    "SoftwareName",
    "TimeGenerated",
  ]);
  for (const k of keys(r.la)) assert.ok(DATA_COLUMNS.has(k), k);
  assert.deepEqual(keys(r.extra), ["Ok", "RecordId"]);
  assert.equal(r.extra.Ok, "true");
});

Deno.test("inventoryRecord() of a collector not for AMA has only the extra part", () => {
  const r = inventoryRecord({ SoftwareName: "a" }, { dataType: "Tasks", computer: "h", at, toAma: false });
  assert.equal(r.la, null);
  assert.deepEqual(keys(r.extra), [
    "Computer",
    "ConfigDataType",
    "RecordId",
    "SoftwareName",
    "TimeGenerated",
  ]);
});

Deno.test("inventoryHead() and inventoryBody() make the text of inventoryRecord()", () => {
  const ctx = { dataType: "Software", computer: "h", at };
  const item = { SoftwareName: "a", Manager: "dpkg" };
  const r = inventoryRecord(item, ctx);
  const head = inventoryHead(ctx);
  const body = inventoryBody(item, { dataType: "Software", toAma: true, extras: true });
  assert.equal(`{${head.la},${body.la}}`, JSON.stringify(r.la));
  assert.equal(`{"RecordId":"${r.extra.RecordId}",${body.extra}}`, JSON.stringify(r.extra));
  assert.equal(inventoryBody(item, { dataType: "Software", toAma: true, extras: false }).extra, null);
});

Deno.test("changeRecord() of a Removed item of a collector not for AMA keeps every last value under its own name", () => {
  const previous = { Name: "bob", Id: 1001, Home: "/home/bob", Size: 3, Admin: false };
  const r = changeRecord({ key: "user:bob", category: "Removed", fieldsChanged: [], previous }, {
    dataType: "Users",
    computer: "h",
    at,
    toAma: false,
  });
  assert.equal(r.la, null);
  assert.equal(r.extra.ChangeCategory, "Removed");
  // Table columns (Name, Size) are not emptied or moved to Previous… columns: no table takes this record.
  assert.deepEqual(
    [r.extra.Name, r.extra.Id, r.extra.Home, r.extra.Size, r.extra.Admin, r.extra.PreviousSize],
    ["bob", "1001", "/home/bob", "3", "false", undefined],
  );
});

Deno.test("inventoryTableText() is the table part inventoryHead() and inventoryBody() make, or undefined", () => {
  const ctx = { dataType: "Files", computer: "h", at };
  const head = inventoryHead(ctx);
  const headObject = JSON.parse(`{${head.la}}`);
  const joined = (item: Item) => {
    const body = inventoryBody(item, { dataType: "Files", toAma: true, extras: false }).la!;
    return inventoryRecordText(head, body, null, "").record;
  };
  const items: Item[] = [
    ...hostileItems().map((i) => JSON.parse(i.json) as Item),
    fileItem("/f", { Owner: "😀", Group: "a\u0000b", Size: 12, Mode: "0644", extraField: "x" }),
    fileItem("/e", { error: "unreadable" }),
    // Nothing for the table but the head, or fields no column has.
    {},
    { only: "ours", 7: "integer-like" },
  ];
  let made = 0;
  for (const item of items) {
    const text = inventoryTableText(item, headObject, "Files");
    assert.equal(text, joined(item), JSON.stringify(item));
    made++;
  }
  assert.ok(made > 10);
  // A field with a head member's name: the joined text has it twice; not made here.
  for (const name of ["Computer", "TimeGenerated", "ConfigDataType"]) {
    assert.equal(
      inventoryTableText({ FileSystemPath: "/x", [name]: "v" }, headObject, "Files"),
      undefined,
      name,
    );
  }
});
