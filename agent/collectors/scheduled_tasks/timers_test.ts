import assert from "node:assert/strict";
import { liveHost } from "../../host/mod.ts";
import { loadAccounts } from "../../host/accounts.ts";
import { scanUnitTree } from "../../host/systemd/unit_tree.ts";
import { systemdTest } from "../../host/systemd/testdata/systemd_test_mode.ts";
import { fakeHost } from "../../../test/fake_host.ts";
import { readTimers, timers, timerSettings } from "./timers.ts";
import type { TaskItem } from "./types.ts";
import { buildTree } from "./testdata/tree.ts";
import { have } from "./testdata/machine.ts";

const HAVE_SYSTEMCTL = have("systemctl", ["--version"]);
const ORACLE = HAVE_SYSTEMCTL && systemdTest() !== null;
if (!ORACLE) {
  console.warn("timers_test.ts: SKIPPED the comparisons with systemctl and systemd --test: absent");
}

/** `systemctl [--root] list-unit-files --type=timer` as "name state" lines. */
function listUnitFiles(root = "/"): string[] {
  const args = ["list-unit-files", "--type=timer", "--no-legend", "--no-pager"];
  if (root !== "/") args.unshift(`--root=${root}`);
  const out = new Deno.Command("systemctl", { args, stdout: "piped", stderr: "null" }).outputSync();
  return new TextDecoder().decode(out.stdout).split("\n").filter(Boolean).map((l) =>
    l.split(/\s+/).slice(0, 2).join(" ")
  ).sort();
}

/**
 * The timer items against systemd itself: each unit file's state as `systemctl list-unit-files` gives it, and
 * the timers `systemd --test` starts and loads at boot (what `systemctl list-timers --all` lists once booted).
 */
function assertLikeSystemd(items: TaskItem[], root = "/"): void {
  const files = items.filter((i) => listUnitFiles(root).some((l) => l.startsWith(`${i.Task} `)));
  assert.deepEqual(files.map((i) => `${i.Task} ${i.UnitState}`).sort(), listUnitFiles(root));
  const oracle = systemdTest(root)!;
  const timersOf = (s: Set<string>) => [...s].filter((n) => n.endsWith(".timer")).sort();
  const known = new Set(items.map((i) => i.Task));
  assert.deepEqual(
    items.filter((i) => i.Boot === "started").map((i) => i.Task).sort(),
    timersOf(oracle.started),
  );
  assert.deepEqual(
    items.filter((i) => i.Boot !== "no").map((i) => i.Task).sort(),
    timersOf(oracle.loaded).filter((n) => known.has(n)),
  );
}

Deno.test("timerSettings() reads the triggers in order, an empty one clearing them, and the modifiers set", () => {
  const s = timerSettings([
    "[Timer]\nOnCalendar=daily\nOnBootSec=5min\nPersistent=true\nUnit=other.service\n",
    "[Timer]\nOnCalendar=\nOnCalendar=Mon *-*-* 03:00\nRandomizedDelaySec=1h\nPersistent=\n",
  ]);
  assert.deepEqual(s, {
    schedule: ["OnCalendar=Mon *-*-* 03:00", "RandomizedDelaySec=1h"],
    unit: "other.service",
  });
  assert.deepEqual(timerSettings(["[Unit]\nOnCalendar=daily\n"]), { schedule: [], unit: null });
});

const TIMER = (extra = "") =>
  `[Unit]\nDescription=t\n[Timer]\nOnCalendar=daily\n${extra}[Install]\nWantedBy=timers.target\n`;
const SERVICE = (exec: string, extra = "") => `[Service]\nExecStart=${exec}\n${extra}`;
const LIB = "/lib/systemd/system";
const ETC = "/etc/systemd/system";
const WANTS = `${ETC}/timers.target.wants`;

function fixture() {
  return buildTree({
    [`${LIB}/default.target`]: "[Unit]\nWants=timers.target\n",
    [`${LIB}/timers.target`]: "[Unit]\nDescription=Timers\n",
    [`${LIB}/sysinit.target`]: "[Unit]\n",
    [`${LIB}/backup.timer`]: TIMER("Persistent=true\n"),
    [`${LIB}/backup.service`]: SERVICE("/usr/local/bin/backup --all", "User=backup\n"),
    [`${ETC}/backup.service.d/override.conf`]: "[Service]\nUser=operator\n",
    [`${WANTS}/backup.timer`]: { link: "../../../../lib/systemd/system/backup.timer" },
    [`${LIB}/off.timer`]: TIMER(),
    [`${LIB}/off.service`]: SERVICE("/bin/off"),
    [`${LIB}/masked.timer`]: TIMER(),
    [`${ETC}/masked.timer`]: { link: "/dev/null" },
    [`${LIB}/dump@.timer`]: TIMER("Unit=dump@%i.service\n"),
    [`${LIB}/dump@.service`]: SERVICE("/usr/bin/dump %i"),
    [`${WANTS}/dump@main.timer`]: { link: "../../../../lib/systemd/system/dump@.timer" },
    [`${LIB}/orphan.timer`]: TIMER(),
    [`${WANTS}/orphan.timer`]: { link: "../../../../lib/systemd/system/orphan.timer" },
    [`${LIB}/never.timer`]: "[Timer]\nPersistent=true\n[Install]\nWantedBy=timers.target\n",
    [`${WANTS}/never.timer`]: { link: "../../../../lib/systemd/system/never.timer" },
    [`${LIB}/after.timer`]: "[Timer]\nOnBootSec=1h\n",
    [`${LIB}/after.service`]: SERVICE("/bin/after"),
    [`${LIB}/backup.timer.d/order.conf`]: "[Unit]\nAfter=after.timer\n",
  });
}

Deno.test("readTimers() gives each timer its schedule, the unit it starts with its command and user, and why it does not run", () => {
  const root = fixture();
  try {
    const items = readTimers(scanUnitTree(liveHost({ root })), null);
    const by = new Map(items.map((i) => [i.Task, i]));
    assert.deepEqual(
      [...by.keys()],
      [
        "after.timer",
        "backup.timer",
        "dump@.timer",
        "dump@main.timer",
        "masked.timer",
        "never.timer",
        "off.timer",
        "orphan.timer",
      ],
    );
    const b = by.get("backup.timer")!;
    assert.deepEqual(
      [b.Schedule, b.Unit, b.Command, b.User, b.UnitState, b.Boot, b.Enabled, b.Reason, b.Source],
      [
        "OnCalendar=daily; Persistent=true",
        "backup.service",
        "/usr/local/bin/backup --all",
        "operator",
        "enabled",
        "started",
        true,
        null,
        `${LIB}/backup.timer`,
      ],
    );
    const d = by.get("dump@main.timer")!;
    assert.deepEqual([d.Unit, d.Command, d.Boot, d.Enabled], [
      "dump@main.service",
      "/usr/bin/dump %i",
      "started",
      true,
    ]);
    const reason = (t: string) => [by.get(t)!.Enabled, by.get(t)!.Reason];
    assert.deepEqual(reason("dump@.timer"), [false, "a template: only its instances run"]);
    assert.deepEqual(reason("off.timer"), [false, "nothing starts it at boot (disabled)"]);
    assert.deepEqual(reason("masked.timer"), [false, "it is masked"]);
    assert.deepEqual(reason("orphan.timer"), [
      false,
      "it starts orphan.service, which has no unit file: systemd refuses it",
    ]);
    assert.deepEqual(reason("never.timer"), [false, "it has no time setting: systemd refuses it"]);
    assert.deepEqual(reason("after.timer"), [false, "systemd loads it at boot but nothing starts it"]);
    if (ORACLE) assertLikeSystemd(items, root);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test({
  name:
    "timers on this machine: states as `systemctl list-unit-files`, boot as `systemd --test` (list-timers --all)",
  ignore: !ORACLE,
  async fn() {
    const host = liveHost();
    const r = await timers.read({
      host,
      signal: new AbortController().signal,
      accounts: () => loadAccounts(host),
    });
    assert.deepEqual(r.unseen, []);
    assert.ok(r.items.length > 0, "this machine has timers");
    assertLikeSystemd(r.items);
  },
});

Deno.test("timers take what the running systemd says when it runs (systemctl list-units --type=timer)", async () => {
  const host = fakeHost({
    files: {
      "/run/systemd/system": { dir: true },
      [`${LIB}/a.timer`]: TIMER(),
      [`${LIB}/a.service`]: SERVICE("/bin/a"),
      [`${LIB}/b.timer`]: TIMER(),
      [`${LIB}/b.service`]: SERVICE("/bin/b"),
    },
    exec: {
      systemctl: (args) => ({
        code: 0,
        stdout: args.includes("--type=timer")
          ? "a.timer loaded active waiting A\nrun-x.timer loaded active waiting transient\n"
          : "",
        stderr: "",
      }),
    },
  });
  const r = await timers.read({
    host,
    signal: new AbortController().signal,
    accounts: () => loadAccounts(host),
  });
  assert.deepEqual(r.items.map((i) => [i.Task, i.Active, i.Enabled, i.Reason]), [
    ["a.timer", "active", true, null],
    ["b.timer", "inactive", false, "systemd has it inactive"],
    ["run-x.timer", "active", true, null],
  ]);
});

Deno.test("timers mark every timer unseen when the unit tree cannot be read", async () => {
  const host = fakeHost({ files: { [`${LIB}/a.timer`]: TIMER() }, failing: { [LIB]: "EIO" } });
  const r = await timers.read({
    host,
    signal: new AbortController().signal,
    accounts: () => loadAccounts(host),
  });
  assert.deepEqual([r.items, r.unseen], [[], ["timer "]]);
  assert.match(r.warnings[0], /cannot list \/lib\/systemd\/system/);
});
