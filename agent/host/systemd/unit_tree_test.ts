import assert from "node:assert/strict";
import { dirname } from "node:path";
import { liveHost } from "../mod.ts";
import { scanUnitTree, unitFileState, unitNames } from "./unit_tree.ts";

function systemctlRoot(root: string): string[] | null {
  try {
    const out = new Deno.Command("systemctl", {
      args: [`--root=${root}`, "list-unit-files", "--type=service", "--no-legend", "--no-pager"],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    if (!out.success) return null;
    return new TextDecoder().decode(out.stdout).split("\n").filter(Boolean)
      .map((l) => l.split(/\s+/).slice(0, 2).join(" ")).sort();
  } catch {
    return null;
  }
}
const HAVE_SYSTEMCTL = (() => {
  try {
    return new Deno.Command("systemctl", { args: ["--version"], stdout: "null", stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
})();
if (!HAVE_SYSTEMCTL) {
  console.warn("unit_tree_test.ts: SKIPPED the comparisons with `systemctl --root`: absent");
}

type Tree = Record<string, string | { link: string }>;

function build(root: string, tree: Tree): void {
  for (const [p, c] of Object.entries(tree)) {
    Deno.mkdirSync(dirname(root + p), { recursive: true });
    if (typeof c === "string") Deno.writeTextFileSync(root + p, c, { createNew: true }); // never through a link to the real machine
    else Deno.symlinkSync(c.link, root + p);
  }
}

function states(root: string): string[] {
  const tree = scanUnitTree(liveHost({ root }));
  return unitNames(tree, ".service").map((n) => {
    try {
      return `${n} ${unitFileState(tree, n)}`;
    } catch {
      return `${n} bad`;
    }
  });
}

const SVC = "[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n";

Deno.test("unitFileState() handles the corner cases systemctl 252 has rules for", () => {
  const root = Deno.makeTempDirSync({ prefix: "ctagent-corner-" });
  try {
    build(root, {
      "/dev/null": "", // systemctl --root resolves masks inside the root
      // a symlink to the same name inside the search path is a self-alias: bad
      "/lib/systemd/system/self.service": SVC,
      "/etc/systemd/system/self.service": { link: "/lib/systemd/system/self.service" },
      // a plain name cannot alias a template: bad
      "/lib/systemd/system/tpl@.service": SVC,
      "/etc/systemd/system/plain.service": { link: "/lib/systemd/system/tpl@.service" },
      // an alias to an empty unit file is masked where that file is (/etc: not runtime)
      "/etc/systemd/system/empty.service": "",
      "/run/systemd/system/to-empty.service": { link: "/etc/systemd/system/empty.service" },
      // an alias into a search directory that does not exist is resolved by name elsewhere; the unit
      // behind an alias link that its [Install] does not name is "indirect"
      "/run/systemd/system/real.service": SVC,
      "/etc/systemd/system/via-missing-dir.service": { link: "/usr/local/lib/systemd/system/real.service" },
      // an alias loop
      "/etc/systemd/system/loop-a.service": { link: "loop-b.service" },
      "/etc/systemd/system/loop-b.service": { link: "loop-a.service" },
      // a unit in .wants as a regular file (not a link) enables nothing
      "/lib/systemd/system/plainfile.service": SVC + "[Install]\nWantedBy=multi-user.target\n",
      "/etc/systemd/system/multi-user.target.wants/plainfile.service": "not a link",
      // WantedBy only in a drop-in: disabled, not static
      "/lib/systemd/system/dropin-install.service": SVC,
      "/etc/systemd/system/dropin-install.service.d/install.conf": "[Install]\nWantedBy=multi-user.target\n",
    });
    assert.deepEqual(states(root), [
      "dropin-install.service disabled",
      "empty.service masked",
      "loop-a.service bad",
      "loop-b.service bad",
      "plain.service bad",
      "plainfile.service disabled",
      "real.service indirect", // an alias link that is not in its Alias=

      "self.service bad",
      "to-empty.service masked",
      "tpl@.service indirect",
      "via-missing-dir.service alias",
    ]);
    if (HAVE_SYSTEMCTL) assert.deepEqual(states(root), systemctlRoot(root));
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

/** A seeded random unit tree: units, masks, aliases, links out of the search path, drop-ins, .wants links. */
function randomTree(seed: number): Tree {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pick = <T>(a: readonly T[]) => a[Math.floor(rnd() * a.length)];
  const dirs = [
    "/etc/systemd/system",
    "/run/systemd/system",
    "/lib/systemd/system",
    "/usr/local/lib/systemd/system",
    "/run/systemd/generator",
    "/run/systemd/generator.late",
    "/run/systemd/transient",
    "/etc/systemd/system.control",
  ];
  const names = [
    "a.service",
    "b.service",
    "c.service",
    "t@.service",
    "u@.service",
    "t@x.service",
    "t@y.service",
    "z.service",
    "e.socket",
  ];
  const targets = ["multi-user.target", "default.target", "t@y.service", "b.service"];
  const tree: Tree = { "/dev/null": "" };
  for (let i = 3 + Math.floor(rnd() * 8); i > 0; i--) {
    const name = pick(names), p = `${pick(dirs)}/${name}`;
    if (p in tree) continue;
    const k = rnd();
    if (k < 0.45) {
      const install = pick([
        "",
        "",
        `[Install]\nWantedBy=${pick(targets)}\n`,
        `[Install]\nAlias=${pick(names)}\n`,
        `[Install]\nAlso=${pick(names)}\n`,
        "[Install]\nWantedBy=multi-user.target\nDefaultInstance=x\n",
        "[Install]\nRequiredBy=multi-user.target\n",
      ]);
      tree[p] = rnd() < 0.08 ? "" : SVC + install;
    } else if (k < 0.6) tree[p] = { link: "/dev/null" };
    else if (k < 0.85) tree[p] = { link: rnd() < 0.5 ? `${pick(dirs)}/${pick(names)}` : pick(names) };
    else {
      tree[p] = { link: `/opt/x/${pick(names)}` };
      tree[`/opt/x/${name}`] = SVC + "[Install]\nWantedBy=multi-user.target\n";
    }
  }
  for (let i = Math.floor(rnd() * 3); i > 0; i--) {
    const d = `${pick(dirs)}/${pick(names)}.d/${pick(["10-a", "20-b"])}.conf`;
    tree[d] = rnd() < 0.2 ? { link: "/dev/null" } : pick([
      "[Install]\nWantedBy=multi-user.target\n",
      "[Install]\nAlias=z.service\n",
      "[Install]\nDefaultInstance=y\n",
      "[Install]\nWantedBy=\n",
    ]);
  }
  for (let i = Math.floor(rnd() * 4); i > 0; i--) {
    const wants = `${pick(["/etc/systemd/system", "/run/systemd/system", "/lib/systemd/system"])}/${
      pick(targets)
    }${pick([".wants", ".requires", ".wants"])}`;
    const n = pick(["a.service", "t@x.service", "t@y.service", "u@x.service", "b.service", "z.service"]);
    tree[`${wants}/${n}`] = rnd() < 0.1
      ? "a regular file"
      : { link: `/lib/systemd/system/${n.replace(/@.*\./, "@.")}` };
  }
  return tree;
}

Deno.test({
  name: "unitFileState() agrees with `systemctl --root list-unit-files` on 20 seeded random unit trees",
  ignore: !HAVE_SYSTEMCTL,
  fn() {
    for (let seed = 1; seed <= 20; seed++) {
      const root = Deno.makeTempDirSync({ prefix: "ctagent-random-units-" });
      try {
        const tree = randomTree(seed);
        build(root, tree);
        assert.deepEqual(states(root), systemctlRoot(root), `seed ${seed}: ${JSON.stringify(tree, null, 1)}`);
      } finally {
        Deno.removeSync(root, { recursive: true });
      }
    }
  },
});
