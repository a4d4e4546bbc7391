import assert from "node:assert/strict";
import { cronEverRuns, cronIgnores, type CronLine, cronWhen, parseCrontab, parseEnvLine } from "./cron.ts";
import { inNamespace, namespaceMissing } from "./testdata/machine.ts";

const jobs = (text: string, system = false) =>
  parseCrontab(text, { system }).lines.filter((l): l is Extract<CronLine, { kind: "job" }> =>
    l.kind === "job"
  );
const when = (line: string) => cronWhen(jobs(`${line} cmd\n`)[0].times);
const error = (text: string, system = false) => cronIgnores(parseCrontab(text, { system }));

Deno.test("parseCrontab() reads every field form: lists, ranges, steps, names in any case, Sunday as 7", () => {
  assert.equal(when("*/15 9-17 * * mon-fri"), "0,15,30,45 9-17 * * 1-5");
  assert.equal(when("0 0 1,15 jan,JUL-Sep *"), "0 0 1,15 1,7-9 *");
  assert.equal(when("5 4 * * 7"), "5 4 * * 0");
  assert.equal(when("5 4 * * 0-7"), "5 4 * * *");
  assert.equal(when("0-59/20 */6 * * Sun,sat"), "0,20,40 0,6,12,18 * * 0,6");
  assert.equal(when("1-10/4,30 0 * * *"), "1,5,9,30 0 * * *");
  assert.equal(when("07 08 09 10 *"), "7 8 9 10 *");
  assert.equal(when("0 0 * * 5-5"), "0 0 * * 5");
});

Deno.test("parseCrontab() reads the @specials as cron expands them, @reboot apart", () => {
  assert.equal(when("@reboot"), "@reboot");
  assert.equal(when("@yearly"), "0 0 1 1 *");
  assert.equal(when("@annually"), "0 0 1 1 *");
  assert.equal(when("@monthly"), "0 0 1 * *");
  assert.equal(when("@weekly"), "0 0 * * 0");
  assert.equal(when("@daily"), "0 0 * * *");
  assert.equal(when("@midnight"), "0 0 * * *");
  assert.equal(when("@hourly"), "0 * * * *");
  assert.equal(jobs("@daily\t  run it\n")[0].command, "run it");
  assert.equal(jobs("@daily\t  run it\n")[0].schedule, "@daily");
  assert.equal(error("@Daily x\n"), "line 1: bad time specifier");
  assert.equal(error("@toString x\n"), "line 1: bad time specifier");
});

Deno.test("cronWhen() says when both day fields must match: one of them written starting with *", () => {
  // Neither starts with *: either day runs it.
  assert.equal(when("0 0 1 * 1"), "0 0 1 * 1");
  // One field every day, neither starting with *: every day.
  assert.equal(when("0 0 1 * 0-6"), "0 0 * * *");
  // */2 starts with *: both must match.
  const odd = Array.from({ length: 16 }, (_, i) => 2 * i + 1).join(",");
  assert.equal(when("0 0 */2 * 1"), `0 0 ${odd} * 1 (day of month and day of week both match)`);
  assert.equal(when("0 0 1 * */2"), "0 0 1 * 0,2,4,6 (day of month and day of week both match)");
});

Deno.test("parseCrontab() keeps cron's quirks: a range backwards sets nothing, junk after a list is skipped", () => {
  assert.equal(when("30-10 * * * *"), "none * * * *");
  assert.equal(cronEverRuns(jobs("30-10 * * * * x\n")[0].times), false);
  assert.equal(when("5;foo * * * *"), "5 * * * *");
  // atoi on glibc: 2^32 is 0.
  assert.equal(when("4294967296 * * * *"), "0 * * * *");
  assert.equal(cronEverRuns(jobs("0 0 30 2 * x\n")[0].times), false);
  assert.equal(cronEverRuns(jobs("0 0 29 2 * x\n")[0].times), true);
  assert.equal(cronEverRuns(jobs("0 0 30 2 1 x\n")[0].times), true, "Mondays of February, either field");
  assert.equal(
    cronEverRuns(jobs("0 0 30-31 2 */2 x\n")[0].times),
    false,
    "both fields, and no 30th of February",
  );
});

Deno.test("parseCrontab() names what cron says of a bad entry, and reads on at the next line", () => {
  assert.equal(error("60 * * * * x\n"), "line 1: bad minute");
  assert.equal(error("* 24 * * * x\n"), "line 1: bad hour");
  assert.equal(error("* * 0 * * x\n"), "line 1: bad day-of-month");
  assert.equal(error("* * * 13 * x\n"), "line 1: bad month");
  assert.equal(error("* * * * 8 x\n"), "line 1: bad day-of-week");
  assert.equal(error("* * * * mon-funday x\n"), "line 1: bad day-of-week");
  assert.equal(error("1/20 * * * * x\n"), "line 1: bad minute");
  assert.equal(error("*/0 * * * * x\n"), "line 1: bad minute");
  assert.equal(error("* * * * * * x\n"), "line 1: bad command");
  assert.equal(error(`* * * * * ${"x".repeat(999)}\n`), "line 1: command too long");
  assert.equal(error(`* * * * * ${"x".repeat(998)}\n`), null);
  assert.equal(error("# c\n\n* * * * * x"), "the file does not end with a newline");
  const p = parseCrontab("A=1\n61 * * * * bad\n\n  # c\n* * * * * good\n", { system: false });
  assert.deepEqual(p.lines.map((l) => [l.kind, l.line]), [["env", 1], ["error", 2], ["job", 5]]);
  assert.equal(p.lines[1].kind === "error" && p.lines[1].text, "61 * * * * bad");
});

Deno.test("parseCrontab() reads environment lines as cron does, each job with the assignments before it", () => {
  assert.deepEqual(parseEnvLine("A=b"), { name: "A", value: "b" });
  assert.deepEqual(parseEnvLine("A  =  b c  "), { name: "A", value: "b c" });
  assert.deepEqual(
    jobs("  A  =  b c  \n* * * * * x\n")[0].env,
    ["A=b c"],
    "blanks before the name are skipped first",
  );
  assert.deepEqual(parseEnvLine("A='b c'"), { name: "A", value: "b c" });
  assert.deepEqual(parseEnvLine('"A B"=c'), { name: "A B", value: "c" });
  assert.deepEqual(parseEnvLine('MAILTO=""'), { name: "MAILTO", value: "" });
  assert.equal(
    parseEnvLine("MAILTO="),
    null,
    "an empty unquoted value is no assignment: cron reads an entry",
  );
  assert.equal(parseEnvLine("A='b' c"), null);
  assert.equal(parseEnvLine("A B=c"), null);
  assert.equal(parseEnvLine("* * * * * A=b"), null);
  const p = jobs("PATH=/bin\nA=1\n* * * * * one\nPATH=/usr/bin\n* * * * * two\n");
  assert.deepEqual(p.map((j) => j.env), [["PATH=/bin", "A=1"], ["PATH=/usr/bin", "A=1"]]);
  assert.equal(error("MAILTO=\n* * * * * x\n"), "line 1: bad minute");
});

Deno.test("parseCrontab() reads the user field of system crontabs, refusing a user not known", () => {
  const [j] = jobs("17 *\t* * *\troot    cd / && run-parts --report /etc/cron.hourly\n", true);
  assert.equal(j.user, "root");
  assert.equal(
    j.command,
    "   cd / && run-parts --report /etc/cron.hourly",
    "cron keeps the blanks after the user",
  );
  assert.equal(j.schedule, "17 * * * *");
  const users = new Set(["root"]);
  assert.equal(
    cronIgnores(parseCrontab("* * * * * nobody x\n", { system: true, users })),
    "line 1: bad username",
  );
  assert.equal(cronIgnores(parseCrontab("* * * * * root x\n", { system: true, users })), null);
  // A user crontab's command may not start with *: that is a sixth time field.
  assert.equal(error("* * * * * *x\n"), "line 1: bad command");
});

Deno.test("parseCrontab() counts bytes, not characters, against cron's limits", () => {
  assert.equal(error(`* * * * * ${"é".repeat(500)}\n`), "line 1: command too long");
  assert.equal(jobs(`* * * * * ${"é".repeat(499)}\n`)[0].command, "é".repeat(499));
});

// ---- Debian's crontab(1) as the oracle -----------------------------------------------------------------
const MISSING = namespaceMissing(["crontab"]);
if (MISSING) console.warn(`cron_test.ts: SKIPPED the comparisons with crontab(1): ${MISSING}`);

/** What crontab(1) says of each file: null when it installs it, else its complaints (`bad minute` …). */
function crontabVerdicts(files: string[]): (string[] | null)[] {
  const dir = Deno.makeTempDirSync({ prefix: "ctagent-crontab-" });
  try {
    files.forEach((f, i) => Deno.writeTextFileSync(`${dir}/${i}`, f));
    const out = inNamespace(
      `for i in $(seq 0 ${files.length - 1}); do crontab -u daemon "${dir}/$i" 2>&1; echo "rc=$?"; done\n`,
    );
    return out.split(/^rc=(\d+)$/m).reduce<(string[] | null)[]>((acc, part, i, all) => {
      if (i % 2 === 1) {
        const said = all[i - 1];
        acc.push(
          part === "0" ? null : [
            ...said.matchAll(/:-?\d+: (.+)$|(missing newline before EOF)/gm),
          ].map((m) => m[1] ?? m[2]),
        );
      }
      return acc;
    }, []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** Our verdict in crontab(1)'s words: like cron, it stops at the first bad entry. */
function ourVerdict(file: string): string[] | null {
  const p = parseCrontab(file, { system: false });
  const bad = p.lines.find((l) => l.kind === "error");
  if (bad?.kind === "error") return [bad.error];
  return p.ignored?.includes("newline") ? ["missing newline before EOF"] : null;
}

/** Seeded random crontabs from the pieces cron's syntax is made of, good and bad. */
function randomCrontabs(seed: number, n: number): string[] {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pick = <T>(a: readonly T[]) => a[Math.floor(rnd() * a.length)];
  const field = [
    "*",
    "*/5",
    "*/0",
    "*/",
    "0",
    "00",
    "7",
    "23",
    "24",
    "31",
    "59",
    "60",
    "1-5",
    "5-1",
    "1-5/2",
    "1-5/x",
    "1/2",
    "1-",
    "-1",
    "1,2,3",
    "1,",
    ",1",
    "jan",
    "DEC",
    "feb-Mar",
    "mon",
    "Sun",
    "sat,sun",
    "mon-fri/2",
    "a",
    "1x",
    "5;x",
    "*-5",
    "4294967296",
    "12",
    "13",
    "0-7",
    "8",
  ];
  const good = [
    "*/5",
    "0",
    "00",
    "7",
    "23",
    "31",
    "1-5",
    "5-1",
    "1-5/2",
    "1,2,3",
    "jan",
    "DEC",
    "Sun",
    "5;x",
  ];
  const commands = [
    "true",
    "echo a b",
    "*x",
    "  spaced",
    "",
    "x".repeat(998),
    "x".repeat(999),
    "é".repeat(500),
    "é%x",
  ];
  const env = ["A=b", "A =  b ", "A=", "'A'=b", "A='b c'", 'A="b"  ', "A='b' c", "=x", "A B=c", 'MAILTO=""'];
  const specials = ["@reboot", "@daily", "@yearly", "@annually", "@foo", "@", "@Daily", "@hourly\t"];
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const lines: string[] = [];
    for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) {
      const r = rnd();
      if (r < 0.15) lines.push(pick(env));
      else if (r < 0.25) lines.push(`${pick(specials)} ${pick(commands)}`);
      else if (r < 0.3) lines.push(pick(["# comment", "", "   ", "\t# indented"]));
      else if (r < 0.6) lines.push(`${Array.from({ length: 5 }, () => pick(["*", ...good])).join(" ")} true`);
      else {
        const bad = rnd() < 0.3; // most lines good, so that whole files get installed too
        const fields = Array.from(
          { length: bad && rnd() < 0.3 ? 4 : 5 },
          () => rnd() < 0.5 ? "*" : pick(bad ? field : good),
        );
        lines.push(`${fields.join(pick([" ", "\t", "  "]))} ${pick(commands)}`);
      }
    }
    files.push(lines.join("\n") + (rnd() < 0.1 ? "" : "\n"));
  }
  return files;
}

Deno.test({
  name:
    "parseCrontab() accepts and refuses exactly what Debian's crontab(1) does, with its words, on 300 crontabs",
  ignore: MISSING !== null,
  fn() {
    const files = [
      ...randomCrontabs(7, 300),
      "MAILTO=\n* * * * * x\n",
      "5;foo * * * * true\n",
      "30-10 * * * * true\n",
      "* * * * mon-fri true\n",
      "=foo\n* * * * * true\n",
      "* * * * *\n",
      "@daily\n",
    ];
    const theirs = crontabVerdicts(files);
    assert.equal(theirs.length, files.length);
    const differ = files.flatMap((f, i) => {
      const ours = ourVerdict(f);
      return JSON.stringify(ours) === JSON.stringify(theirs[i])
        ? []
        : [`${JSON.stringify(f)}: crontab ${JSON.stringify(theirs[i])}, ours ${JSON.stringify(ours)}`];
    });
    assert.deepEqual(differ, []);
    assert.ok(theirs.filter((v) => v === null).length > 50, "many crontabs installed");
    assert.ok(theirs.filter((v) => v !== null).length > 50, "many refused");
  },
});
