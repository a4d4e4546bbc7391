// The wire under Windows Deno: registry values and Windows services added, modified, removed reach the fake AMA
// on its named pipes as rows of the Log Analytics tables (SPEC §2.3, §7.15–7.20), every column checked.
import assert from "node:assert/strict";
import { named, regImport, REPO, sc, setStartType, SKIP } from "./seed.ts";
import { withRunValuesBlanked } from "../record_check.ts";

const FAKE = new URL("../fake_ama.ts", import.meta.url);
const tag = crypto.randomUUID().slice(0, 8);
const KEY = `HKEY_LOCAL_MACHINE\\Software\\CtagentWire${tag}`;
const SVC = [`CtagentWireMod${tag}`, `CtagentWireGone${tag}`, `CtagentWireNew${tag}`];

type Rec = Record<string, string>;
interface Event {
  tag: string;
  record: Rec;
}
interface Row {
  stream: string;
  rec: Rec;
}

async function once(dataDir: string, configPipe: string): Promise<number> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-lock",
      "main.ts",
      "--once",
      "--data-dir",
      dataDir,
      "--no-ui",
      "--ama-config",
      configPipe,
    ],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assert.ok(out.code <= 7, `--once exit ${out.code}: ${err}`);
  assert.equal(err, "", "everything delivered");
  return out.code;
}

/** The rows about this test's key and services, TimeGenerated and LastSnapshotAge checked and blanked. */
function ours(events: Event[]): Row[] {
  return events.filter((e) => e.record.RegistryKey === KEY || SVC.includes(e.record.SvcName)).map((e) => ({
    stream: e.tag.slice(e.tag.lastIndexOf(":") + 1),
    rec: withRunValuesBlanked(e.record),
  })).sort((a, b) => {
    const k = (r: Row) => `${r.stream} ${r.rec.ChangeCategory ?? ""} ${r.rec.ValueName ?? r.rec.SvcName}`;
    return k(a) < k(b) ? -1 : k(a) > k(b) ? 1 : 0;
  });
}

Deno.test({
  name: named(
    "wire on Windows: registry values and services added, modified, removed arrive as the real agent's rows",
  ),
  ignore: !!SKIP,
  async fn() {
    const { startFakeAma } = await import(FAKE.href);
    const config = `\\\\.\\pipe\\ctagent-wire-${tag}-config`;
    const ama = await startFakeAma({
      os: "windows",
      config,
      settings: {
        enableFiles: false,
        enableSoftware: false,
        enableServices: true,
        enableRegistry: true,
        enableInventory: true,
        registrySettings: {
          registryCollectionFrequency: 60,
          registryInfo: [{ name: "wire", enabled: true, recurse: true, keyName: KEY, valueName: "" }],
        },
      },
    });
    const dir = await Deno.makeTempDir({ prefix: "ctagent-wire-" });
    // What Windows itself calls the machine; Computer is the host name up to its first dot (SPEC §7.20).
    const computer = Deno.env.get("COMPUTERNAME")!;
    const head = { TimeGenerated: "<time>" };
    const upper = (rows: Row[]) =>
      rows.map((r) => ({ ...r, rec: { ...r.rec, Computer: r.rec.Computer?.toUpperCase() } }));
    const row = (stream: string, rec: Rec): Row => ({
      stream,
      rec: { ...head, Computer: computer.toUpperCase(), ...rec },
    });
    const value = (name: string, data: string, type: string) => ({
      Hive: "HKEY_LOCAL_MACHINE",
      RegistryKey: KEY,
      ValueName: name,
      ValueData: data,
      ValueType: type,
    });
    const service = (name: string, startup: string) => ({
      SvcName: name,
      SvcDisplayName: `${name} shown`,
      SvcState: "Stopped",
      SvcStartupType: startup,
      SvcAccount: "LocalSystem",
      SvcPath: `C:\\ctagent\\${name}.exe --serve`,
    });
    const create = (name: string, start: string) =>
      sc([
        "create",
        name,
        "binPath=",
        `C:\\ctagent\\${name}.exe --serve`,
        "start=",
        start,
        "DisplayName=",
        `${name} shown`,
      ]);
    try {
      await regImport(`[${KEY}]\n"Keep"="kept"\n"Change"=dword:00000001\n"Drop"="bye"\n`);
      await create(SVC[0], "demand");
      await create(SVC[1], "auto");
      await sc(["description", SVC[0], "Modified by the wire test"]);

      let before = ama.received.length;
      assert.equal(await once(`${dir}\\data`, config), 0);
      await ama.waitFor(() => ours(ama.received.slice(before)).length >= 5, 20_000);
      assert.deepEqual(
        upper(ours(ama.received.slice(before))),
        [
          row("CONFIG_DATA_BLOB_V2", { ConfigDataType: "Registry", ...value("Change", "1", "REG_DWORD") }),
          row("CONFIG_DATA_BLOB_V2", { ConfigDataType: "Registry", ...value("Drop", "bye", "REG_SZ") }),
          row("CONFIG_DATA_BLOB_V2", { ConfigDataType: "Registry", ...value("Keep", "kept", "REG_SZ") }),
          row("CONFIG_DATA_BLOB_V2", {
            ConfigDataType: "WindowsServices",
            ...service(SVC[1], "Auto"),
            SvcDescription: "",
          }),
          row("CONFIG_DATA_BLOB_V2", {
            ConfigDataType: "WindowsServices",
            ...service(SVC[0], "Manual"),
            SvcDescription: "Modified by the wire test",
          }),
        ].sort((a, b) => {
          const k = (r: Row) => `${r.stream}  ${r.rec.ValueName ?? r.rec.SvcName}`;
          return k(a) < k(b) ? -1 : k(a) > k(b) ? 1 : 0;
        }),
      );

      await regImport(`[${KEY}]\n"Change"=dword:00000002\n"Drop"=-\n"New"="added"\n`);
      setStartType(SVC[0], 4);
      await sc(["delete", SVC[1]]);
      await create(SVC[2], "demand");
      before = ama.received.length;
      assert.equal(await once(`${dir}\\data`, config), 1 | 2 | 4);
      await ama.waitFor(() => ours(ama.received.slice(before)).length >= 10, 20_000);
      await new Promise((r) => setTimeout(r, 200));
      const got = upper(ours(ama.received.slice(before)));
      const change = (stream: string, rec: Rec) => row(stream, rec);
      assert.deepEqual(
        got,
        [
          // Registry changes on CONFIG_CHANGE_BLOB (SPEC §7.8).
          change("CONFIG_CHANGE_BLOB", {
            ConfigChangeType: "Registry",
            ChangeCategory: "Added",
            FieldsChanged: "",
            ...value("New", "added", "REG_SZ"),
          }),
          change("CONFIG_CHANGE_BLOB", {
            ConfigChangeType: "Registry",
            ChangeCategory: "Modified",
            FieldsChanged: "ValueData",
            LastSnapshotAge: "<age>",
            Current: JSON.stringify({ ValueData: "2" }),
            Previous: JSON.stringify({ ValueData: "1" }),
            PreviousValueData: "1",
            ...value("Change", "2", "REG_DWORD"),
          }),
          change("CONFIG_CHANGE_BLOB", {
            ConfigChangeType: "Registry",
            ChangeCategory: "Removed",
            FieldsChanged: "",
            LastSnapshotAge: "<age>",
            Hive: "HKEY_LOCAL_MACHINE",
            RegistryKey: KEY,
            ValueName: "Drop",
            PreviousValueData: "bye",
            PreviousValueType: "REG_SZ",
          }),
          change("CONFIG_CHANGE_BLOB_V2", {
            ConfigChangeType: "WindowsServices",
            ChangeCategory: "Added",
            FieldsChanged: "",
            ...service(SVC[2], "Manual"),
          }),
          change("CONFIG_CHANGE_BLOB_V2", {
            ConfigChangeType: "WindowsServices",
            ChangeCategory: "Modified",
            FieldsChanged: "SvcStartupType",
            LastSnapshotAge: "<age>",
            Current: JSON.stringify({ SvcStartupType: "Disabled" }),
            Previous: JSON.stringify({ SvcStartupType: "Manual" }),
            SvcChangeType: "StartupType",
            SvcPreviousStartupType: "Manual",
            ...service(SVC[0], "Disabled"),
          }),
          change("CONFIG_CHANGE_BLOB_V2", {
            ConfigChangeType: "WindowsServices",
            ChangeCategory: "Removed",
            FieldsChanged: "",
            LastSnapshotAge: "<age>",
            SvcName: SVC[1],
            SvcPreviousState: "Stopped",
            SvcPreviousStartupType: "Auto",
            SvcPreviousAccount: "LocalSystem",
            SvcPreviousPath: `C:\\ctagent\\${SVC[1]}.exe --serve`,
          }),
          row("CONFIG_DATA_BLOB_V2", { ConfigDataType: "Registry", ...value("Change", "2", "REG_DWORD") }),
          row("CONFIG_DATA_BLOB_V2", { ConfigDataType: "Registry", ...value("New", "added", "REG_SZ") }),
          row("CONFIG_DATA_BLOB_V2", {
            ConfigDataType: "WindowsServices",
            ...service(SVC[0], "Disabled"),
            SvcDescription: "Modified by the wire test",
          }),
          row("CONFIG_DATA_BLOB_V2", {
            ConfigDataType: "WindowsServices",
            ...service(SVC[2], "Manual"),
            SvcDescription: "",
          }),
        ].sort((a, b) => {
          const k = (r: Row) =>
            `${r.stream} ${r.rec.ChangeCategory ?? ""} ${r.rec.ValueName ?? r.rec.SvcName}`;
          return k(a) < k(b) ? -1 : k(a) > k(b) ? 1 : 0;
        }),
      );
      assert.deepEqual(ama.violations, [], "every row of the run (Wine's own services too) is one AMA takes");
    } finally {
      await ama.close();
      for (const n of SVC) await sc(["delete", n], true);
      await regImport(`[-${KEY}]`);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
