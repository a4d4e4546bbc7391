import assert from "node:assert/strict";
import { liveHost } from "../../host/mod.ts";
import { memoryLogger } from "../../log.ts";
import { settingsSchema } from "../../config/dcr.ts";
import { dataTypeOf, scheduleOf } from "../spec.ts";
import { collectorNamed } from "../mod.ts";
import { dcrCollectorsOnly, onlyDcr, runCli, withTempDir } from "../../../test/helpers.ts";
import collector, { uniqueTasks } from "./mod.ts";
import type { TaskItem } from "./types.ts";
import { addNode, buildTree } from "./testdata/tree.ts";
import { CRON_FORMS, LINUX_TREE } from "./testdata/linux_tree.ts";
import { inNamespace, namespaceMissing } from "./testdata/machine.ts";

const settings = settingsSchema("linux").parse({});
const collect = (root: string) =>
  collector.collect(settings, {
    host: liveHost({ root }),
    signal: new AbortController().signal,
    log: memoryLogger(),
  });

Deno.test("the scheduled_tasks spec: on by ctagent's own settings every 300 s, never on AMA's streams", () => {
  assert.equal(collectorNamed("scheduled_tasks"), collector);
  assert.equal(collector.toAma, false);
  assert.equal(dataTypeOf(collector, "linux"), "ScheduledTasks");
  assert.equal(dataTypeOf(collector, "windows"), "ScheduledTasks");
  assert.deepEqual(scheduleOf(collector, settings), { enabled: true, frequency: 300 });
  assert.deepEqual(scheduleOf(collector, settings, { scheduledTasks: { enabled: false, frequency: 60 } }), {
    enabled: false,
    frequency: 60,
  });
});

Deno.test("uniqueTasks() numbers the repeats of a key, so that no task hides another", () => {
  const t = (Task: string) => ({ Task, Kind: "cron" }) as TaskItem;
  assert.deepEqual(
    uniqueTasks([t("/etc/crontab: x"), t("/etc/crontab: x"), t("/etc/crontab: x (2)")]).map((i) => i.Task),
    [
      "/etc/crontab: x",
      "/etc/crontab: x (2)",
      "/etc/crontab: x (2) (2)",
    ],
  );
});

Deno.test("the collector reads every kind from a machine tree, each cron form as cron reads it, keys unique", async () => {
  const root = buildTree(LINUX_TREE);
  try {
    const { items, unseen, warnings } = await collect(root);
    assert.deepEqual([unseen, warnings], [[], []]);
    const kinds = items.reduce((m, i) => m.set(i.Kind, (m.get(i.Kind) ?? 0) + 1), new Map<string, number>());
    assert.deepEqual(Object.fromEntries(kinds), {
      cron: CRON_FORMS.length + 1 + 1 + 2 + 1, // crontab, backup, dpkg-dist, broken (a job and an error), alice
      anacron: 2,
      "run-parts": 2,
      timer: 1,
      at: 1,
    });
    assert.equal(new Set(items.map((i) => collector.key(i))).size, items.length);
    const etc = items.filter((i) => i.Source === "/etc/crontab");
    assert.deepEqual(etc.map((i) => [i.Schedule, i.When]), CRON_FORMS.map(([f, w]) => [f, w]));
    assert.ok(
      etc.every((i) => i.User === "root" && i.Environment === "SHELL=/bin/sh\nMAILTO=ops@example.com"),
    );
    const by = new Map(items.map((i) => [i.Task, i]));
    assert.equal(by.get("/etc/crontab: /usr/local/bin/form-12")!.Reason, "its times never come");
    assert.equal(
      by.get("/etc/cron.d/broken: /bin/fine")!.Reason,
      "cron ignores /etc/cron.d/broken: line 2: bad hour",
    );
    assert.equal(by.get("/etc/cron.d/broken: 0 25 * * * root /bin/bad-hour")!.error, "line 2: bad hour");
    const at = items.find((i) => i.Kind === "at")!;
    assert.deepEqual([at.Task, at.User, at.Command, at.Schedule], [
      "at job 10",
      "alice",
      "shutdown -r now",
      "2026-01-01T00:00:00Z",
    ]);
    assert.deepEqual(
      by.get("/etc/cron.weekly/notes.txt")!.Reason,
      "run-parts skips file names other than [A-Za-z0-9_-]",
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

type Rec = Record<string, string>;
/** `ctagent --once --json` over the tree, the DCR's four collectors off: only scheduled tasks run. */
async function once(dir: string, root: string, extra: string[] = []) {
  await Deno.writeTextFile(`${dir}/dcr.json`, onlyDcr([]));
  const r = await runCli([
    "--once",
    "--json",
    "--root",
    root,
    "--dcr",
    `${dir}/dcr.json`,
    "--data-dir",
    `${dir}/data`,
    ...extra,
  ]);
  if (!r.out.startsWith("{")) throw new Error(`--once --json printed no JSON (exit ${r.code}): ${r.err}`);
  return JSON.parse(r.out) as { changes: Rec[]; inventory: Record<string, Rec[]>; skipped: Rec[] };
}

Deno.test("--once --root: a cron line, a timer or a script added is exactly one Added; a schedule changed one Modified", () =>
  withTempDir(async (dir) => {
    const root = buildTree(LINUX_TREE);
    try {
      const first = await once(dir, root);
      assert.equal(first.changes.length, 0, "the first run is a baseline");
      assert.equal(first.inventory.scheduled_tasks.length, CRON_FORMS.length + 11);
      assert.ok(first.inventory.scheduled_tasks.every((r) => r.ConfigDataType === "ScheduledTasks"));

      // A line added above the others moves them (Line is never a change) and is one Added.
      const etc = Deno.readTextFileSync(`${root}/etc/crontab`).replace(
        "SHELL=",
        "@reboot root /tmp/.x/persist\nSHELL=",
      );
      addNode(root, "/etc/crontab", etc);
      let run = await once(dir, root);
      assert.deepEqual(run.changes.map((c) => [c.ChangeCategory, c.ConfigChangeType, c.Task]), [
        ["Added", "ScheduledTasks", "/etc/crontab: /tmp/.x/persist"],
      ]);

      addNode(
        root,
        "/lib/systemd/system/sync.timer",
        "[Timer]\nOnBootSec=1min\n[Install]\nWantedBy=timers.target\n",
      );
      addNode(root, "/lib/systemd/system/sync.service", "[Service]\nExecStart=/usr/bin/rsync -a /a /b\n");
      addNode(root, "/etc/systemd/system/timers.target.wants/sync.timer", {
        link: "../../../../lib/systemd/system/sync.timer",
      });
      run = await once(dir, root);
      assert.deepEqual(run.changes.map((c) => [c.ChangeCategory, c.Task, c.Command, c.Enabled]), [
        ["Added", "sync.timer", "/usr/bin/rsync -a /a /b", "true"],
      ]);

      addNode(root, "/etc/cron.hourly/miner", { data: "#!/bin/sh\n/tmp/m\n", mode: 0o755 });
      run = await once(dir, root);
      assert.deepEqual(run.changes.map((c) => [c.ChangeCategory, c.Task]), [[
        "Added",
        "/etc/cron.hourly/miner",
      ]]);

      addNode(
        root,
        "/etc/cron.d/backup",
        "PATH=/usr/bin:/bin\n45 2 * * * alice /home/alice/bin/backup --all\n",
      );
      run = await once(dir, root);
      assert.deepEqual(run.changes.map((c) => [c.ChangeCategory, c.Task, c.FieldsChanged]), [
        ["Modified", "/etc/cron.d/backup: /home/alice/bin/backup --all", "Schedule, When"],
      ]);

      // Off by ctagent's own settings: skipped, and nothing is reported removed.
      await Deno.writeTextFile(
        `${dir}/config.json`,
        JSON.stringify({ collectors: { scheduledTasks: { enabled: false } } }),
      );
      run = await once(dir, root, ["--config", `${dir}/config.json`]);
      assert.deepEqual(run.skipped.filter((k) => k.collector === "scheduled_tasks"), [
        { collector: "scheduled_tasks", reason: "disabled by ctagent's settings" },
      ]);
      assert.equal(run.changes.length, 0);
    } finally {
      Deno.removeSync(root, { recursive: true });
    }
  }));

// ---- this machine, in a private mount namespace: crontab(1) writes, `crontab -l -u` is the oracle -----------
const MISSING = namespaceMissing(["crontab"]);
if (MISSING) console.warn(`mod_test.ts: SKIPPED the comparison with crontab -l -u: ${MISSING}`);

Deno.test({
  name:
    "on this machine the cron jobs equal `crontab -l -u` of every user, and a line added with crontab(1) is one Added",
  ignore: MISSING !== null,
  fn: () =>
    withTempDir(async (dir) => {
      Deno.chmodSync(dir, 0o755);
      const main = new URL("../../../main.ts", import.meta.url).pathname;
      await Deno.writeTextFile(`${dir}/dcr.json`, onlyDcr([]));
      await Deno.writeTextFile(
        `${dir}/root.tab`,
        "MAILTO=root\n0 4 * * * /usr/local/sbin/rotate-keys\n@reboot /root/start.sh\n",
      );
      await Deno.writeTextFile(`${dir}/daemon.tab`, "*/10 * * * * /usr/bin/true\n");
      await Deno.writeTextFile(
        `${dir}/daemon2.tab`,
        "*/10 * * * * /usr/bin/true\n30 5 * * 1-5 /usr/bin/report\n",
      );
      // Only this collector: the machine's listening ports (and the like) may change between the two runs.
      const only = dcrCollectorsOnly(dir, [collector.name]).map((a) => `"${a}"`).join(" ");
      const once =
        `"${Deno.execPath()}" run -A --no-lock "${main}" --once --json --no-ama --dcr "${dir}/dcr.json" --data-dir "${dir}/data" ${only}`;
      const out = inNamespace(
        `crontab -u root "${dir}/root.tab" && crontab -u daemon "${dir}/daemon.tab" || exit 9
for u in $(cut -d: -f1 /etc/passwd); do echo "@@USER $u"; crontab -l -u "$u" 2>/dev/null; done
echo "@@FIRST"; ${once}
crontab -u daemon "${dir}/daemon2.tab" || exit 9
echo "@@SECOND"; ${once}
exit 0
`,
      );
      const [users, first, second] = [
        out.slice(0, out.indexOf("@@FIRST")),
        out.slice(out.indexOf("@@FIRST\n") + 8, out.indexOf("@@SECOND")),
        out.slice(out.indexOf("@@SECOND\n") + 9),
      ];
      // crontab -l: each user's lines that are jobs, against the items of their spool file.
      const theirs = users.split("@@USER ").slice(1).flatMap((block) => {
        const [user, ...lines] = block.split("\n");
        return lines.filter((l) => /^[@*0-9]/.test(l)).map((l) => `${user} ${l}`);
      }).sort();
      const inventory = (JSON.parse(first).inventory.scheduled_tasks as Rec[]).filter((r) =>
        r.Source.startsWith("/var/spool/cron/crontabs/")
      );
      assert.deepEqual(inventory.map((r) => `${r.User} ${r.Schedule} ${r.Command}`).sort(), theirs);
      assert.equal(theirs.length, 3);
      assert.ok(inventory.every((r) => r.Enabled === "true"));
      const changes = JSON.parse(second).changes as Rec[];
      assert.deepEqual(changes.map((c) => [c.ChangeCategory, c.Task, c.User, c.When]), [
        ["Added", "/var/spool/cron/crontabs/daemon: /usr/bin/report", "daemon", "30 5 * * 1-5"],
      ]);
    }),
});
