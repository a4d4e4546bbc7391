import assert from "node:assert/strict";
import { liveHost } from "../../host/mod.ts";
import { loadAccounts } from "../../host/accounts.ts";
import { encodeTaskFile, taskXml } from "../../service/windows_task.ts";
import { decodeTaskFile, parseTaskXml, taskScheduler } from "./task_scheduler.ts";
import { buildTree } from "./testdata/tree.ts";
import { DEFRAG, LOGON_SCRIPT, TELEMETRY } from "./testdata/tasks.ts";

Deno.test("decodeTaskFile() reads UTF-16 with and without its mark, and UTF-8 (as Wine writes them)", () => {
  const text = "<Task>é</Task>";
  const le = encodeTaskFile(text);
  assert.equal(decodeTaskFile(le), text);
  assert.equal(decodeTaskFile(le.subarray(2)), text);
  const be = new Uint8Array(le.length);
  for (let i = 0; i < le.length; i += 2) [be[i], be[i + 1]] = [le[i + 1], le[i]];
  assert.equal(decodeTaskFile(be), text);
  assert.equal(decodeTaskFile(new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(text)])), text);
  assert.equal(decodeTaskFile(new TextEncoder().encode(text)), text);
});

Deno.test("parseTaskXml() reads author, triggers, actions (program and COM handler), principal, enabled, hidden", () => {
  assert.deepEqual(parseTaskXml(DEFRAG), {
    author: "$(@%systemroot%\\system32\\sc.exe,-2)",
    description: "$(@%systemroot%\\system32\\defragsvc.dll,-801)",
    enabled: true,
    hidden: false,
    runAs: "S-1-5-18",
    runLevel: "HighestAvailable",
    triggers: [],
    actions: ["%windir%\\system32\\defrag.exe -c -h -o -$"],
  });
  const t = parseTaskXml(TELEMETRY);
  assert.deepEqual([t.enabled, t.hidden, t.runAs], [false, true, "S-1-5-19"]);
  assert.deepEqual(t.triggers, [
    "Calendar StartBoundary=2008-01-01T03:00:00, Enabled=true, ScheduleByDay.DaysInterval=1",
    "Boot Delay=PT10M, Repetition.Interval=PT1H, Repetition.Duration=P1D",
  ]);
  assert.deepEqual(t.actions, [
    "COM handler {47E30D54-DAC1-473A-AFF7-2355BF78881F} (data: <Data>run</Data>)",
  ]);
  const l = parseTaskXml(LOGON_SCRIPT);
  assert.deepEqual([l.runAs, l.triggers, l.actions], [
    "Users",
    ["Logon UserId=CONTOSO\\alice"],
    ["C:\\Users\\Public\\update.cmd /quiet"],
  ]);
  assert.throws(() => parseTaskXml("<Job/>"), /its root is <Job>/);
});

Deno.test("parseTaskXml() reads ctagent's own boot task as `ctagent service install` writes it", () => {
  const xml = decodeTaskFile(
    encodeTaskFile(taskXml({
      command: "C:\\Program Files\\ctagent\\ctagent.exe",
      args: ["--data-dir", "C:\\ProgramData\\ctagent"],
      workingDirectory: "C:\\ProgramData\\ctagent",
      version: "1.2.3",
    })),
  );
  const t = parseTaskXml(xml);
  assert.deepEqual([t.runAs, t.runLevel, t.enabled, t.hidden], ["S-1-5-18", "HighestAvailable", true, false]);
  assert.deepEqual(t.triggers, [
    "Boot Enabled=true",
    "Time Repetition.Interval=PT5M, Repetition.StopAtDurationEnd=false, StartBoundary=2000-01-01T00:00:00, Enabled=true",
  ]);
  assert.deepEqual(t.actions, [
    "C:\\Program Files\\ctagent\\ctagent.exe --data-dir C:\\ProgramData\\ctagent",
  ]);
});

Deno.test("taskScheduler reads a Windows disk's task store under --root (any case), each task by its path", async () => {
  const root = buildTree({
    "/WINDOWS/system32/Tasks/Microsoft/Windows/Defrag/ScheduledDefrag": { data: encodeTaskFile(DEFRAG) },
    "/WINDOWS/system32/Tasks/Microsoft/Windows/Telemetry/Run": { data: encodeTaskFile(TELEMETRY) },
    "/WINDOWS/system32/Tasks/Update Script": { data: encodeTaskFile(LOGON_SCRIPT).subarray(2) },
    "/WINDOWS/system32/Tasks/Damaged": { data: encodeTaskFile("<Task><Actions>") },
  });
  try {
    const host = liveHost({ root, os: "windows" });
    const r = await taskScheduler.read({
      host,
      signal: new AbortController().signal,
      accounts: () => loadAccounts(host),
    });
    assert.deepEqual(r.items.map((i) => [i.Task, i.User, i.Enabled, i.Hidden, i.error ?? null]), [
      [
        "\\Damaged",
        null,
        false,
        undefined,
        "/WINDOWS/system32/Tasks/Damaged: Cannot parse XML: line 1: <Actions> is never closed",
      ],
      ["\\Microsoft\\Windows\\Defrag\\ScheduledDefrag", "S-1-5-18", true, false, null],
      ["\\Microsoft\\Windows\\Telemetry\\Run", "S-1-5-19", false, true, null],
      ["\\Update Script", "Users", true, false, null],
    ]);
    assert.equal(r.items[3].Source, "/WINDOWS/system32/Tasks/Update Script");
    assert.equal(r.items[2].Reason, "it is disabled in its settings");
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("taskScheduler keeps a folder it cannot list unseen, and says why", async () => {
  const root = buildTree({
    "/Windows/System32/Tasks/Locked/T": { data: encodeTaskFile(DEFRAG) },
    "/Windows/System32/Tasks/Open": { data: encodeTaskFile(DEFRAG) },
  });
  try {
    const live = liveHost({ root, os: "windows" });
    const host = {
      ...live,
      readDirSync: (p: string) => {
        if (p.endsWith("/Locked")) throw Object.assign(new Error(`EACCES: ${p}`), { code: "EACCES" });
        return live.readDirSync(p);
      },
    };
    const r = await taskScheduler.read({
      host,
      signal: new AbortController().signal,
      accounts: () => loadAccounts(host),
    });
    assert.deepEqual([r.items.map((i) => i.Task), r.unseen], [["\\Open"], ["task \\Locked\\"]]);
    assert.match(r.warnings[0], /cannot list \/Windows\/System32\/Tasks\/Locked: EACCES/);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
