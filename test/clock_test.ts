// The clock set back (issue 16 item 14): the process's clock moved with libfaketime, never the machine's. A
// baseline over files written "in the future" finishes as fast as one on time.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { onlyDcr, runCliProcess, spawnCli, withTempDir } from "./helpers.ts";

const FAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
const skip = existsSync(FAKETIME) ? "" : " (SKIPPED: libfaketime is absent: apt-get install faketime)";

/**
 * The environment that sets the process's wall clock `offset` away from the machine's (libfaketime; elapsed time,
 * CLOCK_MONOTONIC, is left alone as a real clock change leaves it).
 */
const clockAt = (offset: string) => ({ LD_PRELOAD: FAKETIME, FAKETIME: offset, DONT_FAKE_MONOTONIC: "1" });

Deno.test({
  name: "a files baseline with the clock an hour behind the files' times takes as long as one on time" + skip,
  ignore: !!skip,
  fn: () =>
    withTempDir(async (dir) => {
      // Written now: with the process's clock an hour behind, every mtime and ctime is an hour in its future,
      // as after `date -s` an hour back (or an NTP step) on a machine whose files were just written.
      const files = 2000;
      await Deno.mkdir(`${dir}/tree`);
      for (let i = 0; i < files; i++) await Deno.writeTextFile(`${dir}/tree/f${i}.conf`, `line ${i}\n`);
      await Deno.writeTextFile(
        `${dir}/dcr.json`,
        onlyDcr(["files"], {
          fileSettings: { fileInfo: [{ destinationPath: `${dir}/tree/*`, recurse: true }] },
        }),
      );
      const args = (data: string) => ["--dcr", `${dir}/dcr.json`, "--data-dir", `${dir}/${data}`];
      const onTime = await runCliProcess(["--once", "--no-ama", ...args("d1")]);
      const behind = await runCliProcess(["--once", "--no-ama", ...args("d2")], { env: clockAt("-1h") });
      assert.equal(onTime.code, 0, onTime.stderr);
      assert.equal(behind.code, 0, behind.stderr);
      // Before the fix each file waited 50 ms for its "racy" time (2,000 files: 54 s against 1.3 s).
      assert.ok(
        behind.ms < onTime.ms * 3 + 3000,
        `${files} files: ${behind.ms} ms with the clock an hour behind, ${onTime.ms} ms on time`,
      );
      console.log(`${files} files: ${onTime.ms} ms on time, ${behind.ms} ms with the clock an hour behind`);
    }),
});

Deno.test({
  name: "the daemon's next run comes at its frequency when the clock is set back an hour during a run" + skip,
  ignore: !!skip,
  fn: () =>
    withTempDir(async (dir) => {
      // A package database big enough that the run is still busy when the clock moves.
      await Deno.mkdir(`${dir}/root/var/lib/dpkg`, { recursive: true });
      const stanzas = Array.from(
        { length: 40_000 },
        (_, i) => `Package: p${i}\nStatus: install ok installed\nVersion: ${i}\nArchitecture: all\n`,
      );
      await Deno.writeTextFile(`${dir}/root/var/lib/dpkg/status`, stanzas.join("\n"));
      await Deno.writeTextFile(
        `${dir}/dcr.json`,
        onlyDcr(["software"], { softwareSettings: { softwareCollectionFrequency: 10 } }),
      );
      const offset = `${dir}/offset`;
      await Deno.writeTextFile(offset, "+0\n");
      const daemon = spawnCli(
        [
          "--no-ui",
          "--no-ama",
          "-v",
          "--root",
          `${dir}/root`,
          "--dcr",
          `${dir}/dcr.json`,
          "--data-dir",
          `${dir}/data`,
        ],
        {
          env: {
            LD_PRELOAD: FAKETIME,
            FAKETIME_TIMESTAMP_FILE: offset,
            FAKETIME_CACHE_DURATION: "1",
            DONT_FAKE_MONOTONIC: "1",
          },
        },
      );
      // When each run started and the first finished, as seen here (the test's clock is the machine's). A run
      // ends with its JSON mirror written (renamed into place): the next is measured from its start, or from
      // that end when the run took longer than the frequency.
      const starts: number[] = [];
      let finished = 0;
      const watch = () => {
        const err = daemon.stderr();
        const n = err.split("software run started").length - 1;
        while (starts.length < n) starts.push(performance.now());
        if (!finished && err.includes("software run baseline") && existsSync(`${dir}/data/Packages.json`)) {
          finished = performance.now();
        }
      };
      try {
        const until = async (n: number, ms: number) => {
          const deadline = performance.now() + ms;
          for (watch(); starts.length < n && performance.now() < deadline; watch()) {
            await new Promise((r) => setTimeout(r, 20));
          }
        };
        await until(1, 60_000);
        assert.equal(starts.length, 1, `no run started:\n${daemon.stderr()}`);
        await Deno.writeTextFile(offset, "-1h\n"); // while the first run reads the database
        await until(2, 90_000);
        assert.equal(
          starts.length,
          2,
          `no second run within 90 s of the first (the clock went back 1 h):\n${daemon.stderr()}`,
        );
        assert.ok(finished, `the first run finished:\n${daemon.stderr()}`);
        // Due 10 s after the first started, or at once when the first took longer (a loaded machine): an hour
        // late with the wall clock. The slack (less than one more period) is for the jitter (0.5 s) and the
        // turns of a loaded machine; the scheduler's own timing is exact in its fake-clock test.
        const due = Math.max(starts[0] + 10_000, finished);
        const late = starts[1] - due;
        assert.ok(late < 10_000, `the second run came ${Math.round(late)} ms after it was due`);
        console.log(
          `clock set back 1 h during a run: next run ${
            Math.round(starts[1] - starts[0])
          } ms after the first ` +
            `(frequency 10 s; ${Math.round(late)} ms after due)`,
        );
      } finally {
        daemon.child.kill("SIGTERM");
        await daemon.done();
      }
    }),
});
