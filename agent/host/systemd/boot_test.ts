import assert from "node:assert/strict";
import { dirname } from "node:path";
import { liveHost } from "../mod.ts";
import { bootUnits, expandSpecifiers } from "./boot.ts";
import { scanUnitTree } from "./unit_tree.ts";
import { systemdTest } from "./testdata/systemd_test_mode.ts";

const ORACLE = systemdTest() !== null;
if (!ORACLE) {
  console.warn("boot_test.ts: SKIPPED the comparisons with `systemd --test`: systemd or setpriv absent");
}

type Tree = Record<string, string | { link: string }>;

function build(tree: Tree): string {
  const root = Deno.makeTempDirSync({ prefix: "ctagent-boot-" });
  Deno.chmodSync(root, 0o755); // systemd --test runs as nobody
  for (const [p, c] of Object.entries(tree)) {
    Deno.mkdirSync(dirname(root + p), { recursive: true, mode: 0o755 });
    if (typeof c === "string") Deno.writeTextFileSync(root + p, c, { createNew: true, mode: 0o644 });
    else Deno.symlinkSync(c.link, root + p);
  }
  return root;
}

/** The names of `set` of the types in `types`, sorted. */
const only = (set: Set<string>, types: string[]) =>
  [...set].filter((n) => types.some((t) => n.endsWith(t))).sort();

Deno.test("expandSpecifiers() fills the name specifiers dependencies use", () => {
  assert.equal(
    expandSpecifiers("a@%i.service %n %N %p %j b%%", "foo-bar@x.timer"),
    "a@x.service foo-bar@x.timer foo-bar@x foo-bar bar b%",
  );
});

Deno.test("bootUnits() starts what default.target wants, loads what they reference, never a disabled unit", () => {
  const root = build({
    "/lib/systemd/system/default.target": "[Unit]\nWants=timers.target\n",
    "/lib/systemd/system/timers.target": "[Unit]\nDescription=Timers\n",
    "/lib/systemd/system/a.timer": "[Timer]\nOnCalendar=daily\n",
    "/lib/systemd/system/a.service": "[Service]\nExecStart=/bin/true\n",
    "/lib/systemd/system/b.timer": "[Unit]\nAfter=c.timer\n[Timer]\nOnBootSec=5min\nUnit=a.service\n",
    "/lib/systemd/system/c.timer": "[Timer]\nOnBootSec=1h\n",
    "/lib/systemd/system/off.timer": "[Timer]\nOnBootSec=1h\n[Install]\nWantedBy=timers.target\n",
    "/etc/systemd/system/timers.target.wants/a.timer": { link: "../../../../lib/systemd/system/a.timer" },
    "/etc/systemd/system/timers.target.wants/b.timer": { link: "../../../../lib/systemd/system/b.timer" },
  });
  try {
    const boot = bootUnits(scanUnitTree(liveHost({ root })));
    assert.deepEqual(only(boot.started, [".timer"]), ["a.timer", "b.timer"]);
    // c.timer only ordered against (loaded, not started), and the c.service it would start, which has no file.
    assert.deepEqual(only(boot.loaded, [".timer", ".service"]), [
      "a.service",
      "a.timer",
      "b.timer",
      "c.service",
      "c.timer",
    ]);
    const oracle = systemdTest(root);
    if (oracle) {
      assert.deepEqual(only(boot.started, [".timer"]), only(oracle.started, [".timer"]));
      assert.deepEqual(
        only(boot.loaded, [".timer", ".service"]),
        only(oracle.loaded, [".timer", ".service"]),
      );
    }
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test({
  name: "bootUnits() starts and loads the timers `systemd --test` does on this machine's unit tree",
  ignore: !ORACLE,
  fn() {
    const oracle = systemdTest()!;
    const boot = bootUnits(scanUnitTree(liveHost()));
    assert.ok(only(oracle.loaded, [".timer"]).length > 0, "this machine has timers to compare");
    assert.deepEqual(only(boot.started, [".timer"]), only(oracle.started, [".timer"]));
    assert.deepEqual(only(boot.loaded, [".timer"]), only(oracle.loaded, [".timer"]));
  },
});

/** A seeded random unit tree: services, timers (templates too), dependencies both ways, masks, aliases. */
function randomTree(seed: number): Tree {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pick = <T>(a: readonly T[]) => a[Math.floor(rnd() * a.length)];
  const units = [
    "multi-user.target",
    "a.service",
    "b.service",
    "c.service",
    "t1.timer",
    "t2.timer",
    "t3.timer",
    "t4.timer",
    "x@.timer",
    "x@.service",
  ];
  const refs = [...units.filter((u) => !u.includes("@.")), "x@one.timer", "x@two.timer", "x@one.service"];
  const dirs = ["/etc/systemd/system", "/lib/systemd/system", "/run/systemd/system"];
  // A boot whose transaction fails (a required unit missing or masked) stops there: systemd --test exits with
  // an error. Only Wants-like dependencies here, and the targets every timer requires are there. No Upholds=:
  // systemd starts those once the transaction is done, without a job (systemd.unit(5)), which the test mode
  // never gets to. No ordering (After=, Before=) or Conflicts= between them: of a cycle or of two units that
  // conflict, systemd drops one job by weighing them, which bootUnits() does not model.
  const tree: Tree = {
    "/lib/systemd/system/default.target": `[Unit]\nWants=${pick(["multi-user.target", "timers.target"])}\n`,
    "/lib/systemd/system/sysinit.target": "[Unit]\n",
    "/lib/systemd/system/timers.target": "[Unit]\n",
  };
  for (const u of units) {
    if (rnd() < 0.1) continue; // no unit file
    const dir = pick(dirs);
    const k = rnd();
    if (k < 0.06) {
      tree[`${dir}/${u}`] = { link: "/dev/null" };
      continue;
    }
    let text = "[Unit]\n";
    for (let i = Math.floor(rnd() * 3); i > 0; i--) {
      text += `${pick(["Wants", "Wants", "OnFailure", "PartOf", "JoinsNamespaceOf"])}=${pick(refs)}\n`;
    }
    if (rnd() < 0.15) text += "DefaultDependencies=no\n";
    if (u.endsWith(".timer")) {
      text += `[Timer]\nOnBootSec=5min\n${
        rnd() < 0.3 ? `Unit=${pick(["a.service", "b.service", "x@%i.service"])}\n` : ""
      }`;
    }
    if (u.endsWith(".service")) text += "[Service]\nExecStart=/bin/true\n";
    tree[`${dir}/${u}`] = text;
  }
  for (let i = Math.floor(rnd() * 6); i > 0; i--) {
    const owner = pick(["multi-user.target", "timers.target", "a.service", "x@.timer", "default.target"]);
    const link = pick(refs);
    const target = link.replace(/@[^.]+\./, "@.");
    tree[`${pick(dirs)}/${owner}${".wants"}/${link}`] = {
      link: `../../../../lib/systemd/system/${target}`,
    };
  }
  if (rnd() < 0.5) tree["/etc/systemd/system/alias.timer"] = { link: "t1.timer" };
  return tree;
}

Deno.test({
  name: "bootUnits() agrees with `systemd --test` on 30 seeded random unit trees",
  ignore: !ORACLE,
  fn() {
    for (let seed = 1; seed <= 30; seed++) {
      const tree = randomTree(seed);
      const root = build(tree);
      try {
        const boot = bootUnits(scanUnitTree(liveHost({ root })));
        const oracle = systemdTest(root);
        assert.ok(oracle, `systemd --test failed on seed ${seed}: ${JSON.stringify(tree, null, 1)}`);
        const types = [".timer", ".service"];
        const why = `seed ${seed}: ${JSON.stringify(tree, null, 1)}`;
        assert.deepEqual(only(boot.started, types), only(oracle.started, types), `started, ${why}`);
        assert.deepEqual(only(boot.loaded, types), only(oracle.loaded, types), `loaded, ${why}`);
      } finally {
        Deno.removeSync(root, { recursive: true });
      }
    }
  },
});
