import assert from "node:assert/strict";
import { fileTimeToDate, HiveError, openHive } from "./hive.ts";
import { exportHive } from "./export.ts";
import {
  buildHive,
  freeValueList,
  hivexExport,
  named,
  perlBytes,
  regHex,
  regUtf16,
  SHARED_HIVES,
  sharedHive,
  skipReason,
  valueListField,
} from "./testdata/hives.ts";

const HIVES = [
  "SYSTEM_win7sp1_x86.xz",
  "Software_subtree_partial.xz",
  "NTUSER.DAT",
  "synthetic/EMPTY.hive",
  "synthetic/SOFTWARE.hive",
  "synthetic/SYSTEM.hive",
];

for (const name of HIVES) {
  const skip = skipReason({ hivex: true, xz: true });
  Deno.test({
    name: named(`exportHive() prints exactly what hivexregedit --export prints for ${name}`, skip),
    ignore: !!skip,
    async fn() {
      const file = await sharedHive(name);
      const hive = openHive(await Deno.readFile(file), file);
      const mine = perlBytes(exportHive(hive));
      const theirs = await hivexExport(file);
      assert.ok(theirs.length > 40, "hivexregedit printed nothing");
      if (mine.length !== theirs.length || mine.some((b, i) => b !== theirs[i])) {
        const a = new TextDecoder("latin1").decode(mine).split("\n");
        const b = new TextDecoder("latin1").decode(theirs).split("\n");
        const i = a.findIndex((l, n) => l !== b[n]);
        assert.fail(`first difference at line ${i + 1}:\n  mine:   ${a[i]}\n  hivex:  ${b[i]}`);
      }
    },
  });
}

function count(hive: ReturnType<typeof openHive>) {
  let keys = 0, values = 0, big = 0;
  const types = new Set<number>();
  const walk = (k: ReturnType<typeof hive.root>) => {
    keys++;
    for (const v of hive.values(k)) {
      values++;
      types.add(v.type);
      if (v.data.length > 16344) big++;
    }
    for (const c of hive.subkeys(k)) walk(c);
  };
  walk(hive.root());
  return { keys, values, big, types: [...types].sort((a, b) => a - b) };
}

// Counts from PROVENANCE.md, where hivex and libregf agree.
const COUNTS: [string, number, number, number[]][] = [
  ["SYSTEM_win7sp1_x86.xz", 30756, 73456, [0, 1, 2, 3, 4, 7, 8, 10, 11]],
  ["Software_subtree_partial.xz", 6396, 19990, [0, 1, 2, 3, 4, 7, 11]],
  ["NTUSER.DAT", 1597, 2310, []],
];
for (const [name, keys, values, types] of COUNTS) {
  const skip = skipReason({ xz: true });
  Deno.test({
    name: named(`openHive() reads every key and value of the real hive ${name}`, skip),
    ignore: !!skip,
    async fn() {
      const file = await sharedHive(name);
      const hive = openHive(await Deno.readFile(file), file);
      assert.equal(hive.header.dirty, false);
      assert.equal(hive.header.checksumOk, true);
      const c = count(hive);
      assert.equal(c.keys, keys);
      assert.equal(c.values, values);
      if (types.length) assert.deepEqual(c.types, types);
    },
  });
}

Deno.test({
  name: named(
    "openHive() reads big data (db) values across segments in the real SYSTEM hive",
    skipReason({ xz: true }),
  ),
  ignore: !!skipReason({ xz: true }),
  async fn() {
    const hive = openHive(await Deno.readFile(await sharedHive("SYSTEM_win7sp1_x86.xz")));
    assert.ok(count(hive).big > 0, "expected values over 16344 bytes in SYSTEM");
    assert.equal(hive.lookup("Select") !== null, true);
    const cn = hive.lookup("ControlSet001\\Control\\ComputerName\\ComputerName")!;
    const v = hive.values(cn).find((x) => x.name === "ComputerName")!;
    assert.equal(new TextDecoder("utf-16le").decode(v.data).replace(/\0+$/, ""), "WKS-WIN732BITA");
  },
});

const BIG = Uint8Array.from({ length: 40000 }, (_, i) => (i * 7 + (i >> 8)) & 0xff);

function builtReg(): string {
  const lines = [
    "Windows Registry Editor Version 5.00",
    "",
    "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Built]",
    '@="default"',
    '"Sz"="hello \\"quoted\\" \\\\ back"',
    `"ExpandSz"=hex(2):${regUtf16("%SystemRoot%\\x")}`,
    `"MultiSz"=hex(7):${regUtf16("one\0two\0")}`,
    '"Dword"=dword:fffffffe',
    '"Qword"=hex(b):ef,cd,ab,89,67,45,23,01',
    `"Big"=hex:${regHex(BIG)}`,
    `"Ünïcödé ☃"=hex(1):${regUtf16("snow ☃")}`,
    "",
    "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Built\\Many]",
    "",
  ];
  // Enough subkeys that hivex has to write a long subkey list.
  for (let i = 0; i < 600; i++) {
    lines.push(
      `[HKEY_LOCAL_MACHINE\\SOFTWARE\\Built\\Many\\k${String(i).padStart(4, "0")}]`,
      `"i"=dword:${i.toString(16).padStart(8, "0")}`,
      "",
    );
  }
  lines.push("[HKEY_LOCAL_MACHINE\\SOFTWARE\\Built\\Ключ ☃]", '"x"="y"', "");
  return lines.join("\n");
}

Deno.test({
  name: named(
    "openHive() reads a hive built with hivexregedit: every type, big data, Unicode names, 600 subkeys",
    skipReason({ hivex: true }),
  ),
  ignore: !!skipReason({ hivex: true }),
  async fn() {
    const { file, bytes } = await buildHive(builtReg(), "HKEY_LOCAL_MACHINE\\SOFTWARE", "SOFTWARE");
    const hive = openHive(bytes, file);
    const built = hive.lookup("Built")!;
    const values = new Map(hive.values(built).map((v) => [v.name, v]));
    assert.deepEqual(values.get("Big")!.data, BIG);
    assert.equal(values.get("Big")!.type, 3);
    assert.equal(values.get("Dword")!.type, 4);
    assert.ok(values.has("Ünïcödé ☃"));
    assert.equal(hive.subkeys(hive.lookup("Built\\Many")!).length, 600);
    assert.equal(hive.subkey(built, "ключ ☃")?.name, "Ключ ☃", "names compare case-insensitively");
    assert.deepEqual(perlBytes(exportHive(hive)), await hivexExport(file));
  },
});

async function synthetic(): Promise<Uint8Array> {
  return await Deno.readFile(`${SHARED_HIVES}synthetic/SOFTWARE.hive`);
}

const skipShared = skipReason();
Deno.test({
  name: named("openHive() names the offset where a truncated hive ends", skipShared),
  ignore: !!skipShared,
  async fn() {
    const bytes = (await synthetic()).slice(0, 12000);
    assert.throws(() => openHive(bytes, "cut.hive"), (e: unknown) => {
      assert.ok(e instanceof HiveError);
      assert.match(e.message, /^cut\.hive: hive truncated: .* ends at offset 0x2ee0$/);
      assert.equal(e.offset, 12000);
      return true;
    });
    assert.throws(() => openHive(bytes.slice(0, 100)), /less than a base block.* at offset 0x0/);
    const notRegf = (await synthetic()).slice();
    notRegf[0] = 0x52;
    assert.throws(() => openHive(notRegf), /no "regf" signature at offset 0x0/);
  },
});

Deno.test({
  name: named("openHive() names the offset of a corrupt key cell", skipShared),
  ignore: !!skipShared,
  async fn() {
    const bytes = (await synthetic()).slice();
    const hive = openHive(bytes);
    const rootAt = 0x1000 + hive.header.rootOffset;
    bytes[rootAt + 4] = 0x78; // "nk" → "xk"
    assert.throws(() => openHive(bytes).root(), (e: unknown) => {
      assert.ok(e instanceof HiveError);
      assert.equal(e.offset, rootAt + 4);
      assert.match(
        e.message,
        new RegExp(`expected nk cell, found "xk" at offset 0x${(rootAt + 4).toString(16)}$`),
      );
      return true;
    });
  },
});

Deno.test({
  name: named(
    "openHive() on randomly damaged hives throws HiveError or reads, never anything else, never hangs",
    skipShared,
  ),
  ignore: !!skipShared,
  async fn() {
    const good = await synthetic();
    let seed = 12345;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) >>> 0) % n;
    let errors = 0, reads = 0;
    const started = performance.now();
    for (let round = 0; round < 400; round++) {
      const bytes = good.slice();
      for (let j = 0; j < 1 + rand(8); j++) bytes[0x1000 + rand(good.length - 0x1000)] = rand(256);
      try {
        exportHive(openHive(bytes, "fuzz"));
        reads++;
      } catch (e) {
        if (!(e instanceof HiveError)) throw new Error(`round ${round}: ${(e as Error).stack}`);
        assert.match(e.message, /at offset 0x[0-9a-f]+$/);
        errors++;
      }
    }
    assert.ok(errors > 50 && reads > 0, `errors ${errors}, reads ${reads}`);
    assert.ok(performance.now() - started < 10_000);
  },
});

Deno.test({
  name: named("openHive() refuses a subkey list that would make a loop, naming the offset", skipShared),
  ignore: !!skipShared,
  async fn() {
    const bytes = (await synthetic()).slice();
    const hive = openHive(bytes);
    const ms = hive.lookup("Microsoft")!;
    // Point Microsoft's first child entry back at the root: a loop a recursive walk would never leave.
    const [s] = [0x1000 + ms.offset + 4];
    const list = new DataView(bytes.buffer).getUint32(s + 0x1c, true);
    new DataView(bytes.buffer).setUint32(0x1000 + list + 4 + 4, hive.header.rootOffset, true);
    const damaged = openHive(bytes, "loop.hive");
    assert.throws(() => damaged.subkeys(damaged.lookup("Microsoft")!), (e: unknown) => {
      assert.ok(e instanceof HiveError);
      assert.match(
        e.message,
        /^loop\.hive: key "[^"]*" names parent 0x[0-9a-f]+ but is listed under 0x[0-9a-f]+ at offset 0x[0-9a-f]+$/,
      );
      return true;
    });
  },
});

Deno.test("fileTimeToDate() keeps every millisecond of a FILETIME above 2^53 (no rounding through a double)", () => {
  // 130000000000009999 × 100 ns: as a double the sum rounds up to …10000, one millisecond late.
  const ft = 130000000000009999n;
  const lo = Number(ft & 0xffffffffn), hi = Number(ft >> 32n);
  const ms = Number(ft / 10_000n) - 11_644_473_600_000;
  assert.equal(fileTimeToDate(lo, hi)!.getTime(), ms);
  assert.equal(fileTimeToDate(lo, hi)!.toISOString(), "2012-12-14T23:06:40.000Z");
  assert.equal(fileTimeToDate(0, 0), null);
  assert.equal(fileTimeToDate(0xffffffff, 0xffffffff)!.toISOString(), "+060056-05-28T05:36:10.955Z");
  // 1601-01-01: the FILETIME epoch itself is a real (if odd) date.
  assert.equal(fileTimeToDate(1, 0)!.toISOString(), "1601-01-01T00:00:00.000Z");
});

Deno.test({
  name: named("openHive() refuses a base block whose checksum fails, naming offset 0x1fc", skipShared),
  ignore: !!skipShared,
  async fn() {
    const bytes = (await synthetic()).slice();
    bytes[0x30] ^= 0x01; // the embedded file name: covered by the checksum, read by nothing else
    assert.throws(() => openHive(bytes, "sum.hive"), (e: unknown) => {
      assert.ok(e instanceof HiveError);
      assert.equal(e.offset, 0x1fc);
      assert.match(
        e.message,
        /^sum\.hive: base block checksum 0x[0-9a-f]+ does not match .* at offset 0x1fc$/,
      );
      return true;
    });
  },
});

/** Every key path and value of a hive that can be read, and the errors of what cannot (tolerant walk). */
function tolerantWalk(hive: ReturnType<typeof openHive>) {
  const values = new Map<string, string>();
  const errors: string[] = [];
  const walk = (k: ReturnType<typeof hive.root>, path: string) => {
    try {
      for (const v of hive.values(k)) values.set(`${path}\\\\${v.name}`, `${v.type}:${v.data.join(",")}`);
    } catch (e) {
      if (!(e instanceof HiveError)) throw e;
      errors.push(`${path}: ${e.message}`);
    }
    let children: ReturnType<typeof hive.subkeys> = [];
    try {
      children = hive.subkeys(k);
    } catch (e) {
      if (!(e instanceof HiveError)) throw e;
      errors.push(`${path}\\: ${e.message}`);
    }
    for (const c of children) walk(c, `${path}\\${c.name}`);
  };
  walk(hive.root(), "");
  return { values, errors };
}

Deno.test({
  name: named("openHive() treats a free cell referenced as used as damage, naming its offset", skipShared),
  ignore: !!skipShared,
  async fn() {
    const bytes = (await synthetic()).slice();
    const at = freeValueList(bytes, "FixtureValueTypes");
    const damaged = openHive(bytes, "free.hive");
    assert.throws(() => damaged.values(damaged.lookup("FixtureValueTypes")!), (e: unknown) => {
      assert.ok(e instanceof HiveError);
      assert.equal(e.offset, at);
      assert.match(
        e.message,
        /^free\.hive: value list: the cell is free \(not in use\) at offset 0x[0-9a-f]+$/,
      );
      return true;
    });
    assert.ok(damaged.lookup("Microsoft\\Windows\\CurrentVersion\\Uninstall\\7-Zip"), "the rest still reads");
  },
});

Deno.test({
  name: named("openHive() refuses an offset that points into the middle of a cell", skipShared),
  ignore: !!skipShared,
  async fn() {
    const bytes = (await synthetic()).slice();
    const view = new DataView(bytes.buffer);
    const field = valueListField(bytes, "FixtureValueTypes");
    view.setUint32(field, view.getUint32(field, true) + 8, true);
    const damaged = openHive(bytes, "mid.hive");
    assert.throws(
      () => damaged.values(damaged.lookup("FixtureValueTypes")!),
      /mid\.hive: value list: no cell starts here at offset 0x[0-9a-f]+$/,
    );
  },
});

const skipXz = skipReason({ xz: true });
Deno.test({
  name: named(
    "openHive() never reads past a bad hive bin signature after the first: what it holds is named unreadable, the rest is exact",
    skipXz,
  ),
  ignore: !!skipXz,
  async fn() {
    const good = await Deno.readFile(await sharedHive("sam/SAM_dupename_EZ.xz"));
    const intact = tolerantWalk(openHive(good, "SAM"));
    assert.deepEqual(intact.errors, []);
    const bytes = good.slice();
    bytes.set([0x68, 0x62, 0x69, 0x78], 0x2000); // "hbix": the second hive bin
    const damaged = tolerantWalk(openHive(bytes, "SAM"));
    assert.ok(damaged.errors.length > 0, "the damage is named");
    for (const e of damaged.errors) {
      assert.match(e, /in the damaged hive bin at 0x2000 \(bad signature "hbix"\)/);
    }
    assert.ok(damaged.values.size < intact.values.size);
    for (const [k, v] of damaged.values) assert.equal(v, intact.values.get(k), `${k} is read exactly`);
  },
});

Deno.test({
  name: named("openHive() stops a hive bin's cells at a cell size that breaks the chain, naming it", skipXz),
  ignore: !!skipXz,
  async fn() {
    const good = await Deno.readFile(await sharedHive("sam/SAM_dupename_EZ.xz"));
    const intact = tolerantWalk(openHive(good, "SAM"));
    const bytes = good.slice();
    new DataView(bytes.buffer).setInt32(0x3020, 0, true); // the first cell of the third bin: size 0
    const damaged = tolerantWalk(openHive(bytes, "SAM"));
    assert.ok(damaged.errors.length > 0);
    for (const e of damaged.errors) {
      assert.match(
        e,
        /in the damaged hive bin at 0x3000 \(cell size 0 at 0x3020 breaks its chain of cells\)/,
      );
    }
    for (const [k, v] of damaged.values) assert.equal(v, intact.values.get(k));
  },
});
