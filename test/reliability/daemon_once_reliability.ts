// Reliability: the daemon and many --once (one or two at a time) on one data directory, with random changes.
import assert from "node:assert/strict";
import { join } from "node:path";
import { withTempDir } from "../helpers.ts";
import {
  changeLines,
  check,
  committedRecords,
  ctagent,
  diff,
  machine,
  MAIN,
  type Packages,
  random,
  receiver,
} from "./world.ts";

const ROUNDS = 24;

Deno.test("reliability: the daemon and 24 rounds of --once on one data directory: each change reported and delivered once", () =>
  withTempDir(async (dir) => {
    const seed = Number(Deno.env.get("CTAGENT_SEED") ?? Date.now() % 1_000_000);
    const rand = random(seed);
    // Every 10 s the daemon collects on its own: some changes are its to find, the others --once's.
    const m = await machine(dir, 10);
    m.add(3_000);
    await m.write();
    const rx = await receiver();
    const data = join(dir, "data");
    const common = ["--root", m.root, "--dcr", m.dcr, "--data-dir", data, "--forward", rx.sink, "--no-ama"];
    const daemon = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "--no-ui", ...common],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const daemonLog = new Response(daemon.stderr).text();
    const expected: string[] = [];
    const figures = { onces: 0, reported: 0, empty: 0, held: 0 };
    try {
      const deadline = Date.now() + 30_000;
      while (rx.seen.size < 3_000) {
        assert.ok(Date.now() < deadline, "the daemon's baseline did not arrive");
        await new Promise((r) => setTimeout(r, 100));
      }
      for (let round = 0; round < ROUNDS; round++) {
        const where = { seed, round };
        const before: Packages = new Map(m.pkgs);
        m.modify(rand);
        await m.write();
        const step = diff(before, m.pkgs);
        expected.push(...step);
        // A --once pushes the daemon's next own run a frequency later: one round in six waits past it.
        await new Promise((r) => setTimeout(r, round % 6 === 5 ? 11_500 : rand() * 3000));
        const n = round % 4 === 3 ? 2 : 1;
        const outs = await Promise.all(
          Array.from({ length: n }, () => ctagent(["--once", "--json", ...common])),
        );
        for (const o of outs) {
          figures.onces++;
          check(o.code <= 7, `--once: exit ${o.code}: ${o.err}`, where);
          const got = changeLines(JSON.parse(o.out).changes);
          // The changes are this --once's to report, or the daemon's own run found them first.
          const mine = JSON.stringify(got) === JSON.stringify(step);
          check(mine || got.length === 0, `--once reported ${JSON.stringify(got.slice(0, 5))}`, where);
          const bits = (got.some((l) => l.startsWith("Added")) ? 1 : 0) |
            (got.some((l) => l.startsWith("Removed")) ? 2 : 0) | (got.some((l) =>
                l.startsWith("Modified")
              )
              ? 4
              : 0);
          check(o.code === bits, `exit ${o.code} for ${got.length} changes`, where);
          if (got.length) figures.reported++;
          else figures.empty++;
        }
        rx.trim();
        figures.held++;
      }
      // Everything the runs committed arrives, once.
      const until = Date.now() + 30_000;
      while (committedRecords(join(data, "ctagent.db")).left > 0 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      daemon.kill("SIGTERM");
    }
    const status = await daemon.status;
    assert.equal(status.code, 0, await daemonLog);
    const c = committedRecords(join(data, "ctagent.db"));
    console.log(
      `daemon + --once (seed ${seed}): ${figures.onces} --once in ${ROUNDS} rounds (every 4th two at once), ` +
        `${figures.reported} reported the round's changes, ${figures.empty} found the daemon had; ${figures.held} ` +
        `of ${ROUNDS} rounds held. Records: ${c.records} committed, ${rx.seen.size} distinct delivered, ` +
        `${rx.duplicates()} duplicates; ${rx.changes.length} change records for ${expected.length} changes`,
    );
    assert.equal(c.left, 0);
    assert.equal(rx.duplicates(), 0);
    assert.equal(rx.seen.size, c.records);
    assert.deepEqual(changeLines(rx.changes), expected.sort());
    await rx.close();
  }));
