// Reliability: kill -9 at 100 random points of baselines and rescans (--once and the daemon), with random changes.
import { join } from "node:path";
import { withTempDir } from "../helpers.ts";
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

const PACKAGES = 6_000;
/** Kills that land while the process runs (a kill after it ended is tried again at another point). */
const BASELINE_POINTS = 20;
const RESCAN_POINTS = 80;
/** Tries per landed kill, at most. */
const TRIES = 3;
/** Most records one kill can duplicate: one batch acked by the receiver but not yet deleted. */
const BATCH = 1_000;

Deno.test("reliability: kill -9 at 100 random points of baselines and rescans: integrity, the exact next changes, no record lost", () =>
  withTempDir(async (dir) => {
    const seed = Number(Deno.env.get("CTAGENT_SEED") ?? Date.now() % 1_000_000);
    const rand = random(seed);
    const m = await machine(dir);
    m.add(PACKAGES);
    await m.write();
    const rx = await receiver();
    const dirs: string[] = [];
    const figures = { tried: 0, killed: 0, held: 0, committedWhenKilled: 0, daemon: 0 };
    let runMs = 2_000;
    const args = (data: string, once = true) => [
      ...(once ? ["--once", "--json", "--deliver-timeout", "60"] : ["--no-ui"]),
      "--root",
      m.root,
      "--dcr",
      m.dcr,
      "--data-dir",
      data,
      "--forward",
      rx.sink,
      "--no-ama",
    ];
    /** One kill point: the database must hold the state before the run or after it, never anything else. */
    const killAt = async (data: string, before: Packages, round: number, daemon: boolean) => {
      const where = { seed, round };
      figures.tried++;
      // Startup takes ~400 ms of a run's life: the points are spread over the rest of it.
      const at = 150 + rand() * (daemon ? runMs + 800 : runMs);
      const dupBefore = rx.duplicates();
      const r = await ctagent(args(data, !daemon), at);
      if (r.killed) figures.killed++;
      else check(r.code <= 7, `the run was not killed but failed: exit ${r.code}: ${r.err}`, where);
      const db = join(data, "ctagent.db");
      let items: Packages = new Map();
      try {
        await Deno.stat(db);
        const s = stored(db);
        check(s.integrity === "ok", `integrity_check: ${s.integrity}`, where);
        items = s.items;
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
      const atomic = samePackages(items, before) || samePackages(items, m.pkgs);
      check(atomic, `the database holds a partial run: ${items.size} items`, where);
      if (r.killed && !samePackages(items, before)) figures.committedWhenKilled++;
      // The next run reports exactly what the database does not know yet, and delivers everything.
      const t0 = Date.now();
      const next = await ctagent(args(data));
      runMs = Date.now() - t0;
      check(next.code <= 7, `the next run failed: exit ${next.code}: ${next.err}`, where);
      const res = JSON.parse(next.out);
      if (items.size === 0) {
        check(res.runs[0].status === "baseline", `expected a baseline, got ${res.runs[0].status}`, where);
      } else {
        const want = diff(items, m.pkgs), got = changeLines(res.changes);
        check(
          JSON.stringify(got) === JSON.stringify(want),
          `changes: got ${got.length} ${JSON.stringify(got.slice(0, 5))}, want ${want.length} ${
            JSON.stringify(want.slice(0, 5))
          }`,
          where,
        );
      }
      check(committedRecords(db).left === 0, `records left in the outbox: ${next.err}`, where);
      rx.trim();
      // Duplicates come only from a kill between the receiver's ack and the delete.
      if (!r.killed) check(rx.duplicates() === dupBefore, "duplicates without a kill", where);
      figures.held++;
      return r.killed;
    };

    // Kills during baselines: a new data directory each time.
    for (let i = 0, landed = 0; landed < BASELINE_POINTS && i < BASELINE_POINTS * TRIES; i++) {
      const data = join(dir, `data-baseline-${i}`);
      dirs.push(data);
      if (await killAt(data, new Map(), i, false)) landed++;
    }
    // Kills during rescans, of --once and (one in four) of the daemon, each after random changes.
    const data = join(dir, "data-rescans");
    dirs.push(data);
    let before: Packages = new Map();
    for (let i = 0, landed = 0; landed < RESCAN_POINTS && i < RESCAN_POINTS * TRIES; i++) {
      if (i > 0) {
        m.modify(rand);
        await m.write();
      }
      const daemon = i % 4 === 3;
      if (daemon) figures.daemon++;
      if (await killAt(data, before, 1000 + i, daemon)) landed++;
      before = new Map(m.pkgs);
    }

    // The outbox: every record a committed run put there arrived; duplicates only from kills (ack → delete).
    let total = 0;
    for (const d of dirs) {
      const c = committedRecords(join(d, "ctagent.db"));
      check(c.dropped === 0 && c.left === 0, `outbox of ${d}: ${JSON.stringify(c)}`, { seed, round: -1 });
      total += c.records;
    }
    const duplicates = rx.duplicates();
    console.log(
      `kill -9 (seed ${seed}): ${figures.tried} points tried, ${figures.killed} killed a running process ` +
        `(${figures.daemon} the daemon), ${figures.held} of ${figures.tried} held (integrity, no partial run, ` +
        `exact next changes, outbox delivered); ${figures.committedWhenKilled} killed processes had committed ` +
        `their run. Records: ${total} committed, ${rx.seen.size} distinct delivered, ${duplicates} duplicates`,
    );
    check(rx.seen.size === total, `${total} records committed, ${rx.seen.size} delivered`, {
      seed,
      round: -1,
    });
    check(duplicates <= figures.killed * BATCH, `${duplicates} duplicates`, { seed, round: -1 });
    check(figures.killed >= BASELINE_POINTS + RESCAN_POINTS, `only ${figures.killed} kills landed`, {
      seed,
      round: -1,
    });
    await rx.close();
  }));
