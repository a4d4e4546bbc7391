import assert from "node:assert/strict";
import { Encoder } from "@msgpack/msgpack";
import {
  ackScanner,
  encodeForward,
  encodeForwardJson,
  eventTime,
  extensionCodec,
  newChunkId,
} from "./codec.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
const str = (s: string) => hex(new TextEncoder().encode(s));

Deno.test("encodeForward() writes [tag, [[int time, record]]] with integer seconds as uint32", () => {
  const got = encodeForward("tag", [[1700000000, { k: "v" }]]);
  assert.equal(hex(got), "92 a3 74 61 67 91 92 ce 65 53 f1 00 81 a1 6b a1 76");
});

Deno.test("encodeForward() appends the chunk option as a third element", () => {
  const got = encodeForward("x", [[5, {}]], { chunk: "Q" });
  assert.equal(hex(got), `93 a1 78 91 92 05 80 81 a5 ${str("chunk")} a1 51`);
});

Deno.test("encodeForward() leaves out an empty option", () => {
  assert.equal(hex(encodeForward("x", [], {})), "92 a1 78 90");
});

Deno.test("newChunkId() is base64 of 16 bytes and differs each time", () => {
  const a = newChunkId();
  assert.match(a, /^[A-Za-z0-9+/]{22}==$/);
  assert.notEqual(a, newChunkId());
});

Deno.test("encodeForward() is byte-identical to the generic msgpack encoder for every string size class", () => {
  const generic = new Encoder({ extensionCodec, ignoreUndefined: true });
  let seed = 7;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  const alphabet = [
    "a",
    "Z",
    "0",
    " ",
    "é",
    "ß",
    "\u07ff",
    "\u0800",
    "日",
    "本",
    "😀",
    "\u{10ffff}",
    "\u0000",
    "\n",
    '"',
  ];
  const text = (len: number) => Array.from({ length: len }, () => alphabet[rnd(alphabet.length)]).join("");
  // Lengths around every header boundary (fixstr 31, str8 255, str16 65535), ASCII and multi-byte.
  const lengths = [
    0,
    1,
    10,
    31,
    32,
    33,
    84,
    85,
    86,
    127,
    128,
    129,
    254,
    255,
    256,
    21845,
    21846,
    65535,
    65536,
    70000,
  ];
  const entries: [number | ReturnType<typeof eventTime>, Record<string, unknown>][] = [];
  for (const len of lengths) {
    entries.push([rnd(2 ** 32), { ascii: "x".repeat(len), mixed: text(len), [text(rnd(40))]: text(3) }]);
  }
  entries.push([eventTime(1_700_000_000, 5), {
    n: 5,
    big: 2 ** 40,
    neg: -3,
    f: 1.5,
    b: true,
    z: null,
    u: undefined,
  }]);
  for (const t of [0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32]) entries.push([t, {}]);
  const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, `v${i}`]));
  entries.push([1, many]);
  for (const option of [undefined, { chunk: "abc", size: entries.length }]) {
    const want = generic.encode(option ? ["tag", entries, option] : ["tag", entries]);
    const got = encodeForward("tag", entries, option);
    assert.equal(got.length, want.length);
    assert.ok(got.every((b, i) => b === want[i]), "same bytes");
  }
});

Deno.test("encodeForward() writes a lone surrogate as U+FFFD so AMA always gets valid UTF-8", () => {
  const got = encodeForward("t", [[1, { k: "a\ud800b" }]]);
  assert.equal(hex(got), "92 a1 74 91 92 01 81 a1 6b a5 61 ef bf bd 62");
});

Deno.test("encodeForwardJson() turns outbox JSON into the same bytes as encodeForward() of the parsed records", () => {
  let seed = 11;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  const pieces = [
    "a",
    "Zz",
    " ",
    '"',
    "\\",
    "/",
    "\n",
    "\t",
    "\r",
    "\b",
    "\f",
    "\u0001",
    "\u001f",
    "é",
    "日本",
    "😀",
  ];
  const pieces2 = [...pieces, "\ud800", "\udc00", "\u2028", "\u007f"];
  const text = (len: number, from: string[]) =>
    Array.from({ length: len }, () => from[rnd(from.length)]).join("");
  const records: Record<string, unknown>[] = [{}, { a: "" }];
  for (let r = 0; r < 300; r++) {
    const rec: Record<string, unknown> = {};
    const keys = rnd(25);
    for (let k = 0; k < keys; k++) {
      rec[`K${text(rnd(6), pieces)}${k}`] = text(rnd(r % 10 === 0 ? 400 : 40), pieces2);
    }
    records.push(rec);
  }
  // Not flat string maps: these go through JSON.parse and must come out the same too.
  records.push({ n: 1, s: "x" }, { o: { p: "q" } }, { b: true, z: null }, { arr: ["x"] });
  const entries = records.map((r, i) => [i, r] as [number, Record<string, unknown>]);
  const want = encodeForward("t", entries, { chunk: "c" });
  const got = encodeForwardJson("t", entries.map(([t, r]) => [t, JSON.stringify(r)] as const), {
    chunk: "c",
  });
  assert.equal(hex(got.subarray(0, 64)), hex(want.subarray(0, 64)));
  assert.equal(got.length, want.length);
  assert.ok(got.every((b, i) => b === want[i]), "same bytes");
  // Whitespace, a bad escape or a truncated text are not transcoded but parsed (or rejected by JSON.parse).
  const spaced = encodeForwardJson("t", [[1, '{ "a" : "b" }']]);
  assert.equal(hex(spaced), hex(encodeForward("t", [[1, { a: "b" }]])));
  assert.throws(() => encodeForwardJson("t", [[1, '{"a":"b']]), SyntaxError);
  assert.throws(() => encodeForwardJson("t", [[1, '{"a":"\\x"}']]), SyntaxError);
});

Deno.test("ackScanner() finds every {ack: id} in a reply stream, whatever garbage is around it or splits it", () => {
  const enc = new TextEncoder();
  const ack = (id: string) => {
    const b = enc.encode(id);
    return [0x81, 0xa3, 0x61, 0x63, 0x6b, 0xa0 | b.length, ...b];
  };
  // str8 and str16 forms of the value (another msgpack writer may choose them), and a map with more keys.
  const str8 = (id: string) => [0x81, 0xa3, 0x61, 0x63, 0x6b, 0xd9, id.length, ...enc.encode(id)];
  const stream = new Uint8Array([
    0xc1,
    0xff,
    0x00,
    ...ack("AAAAAAAAAAAAAAAAAAAAAA=="),
    0xc0,
    0x2a,
    0x13,
    ...str8("BBBBBBBBBBBBBBBBBBBBBB=="),
    0x82,
    0xa1,
    0x78,
    0x01,
    0xa3,
    0x61,
    0x63,
    0x6b,
    0xda,
    0x00,
    0x18,
    ...enc.encode("CCCCCCCCCCCCCCCCCCCCCC=="),
    0xa3,
    0x61,
    0x63,
    0x6b,
    0x2a, // "ack" followed by no string: not an ack
    ...ack("DDDDDDDDDDDDDDDDDDDDDD=="),
  ]);
  const want = [
    "AAAAAAAAAAAAAAAAAAAAAA==",
    "BBBBBBBBBBBBBBBBBBBBBB==",
    "CCCCCCCCCCCCCCCCCCCCCC==",
    "DDDDDDDDDDDDDDDDDDDDDD==",
  ];
  // Whole, and cut at every byte (an ack split across reads is still one ack).
  const whole = ackScanner();
  assert.deepEqual(whole.push(stream), want);
  for (let cut = 1; cut < stream.length; cut++) {
    const s = ackScanner();
    assert.deepEqual(
      [...s.push(stream.subarray(0, cut)), ...s.push(stream.subarray(cut))],
      want,
      `cut at ${cut}`,
    );
  }
  assert.ok(whole.ignored() > 0, "what was no ack is counted");
  assert.deepEqual(ackScanner().push(new Uint8Array(1000).fill(0xa3)), []);
});
