import assert from "node:assert/strict";
import type { FileInfo } from "../../host/mod.ts";
import { atdProblem, parseJobFile, parseJobName } from "./at.ts";
import { inNamespace, namespaceMissing } from "./testdata/machine.ts";
import type { Collected } from "../types.ts";
import type { TaskItem } from "./types.ts";

Deno.test("parseJobName() reads atd's file names: queue, job number, run time in minutes", () => {
  assert.deepEqual(parseJobName("b0000101c8e989"), {
    queue: "b",
    job: 1,
    runAt: new Date("2026-12-07T14:01:00Z"),
  });
  assert.equal(parseJobName(".SEQ"), null);
  assert.equal(parseJobName("a0000g01c8e989"), null);
});

const JOB = `#!/bin/sh
# atrun uid=1000 gid=1000
# mail alice 0
umask 22
PATH=/usr/bin:/bin; export PATH
HOME=/home/alice; export HOME
cd /home/alice/my\\ dir"
"x || {
\t echo 'Execution directory inaccessible' >&2
\t exit 1
}
tar czf /tmp/backup.tgz ~/docs
echo done

`;

Deno.test("parseJobFile() finds the uid, the directory and the user's commands after at's preamble", () => {
  assert.deepEqual(parseJobFile(JOB), {
    uid: 1000,
    directory: "/home/alice/my dir\nx",
    command: "tar czf /tmp/backup.tgz ~/docs\necho done",
  });
  assert.deepEqual(parseJobFile("#!/bin/bash\nnot a job\n"), { uid: null, directory: null, command: null });
});

Deno.test("atdProblem() refuses what atd refuses: a foreign format, no x bit yet, another owner", () => {
  const st = (mode: number, uid: number) => ({ isFile: true, mode: 0o100000 | mode, uid }) as FileInfo;
  assert.equal(atdProblem(st(0o700, 1000), 1000), null);
  assert.match(atdProblem(st(0o600, 1000), 1000)!, /not marked it executable/);
  assert.match(atdProblem(st(0o700, 0), 1000)!, /owned by uid 0/);
  assert.match(atdProblem(st(0o700, 0), null)!, /not in at's format/);
});

const MISSING = namespaceMissing(["at", "atq"]);
if (MISSING) console.warn(`at_test.ts: SKIPPED the comparison with at(1) and atq: ${MISSING}`);

Deno.test({
  name: "at jobs equal what atq lists and at -c holds, for jobs at(1) makes (in a private mount namespace)",
  ignore: MISSING !== null,
  fn() {
    const probe = new URL("./testdata/probe.ts", import.meta.url).pathname;
    const dir = Deno.makeTempDirSync({ prefix: "ctagent at dir " });
    try {
      const out = inNamespace(
        `cd "${dir}"
echo 'touch /tmp/never-run' | at -q b 03:00 2027-01-15 2>/dev/null
printf 'echo one\\necho two\\n' | at -q c now + 2 days 2>/dev/null
echo '@@ATQ'; atq
for j in $(atq | cut -f1); do echo "@@JOB $j"; at -c $j; done
echo '@@PROBE'; "${Deno.execPath()}" run -A --no-lock "${probe}"
`,
        { TZ: "UTC" },
      );
      const atq = out.slice(out.indexOf("@@ATQ\n") + 6, out.indexOf("@@JOB")).trim().split("\n").map((l) => [
        l.slice(0, l.indexOf("\t")),
        l.slice(l.indexOf("\t") + 1),
      ]);
      const found = JSON.parse(out.slice(out.indexOf("@@PROBE\n") + 8)) as Collected<TaskItem>;
      const at = found.items.filter((i) => i.Kind === "at");
      // atq: "N\tWed Jan 15 03:00:00 2027 b root"
      assert.equal(atq.length, 2);
      assert.deepEqual(
        at.map((i) => [i.Task, new Date(i.Schedule!).toUTCString().replace(/ GMT$/, ""), i.Queue, i.User])
          .sort(),
        atq.map(([n, rest]) => {
          const [, when, queue, user] = /^(.*) (\S) (\S+)$/.exec(rest)!;
          return [`at job ${n}`, new Date(`${when} UTC`).toUTCString().replace(/ GMT$/, ""), queue, user];
        }).sort(),
      );
      for (const i of at) {
        const n = i.Task.split(" ")[2];
        const body = out.slice(out.indexOf(`@@JOB ${n}\n`)).split("@@")[1].slice(`JOB ${n}\n`.length);
        assert.deepEqual(parseJobFile(body), { uid: 0, directory: dir, command: i.Command });
        assert.equal(i.Directory, dir);
        assert.equal(i.Enabled, true);
      }
      assert.deepEqual(at.map((i) => i.Command).sort(), ["echo one\necho two", "touch /tmp/never-run"]);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
