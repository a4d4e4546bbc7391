import assert from "node:assert/strict";
import { checkRecord } from "./record_check.ts";
import { startFakeAma } from "./fake_ama.ts";
import { encodeForward } from "../agent/ama/codec.ts";
import { connectUnix } from "../agent/ama/unix_socket.ts";

const V2 = "dcr-x:CTDataSource-Linux:CONFIG_CHANGE_BLOB_V2";
const DATA = "dcr-x:CTDataSource-Windows:CONFIG_DATA_BLOB_V2";
const base = { TimeGenerated: "2026-11-22T03:00:00.000Z", Computer: "host1" };

Deno.test("checkRecord() takes a record AMA's tables would take as it is", () => {
  assert.deepEqual(
    checkRecord(V2, {
      ...base,
      ConfigChangeType: "Daemons",
      ChangeCategory: "Modified",
      FieldsChanged: "SvcState, SvcStartupType",
      SvcName: "ssh",
      SvcState: "Running",
      SvcPreviousState: "Stopped",
      SvcStartupType: "enabled",
      SvcPreviousStartupType: "disabled",
      SvcChangeType: "State StartupType",
    }),
    [],
  );
  assert.deepEqual(
    checkRecord(DATA, { ...base, ConfigDataType: "WindowsServices", SvcName: "a", SvcStartupType: "Manual" }),
    [],
  );
});

Deno.test("checkRecord() names an unknown column, an ingestion column, a value outside a documented set, a bad long", () => {
  const problems = checkRecord(V2, {
    ...base,
    ConfigChangeType: "Software.Packages",
    ChangeCategory: "Changed",
    SoftwareName: "a",
    SoftwareType: "Library",
    Manager: "dpkg",
    RecordId: "1",
    _ResourceId: "/x",
    CurrentVersion: "1",
    Size: "12 KB",
  });
  for (
    const want of [
      /^Manager: not a column of ConfigurationChange/,
      /^RecordId: not a column/,
      /^CurrentVersion: not a column of ConfigurationChange/,
      /^_ResourceId: set by the ingestion pipeline/,
      /^SoftwareType="Library": not one of Application, Package, Update/,
      /^ConfigChangeType="Software.Packages": not one of/,
      /^ChangeCategory="Changed": not one of Added, Removed, Modified/,
      /^Size="12 KB": not a long/,
    ]
  ) assert.ok(problems.some((p) => want.test(p)), `${want} in ${problems.join("; ")}`);
});

Deno.test("checkRecord() names a malformed SvcChangeType, Windows startup types outside Auto/Manual/Disabled, and SvcState outside Running/Stopped", () => {
  const rec = (o: Record<string, string>) => ({
    ...base,
    ConfigChangeType: "WindowsServices",
    ChangeCategory: "Modified",
    FieldsChanged: "SvcState",
    SvcName: "a",
    ...o,
  });
  assert.match(
    checkRecord(V2, rec({ SvcChangeType: "State, StartupType" })).join(";"),
    /SvcChangeType.*a word/,
  );
  assert.match(checkRecord(V2, rec({ SvcChangeType: "StartupType State" })).join(";"), /not in the order/);
  assert.match(checkRecord(V2, rec({ SvcChangeType: "ExecStart" })).join(";"), /a word is not one of/);
  assert.match(checkRecord(V2, rec({})).join(";"), /SvcChangeType: missing/);
  assert.match(
    checkRecord(V2, rec({ SvcChangeType: "State", SvcStartupType: "Auto (Delayed)" })).join(";"),
    /SvcStartupType="Auto \(Delayed\)": not one of Auto, Manual, Disabled/,
  );
  assert.match(
    checkRecord(V2, rec({ SvcChangeType: "State", SvcState: "Paused" })).join(";"),
    /SvcState="Paused"/,
  );
});

Deno.test("checkRecord() names current values on a Removed row, previous ones on an Added row, and a non-short Computer", () => {
  const removed = checkRecord(V2, {
    ...base,
    Computer: "host1.example.org",
    ConfigChangeType: "Files",
    ChangeCategory: "Removed",
    FileSystemPath: "/etc/a",
    Size: "3",
    PreviousSize: "3",
  });
  assert.ok(removed.some((p) => /^Size="3": a current value on a Removed row/.test(p)), removed.join("; "));
  assert.ok(removed.some((p) => /^Computer=.*not a short host name/.test(p)));
  assert.ok(!removed.some((p) => p.startsWith("PreviousSize")));
  const added = checkRecord(V2, {
    ...base,
    ConfigChangeType: "Files",
    ChangeCategory: "Added",
    FileSystemPath: "/etc/a",
    PreviousSize: "3",
  });
  assert.ok(
    added.some((p) => /^PreviousSize="3": a previous value on an Added row/.test(p)),
    added.join("; "),
  );
  assert.match(
    checkRecord("dcr-x:CTDataSource-Linux:CONFIG_CHANGE_BLOB", {
      ...base,
      ConfigChangeType: "Files",
      ChangeCategory: "Added",
      FileSystemPath: "/a",
    }).join(),
    /does not go to CONFIG_CHANGE_BLOB/,
  );
});

Deno.test("the fake AMA fails a test that sends it a record its tables would not take", async () => {
  const ama = await startFakeAma({ config: false });
  const path = ama.dataEndpoints[0].replace(/^@/, "\0");
  const sock = await connectUnix(path);
  sock.write(encodeForward(V2, [[1_700_000_000, { ...base, ConfigChangeType: "Files", Mode: "0644" }]]));
  await assert.rejects(
    ama.waitFor(1),
    /records AMA would not take:\n.*Mode: not a column of ConfigurationChange/,
  );
  sock.destroy();
  await assert.rejects(ama.close(), /2 problem\(s\) in records AMA would not take/);
});
