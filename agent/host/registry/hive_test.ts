import assert from "node:assert/strict";
import { HiveError, openHive } from "./hive.ts";
import { exportHive } from "./export.ts";
import {
  buildHive,
  hivexExport,
  named,
  perlBytes,
  regHex,
  regUtf16,
  SHARED_HIVES,
  sharedHive,
  skipReason,
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
