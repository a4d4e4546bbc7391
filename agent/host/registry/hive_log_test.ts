// Dirty hives with their transaction logs, against the copies Windows itself made by loading them (../shared).
import assert from "node:assert/strict";
import { baseBlockChecksum, HiveError, openHive } from "./hive.ts";
import { exportHive } from "./export.ts";
import { DIRTY_NO_LOGS, marvin32, recoverHive } from "./hive_log.ts";
import { hivexExport, named, perlBytes, sharedHive, skipReason } from "./testdata/hives.ts";

const read = async (name: string) => await Deno.readFile(await sharedHive(`dirty/${name}.xz`));
const logsOf = async (name: string, which: string[]) =>
  await Promise.all(
    which.map(async (ext) => ({ source: `${name}.${ext}`, bytes: await read(`${name}.${ext}`) })),
  );

/** Every key path, and every value's type and data, as hivexregedit --export prints them. */
const text = (lines: string[] | Uint8Array) =>
  new TextDecoder("latin1").decode(lines instanceof Uint8Array ? lines : perlBytes(lines));

function firstDifference(mine: string, theirs: string): string {
  const a = mine.split("\n"), b = theirs.split("\n");
  const i = a.findIndex((l, n) => l !== b[n]);
  return `line ${i + 1}:\n  mine:    ${a[i]?.slice(0, 200)}\n  Windows: ${b[i]?.slice(0, 200)}`;
}

const skip = skipReason({ hivex: true, xz: true });
const skipXz = skipReason({ xz: true });
for (
  const [name, logs, windows] of [
    ["yarp_NewDirtyHive1", ["LOG1", "LOG2"], "yarp_NewDirtyHive1_recovered_by_Win10"],
    ["yarp_OldDirtyHive", ["LOG1"], "yarp_OldDirtyHive_recovered_by_Win7"],
  ] as const
) {
  Deno.test({
    name: named(`recoverHive() applies the logs of ${name} to exactly the tree Windows made of it`, skip),
    ignore: !!skip,
    async fn() {
      const primary = await read(name);
      const before = primary.slice();
      const logBytes = await logsOf(name, [...logs]);
      const copies = logBytes.map((l) => l.bytes.slice());
      const r = recoverHive(primary, logBytes, name);
      assert.deepEqual(r.warnings, []);
      assert.ok(r.applied > 0, "something was applied");
      const hive = openHive(r.bytes, name);
      assert.equal(hive.header.dirty, false);
      assert.deepEqual(hive.damage, []);
      const mine = text(exportHive(hive));
      const theirs = text(await hivexExport(await sharedHive(`dirty/${windows}.xz`)));
      assert.ok(mine === theirs, firstDifference(mine, theirs));
      // In memory only: the hive and its logs are as they were.
      assert.deepEqual(primary, before);
      logBytes.forEach((l, i) => assert.deepEqual(l.bytes, copies[i]));
      // And the dirty hive read as it is differs: the test can tell.
      assert.notEqual(text(exportHive(openHive(primary, name))), theirs);
    },
  });
}

Deno.test({
  name: named(
    "recoverHive() takes the base block of a new-format hive from its log when its own checksum fails",
    skip,
  ),
  ignore: !!skip,
  async fn() {
    const primary = (await read("yarp_NewDirtyHive1")).slice();
    primary[0x40] ^= 0x20; // in the embedded file name: the checksum no longer matches
    const r = recoverHive(primary, await logsOf("yarp_NewDirtyHive1", ["LOG1", "LOG2"]), "new");
    assert.deepEqual(r.warnings, []);
    const mine = text(exportHive(openHive(r.bytes, "new")));
    const theirs = text(
      await hivexExport(await sharedHive("dirty/yarp_NewDirtyHive1_recovered_by_Win10.xz")),
    );
    assert.ok(mine === theirs, firstDifference(mine, theirs));
  },
});

Deno.test({
  name: named(
    "recoverHive() matches an old-format log to a hive whose checksum fails by the first hive bin's timestamp",
    skip,
  ),
  ignore: !!skip,
  async fn() {
    const primary = (await read("yarp_OldDirtyHive")).slice();
    const logs = await logsOf("yarp_OldDirtyHive", ["LOG1"]);
    primary[0x40] ^= 0x20;
    // This hive's first bin holds an older time than its log: the log is not for it, as Windows decides.
    const refused = recoverHive(primary, logs, "old");
    assert.equal(refused.applied, 0);
    assert.match(refused.warnings[0], /none of its logs \(yarp_OldDirtyHive\.LOG1\) applies/);
    // With the times equal it is, and the base block comes from the log.
    primary.set(logs[0].bytes.subarray(12, 20), 0x1000 + 20);
    const r = recoverHive(primary, logs, "old");
    assert.deepEqual([r.applied, r.warnings], [1, []]);
    const mine = text(exportHive(openHive(r.bytes, "old")));
    const theirs = text(await hivexExport(await sharedHive("dirty/yarp_OldDirtyHive_recovered_by_Win7.xz")));
    assert.ok(mine === theirs, firstDifference(mine, theirs));
  },
});

Deno.test({
  name: named(
    "recoverHive() applies a chain that starts after the hive's sequence number (a partial reconcile) unless a log stopped before it",
    skipXz,
  ),
  ignore: !!skipXz,
  async fn() {
    const name = "NTUSER_transactions";
    const logs = await logsOf(name, ["LOG1", "LOG2"]);
    const normal = recoverHive(await read(name), logs, "NTUSER.DAT");
    // The hive's sequence numbers from before its logs' oldest entries: what a partial reconcile leaves.
    const primary = (await read(name)).slice();
    const view = new DataView(primary.buffer);
    view.setUint32(4, 0x201, true);
    view.setUint32(8, 0x200, true);
    view.setUint32(0x1fc, baseBlockChecksum(primary), true);
    const late = recoverHive(primary, logs, "NTUSER.DAT");
    assert.deepEqual(late.warnings, []);
    // The newest unbroken run (LOG1's), not LOG2's older entry that does not lead into it.
    assert.equal(late.applied, normal.applied);
    assert.deepEqual(valueMap(late.bytes), valueMap(normal.bytes));
    // With the first entry of LOG1 untrustworthy, nothing says the chain may start late: nothing applies.
    const log1 = logs[0].bytes.slice();
    log1[0x300] ^= 1;
    const refused = recoverHive(primary, [{ ...logs[0], bytes: log1 }, logs[1]], "NTUSER.DAT");
    assert.equal(refused.applied, 0);
    assert.match(refused.warnings.join("\n"), /LOG1: log entry at offset 0x200 fails its hash/);
    assert.match(refused.warnings.join("\n"), /none of its logs .* applies to it/);
    // A torn last entry (the write the crash cut) does not stand before the run: the run applies up to it.
    const torn = logs[0].bytes.slice();
    const view1 = new DataView(torn.buffer);
    let at = 512, lastAt = 512;
    while (at + 8 <= torn.length && view1.getUint32(at, true) === 0x454c7648) {
      [lastAt, at] = [at, at + view1.getUint32(at + 4, true)];
    }
    torn[lastAt + 0x30] ^= 1;
    const cut = recoverHive(primary, [{ ...logs[0], bytes: torn }, logs[1]], "NTUSER.DAT");
    assert.equal(cut.applied, normal.applied - 1);
    assert.match(
      cut.warnings.join("\n"),
      new RegExp(`log entry at offset 0x${lastAt.toString(16)} fails its hash`),
    );
  },
});

/** Values of a hive by key path and name → type and data. */
function valueMap(bytes: Uint8Array) {
  const hive = openHive(bytes);
  const out = new Map<string, string>();
  const walk = (k: ReturnType<typeof hive.root>, path: string) => {
    for (const v of hive.values(k)) out.set(`${path}\\\\${v.name}`, `${v.type}:${v.data.join(",")}`);
    for (const c of hive.subkeys(k)) walk(c, `${path}\\${c.name}`);
  };
  walk(hive.root(), "");
  return out;
}

Deno.test({
  name: named(
    "recoverHive() gives the real dirty NTUSER.DAT 595 values more, 19 fewer and 128 different, as an independent reader does",
    skipXz,
  ),
  ignore: !!skipXz,
  async fn() {
    const primary = await read("NTUSER_transactions");
    const r = recoverHive(primary, await logsOf("NTUSER_transactions", ["LOG1", "LOG2"]), "NTUSER.DAT");
    assert.deepEqual(r.warnings, []);
    const before = valueMap(primary), after = valueMap(r.bytes);
    const more = [...after.keys()].filter((k) => !before.has(k)).length;
    const fewer = [...before.keys()].filter((k) => !after.has(k)).length;
    const different = [...after].filter(([k, v]) => before.has(k) && before.get(k) !== v).length;
    assert.deepEqual({ more, fewer, different }, { more: 595, fewer: 19, different: 128 });
  },
});

Deno.test({
  name: named("recoverHive() reads a dirty hive without logs as it is and says so", skipXz),
  ignore: !!skipXz,
  async fn() {
    const primary = await read("yarp_NewDirtyHive1");
    const r = recoverHive(primary, [], "NTUSER.DAT");
    assert.equal(r.bytes, primary);
    assert.equal(r.applied, 0);
    assert.deepEqual(r.warnings, [`NTUSER.DAT: ${DIRTY_NO_LOGS}`]);
    assert.equal(DIRTY_NO_LOGS, "hive is dirty, its logs are missing: recent changes may be absent");
  },
});

Deno.test({
  name: named("recoverHive() leaves a clean hive alone, whatever its logs hold", skipXz),
  ignore: !!skipXz,
  async fn() {
    const clean = await read("yarp_NewDirtyHive1_recovered_by_Win10");
    const r = recoverHive(clean, await logsOf("yarp_NewDirtyHive1", ["LOG1", "LOG2"]), "clean");
    assert.equal(r.bytes, clean);
    assert.deepEqual([r.applied, r.warnings], [0, []]);
  },
});

Deno.test({
  name: named(
    "recoverHive() stops at a log entry whose hash fails, applies what came before, and names it",
    skipXz,
  ),
  ignore: !!skipXz,
  async fn() {
    const name = "NTUSER_transactions";
    const primary = await read(name);
    const logs = await logsOf(name, ["LOG1", "LOG2"]);
    const all = recoverHive(primary, logs, "NTUSER.DAT");
    // Damage the payload of the third entry of LOG1: its Hash-1 no longer matches.
    const log1 = logs[0].bytes.slice();
    const view = new DataView(log1.buffer);
    let at = 512;
    for (let i = 0; i < 2; i++) at += view.getUint32(at + 4, true);
    log1[at + view.getUint32(at + 4, true) - 1] ^= 0xff;
    const cut = recoverHive(primary, [{ ...logs[0], bytes: log1 }, logs[1]], "NTUSER.DAT");
    assert.equal(cut.applied, 2);
    assert.ok(all.applied > 2);
    assert.equal(cut.warnings.length, 1);
    assert.match(
      cut.warnings[0],
      new RegExp(
        `^NTUSER\\.DAT: NTUSER_transactions\\.LOG1: log entry at offset 0x${
          at.toString(16)
        } fails its hash: it and the entries after it are not applied, recent changes may be absent$`,
      ),
    );
  },
});

Deno.test({
  name: named("marvin32() gives the Hash-1 and Hash-2 Windows wrote on every entry of the real logs", skipXz),
  ignore: !!skipXz,
  async fn() {
    let entries = 0;
    for (const name of ["NTUSER_transactions.LOG1", "NTUSER_transactions.LOG2", "yarp_NewDirtyHive1.LOG1"]) {
      const log = await read(name);
      const view = new DataView(log.buffer);
      for (let at = 512; at + 40 <= log.length && view.getUint32(at, true) === 0x454c7648; entries++) {
        const size = view.getUint32(at + 4, true);
        assert.equal(
          marvin32(log.subarray(at + 40, at + size)),
          view.getBigUint64(at + 24, true),
          `${name} 0x${at.toString(16)}`,
        );
        assert.equal(marvin32(log.subarray(at, at + 32)), view.getBigUint64(at + 32, true));
        at += size;
      }
    }
    assert.ok(entries > 10, `${entries} entries`);
  },
});

/** Gives every entry of a new-format log (and its base block) the hashes and checksum it should have. */
function reseal(log: Uint8Array) {
  const view = new DataView(log.buffer);
  view.setUint32(0x1fc, baseBlockChecksum(log), true);
  for (let at = 512; at + 40 <= log.length && view.getUint32(at, true) === 0x454c7648;) {
    const size = view.getUint32(at + 4, true);
    if (size < 40 || size % 512 || at + size > log.length) return;
    view.setBigUint64(at + 24, marvin32(log.subarray(at + 40, at + size)), true);
    view.setBigUint64(at + 32, marvin32(log.subarray(at, at + 32)), true);
    at += size;
  }
}

Deno.test({
  name: named(
    "recoverHive() on randomly damaged and forged logs never throws, never hangs, never grows past its input; what it gives opens or is refused as damage",
    skipXz,
  ),
  ignore: !!skipXz,
  async fn() {
    const cases = [
      { name: "yarp_NewDirtyHive1", logs: await logsOf("yarp_NewDirtyHive1", ["LOG1", "LOG2"]) },
      { name: "yarp_OldDirtyHive", logs: await logsOf("yarp_OldDirtyHive", ["LOG1"]) },
      { name: "NTUSER_transactions", logs: await logsOf("NTUSER_transactions", ["LOG1", "LOG2"]) },
    ];
    const primaries = await Promise.all(cases.map((c) => read(c.name)));
    let seed = 777;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) >>> 0) % n;
    const started = performance.now();
    let opened = 0, refused = 0, applied = 0;
    for (let round = 0; round < 400; round++) {
      const which = [0, 1, 0, 1, 0, 1, 0, 2][round % 8]; // the big real one less often: it costs the most
      const c = cases[which], primary = primaries[which];
      const forge = round % 3 !== 0;
      const logs = c.logs.map((l) => {
        const b = l.bytes.slice();
        // Mostly the base block, the dirty vector and the first entry's header and page references.
        for (let j = 0; j < 1 + rand(6); j++) {
          b[rand(4) ? rand(Math.min(b.length, 0x300)) : rand(b.length)] = rand(2) ? rand(256) : 0xff;
        }
        // A forged log: hashes and checksum made to match, as anyone who writes a log can make them.
        if (forge) reseal(b);
        return { ...l, bytes: b };
      });
      const r = recoverHive(primary, logs, "fuzz");
      applied += r.applied;
      const input = primary.length + logs.reduce((n, l) => n + l.bytes.length, 0);
      assert.ok(r.bytes.length <= input, `round ${round}: ${r.bytes.length} bytes from ${input}`);
      try {
        exportHive(openHive(r.bytes, "fuzz"));
        opened++;
      } catch (e) {
        if (!(e instanceof HiveError)) throw new Error(`round ${round}: ${(e as Error).stack}`);
        refused++;
      }
    }
    assert.ok(opened > 0 && applied > 0, `opened ${opened}, refused ${refused}, applied ${applied}`);
    assert.ok(performance.now() - started < 30_000);
  },
});

Deno.test({
  name: named(
    "recoverHive() refuses a forged log entry that claims a hive far larger than its files",
    skipXz,
  ),
  ignore: !!skipXz,
  async fn() {
    const primary = await read("yarp_NewDirtyHive1");
    const [log1, log2] = await logsOf("yarp_NewDirtyHive1", ["LOG1", "LOG2"]);
    const forged = log1.bytes.slice();
    new DataView(forged.buffer).setUint32(512 + 16, 0x7ffff000, true); // hive bins size: 2 GiB
    reseal(forged);
    const r = recoverHive(primary, [{ ...log1, bytes: forged }, log2], "big");
    assert.ok(r.bytes.length <= primary.length + forged.length + log2.bytes.length);
    assert.match(r.warnings.join("\n"), /log entry at offset 0x200 has a bad hive bins size 2147479552/);
  },
});
