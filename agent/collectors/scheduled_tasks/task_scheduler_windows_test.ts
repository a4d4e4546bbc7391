// Windows Task Scheduler for real (Windows Deno, natively or under Wine): tasks made with `schtasks /create`
// are read from the live task store, and one more task is exactly one Added through `ctagent --once`.
import assert from "node:assert/strict";
import { named, onceJson, SKIP } from "../../../test/windows/seed.ts";
import { encodeTaskFile } from "../../service/windows_task.ts";
import { liveHost } from "../../host/mod.ts";
import { memoryLogger } from "../../log.ts";
import { settingsSchema } from "../../config/dcr.ts";
import collector from "./mod.ts";
import { dcrCollectorsOnly } from "../../../test/helpers.ts";
import { decodeTaskFile, parseTaskXml } from "./task_scheduler.ts";
import { TELEMETRY } from "./testdata/tasks.ts";

const FOLDER = "ctagent_t";

/**
 * `schtasks ARGS`, its words kept in a file: under Wine the first schtasks of a prefix can leave a process
 * behind (the task service, the desktop) that holds a pipe given to it open, so reading pipes to their end
 * would wait forever; the file is read once schtasks has exited.
 */
async function schtasks(args: string[], allowFail = false): Promise<void> {
  const said = await Deno.makeTempFile({ suffix: ".txt" });
  try {
    const { code } = await new Deno.Command("cmd", {
      args: ["/c", "schtasks", ...args, ">", said, "2>&1"],
      stdout: "null",
      stderr: "null",
    }).output();
    if (code !== 0 && !allowFail) {
      throw new Error(`schtasks ${args.join(" ")} failed (${code}): ${await Deno.readTextFile(said)}`);
    }
  } finally {
    await Deno.remove(said);
  }
}

/** Registers `xml` as `\ctagent_t\NAME` the way an administrator does: schtasks /create /xml. */
async function create(name: string, xml: string): Promise<void> {
  const file = await Deno.makeTempFile({ suffix: ".xml" });
  await Deno.writeFile(file, encodeTaskFile(xml));
  try {
    await schtasks(["/create", "/tn", `${FOLDER}\\${name}`, "/xml", file, "/f"]);
  } finally {
    await Deno.remove(file);
  }
}

const NIGHTLY = TELEMETRY.replace("<Author>Contoso</Author>", "<Author>ctagent test</Author>")
  .replace(
    "<Enabled>false</Enabled>\n    <Hidden>true</Hidden>",
    "<Enabled>true</Enabled>\n    <Hidden>true</Hidden>",
  );

Deno.test({
  name: named(
    "the live task store lists tasks made with schtasks /create as the store keeps them; one more is one Added",
  ),
  ignore: !!SKIP,
  async fn() {
    for (const n of ["Nightly", "Second"]) await schtasks(["/delete", "/tn", `${FOLDER}\\${n}`, "/f"], true);
    const dir = await Deno.makeTempDir({ prefix: "ctagent-tasks-" });
    try {
      await create("Nightly", NIGHTLY);
      const store = `${Deno.env.get("SystemRoot") ?? "C:\\windows"}\\System32\\Tasks\\${FOLDER}\\Nightly`;
      // What the store holds: all of it on Windows; Wine 8 keeps registration info and settings only (its
      // taskschd drops triggers, principal and actions).
      const stored = parseTaskXml(decodeTaskFile(await Deno.readFile(store)));
      const { items } = await collector.collect(settingsSchema("windows").parse({}), {
        host: liveHost(),
        signal: new AbortController().signal,
        log: memoryLogger(),
      });
      const item = items.find((i) => i.Task === `\\${FOLDER}\\Nightly`);
      assert.ok(item, `the task is listed: ${JSON.stringify(items.map((i) => i.Task))}`);
      assert.deepEqual(
        [item.Kind, item.Author, item.Enabled, item.Hidden, item.Schedule, item.Command, item.User],
        [
          "task",
          "ctagent test",
          true,
          true,
          stored.triggers.join("; ") || null,
          stored.actions.join("; ") || null,
          stored.runAs,
        ],
      );
      if (stored.triggers.length) {
        // A real Windows keeps what schtasks was given.
        assert.match(item.Schedule!, /^Calendar StartBoundary=2008-01-01T03:00:00/);
        assert.match(item.Command!, /^COM handler \{47E30D54/);
      }

      const dcr = `${dir}\\dcr.json`;
      await Deno.writeTextFile(
        dcr,
        JSON.stringify({
          enableSoftware: false,
          enableServices: false,
          enableFiles: false,
          enableRegistry: false,
        }),
      );
      // Only this collector: the machine's listening ports (Wine lists the host's) open and close between runs.
      const only = dcrCollectorsOnly(dir, [collector.name]);
      const first = await onceJson(dcr, `${dir}\\data`, only);
      assert.equal(first.code, 0, first.stderr);
      await create("Second", NIGHTLY);
      const second = await onceJson(dcr, `${dir}\\data`, only);
      assert.deepEqual(second.json.changes.map((c) => [c.ChangeCategory, c.ConfigChangeType, c.Task]), [
        ["Added", "ScheduledTasks", `\\${FOLDER}\\Second`],
      ]);
    } finally {
      for (const n of ["Nightly", "Second"]) {
        await schtasks(["/delete", "/tn", `${FOLDER}\\${n}`, "/f"], true);
      }
      await Deno.remove(dir, { recursive: true });
    }
  },
});
