// Reliability: runs on a small tmpfs whose free space comes and goes at random: a run is whole or not at all.
import assert from "node:assert/strict";
import { join } from "node:path";
import { dcrCollectorsOnly, withTempDir } from "../helpers.ts";
import { tmpfsSkipReason, withTmpfs } from "../tmpfs.ts";
import {
  changeLines,
  check,
  committedRecords,
  ctagent,
  diff,
  machine,
  type Packages,
  random,
  receiver,
  samePackages,
  stored,
} from "./world.ts";

const skip = tmpfsSkipReason();
const ROUNDS = 30;

/** Bytes free on the file system of `dir`. */
function free(dir: string): number {
  const out = new Deno.Command("df", { args: ["-B1", "--output=avail", dir] }).outputSync();
  return Number(new TextDecoder().decode(out.stdout).trim().split("\n").pop());
}

Deno.test({
  name:
    `reliability: ${ROUNDS} runs on a 24 MB tmpfs filled and freed at random: whole runs, the real cause, recovery${
      skip ? ` (SKIPPED: ${skip})` : ""
    }`,
  ignore: !!skip,
  fn: () =>
    withTempDir((dir) =>
      withTmpfs("24m", async (fs) => {
        const seed = Number(Deno.env.get("CTAGENT_SEED") ?? Date.now() % 1_000_000);
        const rand = random(seed);
        const m = await machine(dir);
        m.add(6_000);
        await m.write();
        const rx = await receiver();
        const db = join(fs.dir, "ctagent.db");
        const filler = join(fs.dir, "filler");
        const args = ["--once", "--json", "--deliver-timeout", "30", "--root", m.root, "--dcr", m.dcr];
        args.push("--data-dir", fs.dir, "--forward", rx.sink, "--no-ama");
        // Only the DCR's software: a collector on by default (users, …) storing after software could fail alone
        // on the full disk, and its exit 19 would then stand beside software's stored run.
        args.push(...dcrCollectorsOnly(dir));
        const figures = { ok: 0, full: 0, held: 0 };
        let known: Packages = new Map();
        for (let round = 0; round < ROUNDS; round++) {
          const where = { seed, round };
          if (round > 0) {
            m.modify(rand);
            await m.write();
          }
          // Half the rounds run with 0-400 KB free (a baseline needs ~10 MB, a rescan a few hundred KB), the others with the filler gone.
          await Deno.remove(filler).catch(() => {});
          if (rand() < 0.5) {
            const fill = free(fs.dir) - Math.floor(rand() * 400_000);
            if (fill > 0) new Deno.Command("fallocate", { args: ["-l", String(fill), filler] }).outputSync();
          }
          const r = await ctagent(args);
          if (r.code === 19) {
            const st = await ctagent(["status", "--json", "--data-dir", fs.dir]);
            check(st.code === 0, `status on a full disk: ${st.err}`, where);
          }
          // The test's own look needs room for SQLite's -shm file.
          await Deno.remove(filler).catch(() => {});
          const s = stored(db);
          check(s.integrity === "ok", `integrity_check: ${s.integrity}`, where);
          if (r.code === 19) {
            figures.full++;
            check(/database or disk is full|no space left/i.test(r.err), `the real cause: ${r.err}`, where);
            check(
              !/cannot rollback|\n\s+at /.test(r.err),
              `a hidden cause or a stack trace: ${r.err}`,
              where,
            );
            check(
              samePackages(s.items, known),
              "a run that could not be stored left a part of itself",
              where,
            );
          } else {
            check(r.code <= 7, `exit ${r.code}: ${r.err}`, where);
            figures.ok++;
            const res = JSON.parse(r.out);
            if (known.size) {
              const got = changeLines(res.changes), want = diff(known, m.pkgs);
              check(
                JSON.stringify(got) === JSON.stringify(want),
                `changes: ${got.length} vs ${want.length}`,
                where,
              );
            }
            check(samePackages(s.items, m.pkgs), "the stored items are not what was collected", where);
            known = new Map(m.pkgs);
          }
          rx.trim();
          figures.held++;
        }
        // Space returns: the next run reports what the failed ones could not store, and delivers everything.
        await Deno.remove(filler).catch(() => {});
        const last = await ctagent(args);
        assert.ok(last.code <= 7, last.err);
        if (known.size) assert.deepEqual(changeLines(JSON.parse(last.out).changes), diff(known, m.pkgs));
        const c = committedRecords(db);
        console.log(
          `disk full (seed ${seed}): ${ROUNDS} runs, ${figures.ok} stored, ${figures.full} refused for a full disk ` +
            `(exit 19, nothing partial), ${figures.held} of ${ROUNDS} held; then recovered. Records: ${c.records} ` +
            `committed, ${rx.seen.size} distinct delivered, ${rx.duplicates()} duplicates, ${c.left} left`,
        );
        assert.equal(c.left, 0);
        assert.equal(rx.seen.size, c.records);
        assert.ok(figures.full >= 3 && figures.ok >= 3, JSON.stringify(figures));
        await rx.close();
      })
    ),
});
