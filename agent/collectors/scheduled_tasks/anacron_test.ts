import assert from "node:assert/strict";
import { fakeHost } from "../../../test/fake_host.ts";
import { loadAccounts } from "../../host/accounts.ts";
import { anacron, type AnacronLine, anacronWhen, parseAnacrontab } from "./anacron.ts";
import { have } from "./testdata/machine.ts";

type Job = Extract<AnacronLine, { kind: "job" }>;
const jobs = (text: string) => parseAnacrontab(text).filter((l): l is Job => l.kind === "job");

Deno.test("parseAnacrontab() reads jobs, named periods and the environment in force for each", () => {
  const lines = parseAnacrontab(
    "# comment\nSHELL=/bin/sh\nPATH = /usr/bin\n1\t5\tcron.daily\trun-parts --report /etc/cron.daily\n" +
      "@monthly 15 cron.monthly run-parts /etc/cron.monthly\n@yearly 0 y true\n",
  );
  assert.deepEqual(
    lines.map((l) => l.kind === "job" ? [l.line, l.ident, l.period, l.delay, l.command, l.env] : l.kind),
    [
      "env",
      "env",
      [4, "cron.daily", 1, 5, "run-parts --report /etc/cron.daily", ["SHELL=/bin/sh", "PATH= /usr/bin"]],
      [5, "cron.monthly", "@monthly", 15, "run-parts /etc/cron.monthly", ["SHELL=/bin/sh", "PATH= /usr/bin"]],
      [6, "y", "@yearly", 0, "true", ["SHELL=/bin/sh", "PATH= /usr/bin"]],
    ],
  );
  assert.equal(anacronWhen(1, 5), "every 1 day, 5 min after anacron starts");
  assert.equal(anacronWhen(7, 10), "every 7 days, 10 min after anacron starts");
  assert.equal(anacronWhen("@monthly", 15), "monthly, 15 min after anacron starts");
});

Deno.test("parseAnacrontab() keeps anacron's quirks: joined lines, dropped backslashes, 7-letter period names", () => {
  const [j] = jobs("1 1 x printf 'a\\tb' \\\n  c\n");
  assert.equal(j.command, "printf 'atb'    c");
  assert.equal(jobs("@monthlyish 1 m x\n")[0].period, "@monthly");
  assert.equal(jobs("@weekly 1 w x\n")[0].period, "@weekly");
  assert.match(anacronWhen("@weekly", 1), /no set period/);
  const errors = parseAnacrontab("99999999999 1 big x\n1 2 a/b x\nnot a job\n1 1 ok x\n").flatMap((l) =>
    l.kind === "error" ? [[l.line, l.error]] : []
  );
  assert.deepEqual(errors, [[1, "number out of range"], [2, "invalid syntax"], [3, "invalid syntax"]]);
});

Deno.test("anacron lists each job of /etc/anacrontab and keeps the file's items when it cannot be read", async () => {
  const ctx = (host: ReturnType<typeof fakeHost>) => ({
    host,
    signal: new AbortController().signal,
    accounts: () => loadAccounts(host),
  });
  const ok = await anacron.read(ctx(fakeHost({ files: { "/etc/anacrontab": "1 5 daily run\nbad\n" } })));
  assert.deepEqual(ok.items.map((i) => [i.Task, i.When, i.Enabled, i.error ?? null]), [
    ["/etc/anacrontab: daily", "every 1 day, 5 min after anacron starts", true, null],
    ["/etc/anacrontab: bad", undefined, false, "line 2: invalid syntax"],
  ]);
  const failed = await anacron.read(
    ctx(fakeHost({ files: { "/etc/anacrontab": "x" }, failing: { "/etc/anacrontab": "EIO" } })),
  );
  assert.deepEqual([failed.items, failed.unseen], [[], ["anacron /etc/anacrontab: "]]);
});

// ---- anacron itself as the oracle ----------------------------------------------------------------------
const HAVE_ANACRON = have("sh", ["-c", "command -v anacron"]);
if (!HAVE_ANACRON) console.warn("anacron_test.ts: SKIPPED the comparisons with anacron: not installed");

/** What anacron makes of a file: the jobs it keeps (`-u`: timestamps only, into a spool of its own) and its complaints. */
function anacronSays(text: string): { jobs: string[]; complaints: string[] } {
  const dir = Deno.makeTempDirSync({ prefix: "ctagent-anacron-" });
  try {
    Deno.writeTextFileSync(`${dir}/tab`, text);
    Deno.mkdirSync(`${dir}/spool`);
    const out = new Deno.Command("anacron", {
      args: ["-d", "-u", "-t", `${dir}/tab`, "-S", `${dir}/spool`],
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    const said = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return {
      jobs: [...said.matchAll(/^Updated timestamp for job `(.*)' to/gm)].map((m) => m[1]).sort(),
      complaints: [...said.matchAll(/(Unknown named period|number out of range|Invalid syntax)/g)].map((m) =>
        m[1]
      ),
    };
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

function randomAnacrontab(seed: number): string {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pick = <T>(a: readonly T[]) => a[Math.floor(rnd() * a.length)];
  const periods = [
    "1",
    "7",
    "0",
    "30",
    "99999999999",
    "@monthly",
    "@yearly",
    "@weekly",
    "@monthl",
    "@",
    "x",
    "-1",
  ];
  const delays = ["5", "0", "15", "2147483648", "2147483647", "a"];
  const idents = ["cron.daily", "job", "a/b", "x-y", "dup", "dup"];
  const commands = ["true", "run-parts /etc/cron.daily", "echo a\\tb", "echo a \\\n b", "  lead", ""];
  const lines: string[] = [];
  for (let k = 1 + Math.floor(rnd() * 5); k > 0; k--) {
    const r = rnd();
    if (r < 0.15) lines.push(pick(["A=b", " B = c", "=x", "C="]));
    else if (r < 0.25) lines.push(pick(["# c", "", "  \t"]));
    else lines.push([pick(periods), pick(delays), pick(idents), pick(commands)].join(pick([" ", "\t"])));
  }
  return lines.join("\n") + "\n";
}

Deno.test({
  name: "parseAnacrontab() keeps the jobs anacron keeps and complains where it complains, on 120 anacrontabs",
  ignore: !HAVE_ANACRON,
  fn() {
    const words: Record<string, string> = {
      "number out of range": "number out of range",
      "invalid syntax": "Invalid syntax",
    };
    let kept = 0, complained = 0;
    for (let seed = 1; seed <= 120; seed++) {
      const text = randomAnacrontab(seed);
      const lines = parseAnacrontab(text);
      const ours = {
        jobs: lines.flatMap((l) => l.kind === "job" ? [l.ident] : []).sort(),
        complaints: lines.flatMap((l) =>
          l.kind === "error"
            ? [words[l.error]]
            : l.kind === "job" && typeof l.period === "string" && !["@monthly", "@yearly"].includes(l.period)
            ? ["Unknown named period"]
            : []
        ),
      };
      assert.deepEqual(ours, anacronSays(text), `seed ${seed}: ${JSON.stringify(text)}`);
      kept += ours.jobs.length;
      complained += ours.complaints.length;
    }
    assert.ok(kept > 50 && complained > 100, `${kept} jobs kept, ${complained} complaints: both kinds tried`);
  },
});
