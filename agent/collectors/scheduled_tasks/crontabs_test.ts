import assert from "node:assert/strict";
import { liveHost } from "../../host/mod.ts";
import { loadAccounts } from "../../host/accounts.ts";
import { fakeHost } from "../../../test/fake_host.ts";
import { crontabs } from "./crontabs.ts";
import type { SourceContext, TaskItem } from "./types.ts";
import { buildTree } from "./testdata/tree.ts";

const PASSWD =
  "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\ncarol:x:1002:1002::/:/bin/sh\n" +
  "dave:x:1003:1003::/:/bin/sh\nerin:x:1004:1004::/:/bin/sh\n";

function context(host: SourceContext["host"]): SourceContext {
  return { host, signal: new AbortController().signal, accounts: () => loadAccounts(host) };
}

async function read(tree: Parameters<typeof buildTree>[0]) {
  const root = buildTree(tree);
  try {
    const r = await crontabs.read(context(liveHost({ root })));
    return { ...r, byTask: new Map(r.items.map((i) => [i.Task, i])) };
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
}

const brief = (i: TaskItem | undefined) => i && [i.Enabled, i.Reason];

Deno.test("crontabs reads /etc/crontab and /etc/cron.d with their user field and environment, skipping dot files", async () => {
  const r = await read({
    "/etc/passwd": PASSWD,
    "/etc/crontab":
      "SHELL=/bin/sh\n# m h dom mon dow user command\n17 * * * * root cd / && run-parts /etc/cron.hourly\n",
    "/etc/cron.d/backup": "MAILTO=ops\n@daily alice /usr/local/bin/backup --all\n",
    "/etc/cron.d/.placeholder": "# not a crontab\n",
  });
  assert.deepEqual(
    r.items.map((i) => [i.Task, i.User, i.Line, i.Schedule, i.When, i.Environment, i.Enabled]),
    [
      [
        "/etc/crontab: cd / && run-parts /etc/cron.hourly",
        "root",
        3,
        "17 * * * *",
        "17 * * * *",
        "SHELL=/bin/sh",
        true,
      ],
      [
        "/etc/cron.d/backup: /usr/local/bin/backup --all",
        "alice",
        2,
        "@daily",
        "0 0 * * *",
        "MAILTO=ops",
        true,
      ],
    ],
  );
  assert.deepEqual(r.unseen, []);
});

Deno.test("crontabs says which system crontabs cron ignores and why: name, owner, mode, links, a bad line", async () => {
  const r = await read({
    "/etc/passwd": PASSWD,
    "/etc/cron.d/ok": "* * * * * root ok\n",
    "/etc/cron.d/job.dpkg-old": "* * * * * root old\n",
    "/etc/cron.d/writable": { data: "* * * * * root writable\n", mode: 0o664 },
    "/etc/cron.d/owned": { data: "* * * * * root owned\n", uid: 1000 },
    "/etc/cron.d/linked": { link: "../../opt/tab" },
    "/opt/tab": "* * * * * root linked\n",
    "/etc/cron.d/dangling": { link: "../../opt/none" },
    "/etc/cron.d/broken": "* * * * * root fine\n61 * * * * root bad\n* * * * * root after\n",
    "/etc/cron.d/nouser": "* * * * * mallory x\n",
  });
  assert.deepEqual(brief(r.byTask.get("/etc/cron.d/ok: ok")), [true, null]);
  assert.deepEqual(brief(r.byTask.get("/etc/cron.d/linked: linked")), [true, null]);
  assert.deepEqual(brief(r.byTask.get("/etc/cron.d/job.dpkg-old: old")), [
    false,
    "cron ignores /etc/cron.d/job.dpkg-old: cron skips file names other than [A-Za-z0-9_-]",
  ]);
  assert.deepEqual(brief(r.byTask.get("/etc/cron.d/writable: writable")), [
    false,
    "cron ignores /etc/cron.d/writable: group or others can write it",
  ]);
  assert.deepEqual(brief(r.byTask.get("/etc/cron.d/owned: owned")), [
    false,
    "cron ignores /etc/cron.d/owned: it is owned by uid 1000, not root",
  ]);
  // A bad line makes cron ignore the whole file: every job of it is listed, not run; the bad line is an error.
  for (const task of ["/etc/cron.d/broken: fine", "/etc/cron.d/broken: after"]) {
    assert.deepEqual(brief(r.byTask.get(task)), [
      false,
      "cron ignores /etc/cron.d/broken: line 2: bad minute",
    ]);
  }
  const bad = r.byTask.get("/etc/cron.d/broken: 61 * * * * root bad")!;
  assert.deepEqual([bad.Line, bad.error], [2, "line 2: bad minute"]);
  assert.equal(r.byTask.get("/etc/cron.d/nouser: * * * * * mallory x")?.error, "line 1: bad username");
  assert.ok(![...r.byTask.keys()].some((t) => t.includes("dangling")));
});

Deno.test("crontabs reads users' crontabs with cron's checks: a known user, its owner, mode 600, no link", async () => {
  const spool = "/var/spool/cron/crontabs";
  const r = await read({
    "/etc/passwd": PASSWD,
    [`${spool}/alice`]: { data: "# DO NOT EDIT\n*/5 * * * * ~/bin/sync\n", mode: 0o600, uid: 1000 },
    [`${spool}/root`]: { data: "@reboot /root/boot.sh\n", mode: 0o600 },
    [`${spool}/bob`]: { data: "* * * * * who\n", mode: 0o600 },
    [`${spool}/carol`]: { data: "* * * * * open\n", mode: 0o644, uid: 1002 },
    [`${spool}/dave`]: { link: "/tmp/x" },
    [`${spool}/erin`]: { data: "* * * * * other\n", mode: 0o600, uid: 1000 },
  });
  assert.deepEqual(r.items.map((i) => [i.Task, i.User, i.Enabled, i.Reason]), [
    [`${spool}/alice: ~/bin/sync`, "alice", true, null],
    [`${spool}/bob: who`, "bob", false, `cron ignores ${spool}/bob: its user is not in /etc/passwd`],
    [`${spool}/carol: open`, "carol", false, `cron ignores ${spool}/carol: its mode is 644, not 600`],
    [
      `${spool}/erin: other`,
      "erin",
      false,
      `cron ignores ${spool}/erin: it is owned by uid 1000, not its user's 1004 or root`,
    ],
    [`${spool}/root: /root/boot.sh`, "root", true, null],
  ]);
});

Deno.test("crontabs reads the RHEL spool (/var/spool/cron/USER) where there is no crontabs directory", async () => {
  const r = await read({
    "/etc/passwd": PASSWD,
    "/var/spool/cron/alice": { data: "0 3 * * * backup\n", mode: 0o644, uid: 1000 },
    "/var/spool/cron/atjobs/.SEQ": "0\n",
  });
  assert.deepEqual(r.items.map((i) => [i.Task, i.User, i.Enabled]), [[
    "/var/spool/cron/alice: backup",
    "alice",
    true,
  ]]);
});

Deno.test("crontabs marks what it cannot read unseen (never removed) and says why", async () => {
  const host = fakeHost({
    files: {
      "/etc/passwd": PASSWD,
      "/etc/crontab": "* * * * * root fine\n",
      "/etc/cron.d/disk": "* * * * * root x\n",
      "/var/spool/cron/crontabs/alice": "x",
    },
    failing: { "/etc/cron.d/disk": "EIO", "/var/spool/cron/crontabs": "EACCES" },
  });
  const r = await crontabs.read(context(host));
  assert.deepEqual(r.items.map((i) => i.Task), ["/etc/crontab: fine"]);
  assert.deepEqual(r.unseen, ["cron /etc/cron.d/disk: ", "cron /var/spool/cron/"]);
  assert.equal(r.warnings.length, 2);
  assert.match(r.warnings[0], /cannot stat \/etc\/cron.d\/disk: EIO/);
});
