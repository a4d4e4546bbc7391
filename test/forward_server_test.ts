import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { encodeForward, eventTime, eventTimeFromMs, isEventTime, ProtocolError } from "../agent/ama/codec.ts";
import {
  ackOf,
  decodeAll,
  decodeForwardMessage,
  encodeAck,
  encodeCompressedPackedForward,
  encodeMessage,
  encodePackedForward,
  messageLength,
  messageScanner,
  timeToMs,
} from "./forward_server.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
const bytes = (h: string) => new Uint8Array(h.split(/\s+/).filter(Boolean).map((x) => parseInt(x, 16)));

Deno.test("encodeMessage() writes EventTime as fixext8 type 0 with u32be seconds and nanoseconds", () => {
  const got = encodeMessage("t", eventTime(1, 2), { a: "b" });
  assert.equal(hex(got), "93 a1 74 d7 00 00 00 00 01 00 00 00 02 81 a1 61 a1 62");
});

Deno.test("encodeMessage() writes a large EventTime byte-exact (no sign or float)", () => {
  const got = encodeMessage("t", eventTime(0xfedcba98, 999_999_999), {});
  assert.equal(hex(got), "93 a1 74 d7 00 fe dc ba 98 3b 9a c9 ff 80");
});

Deno.test("encodePackedForward() writes the entries as one bin of concatenated [time, record]", () => {
  const got = encodePackedForward("t", [[eventTime(1, 0), {}], [7, { a: "" }]]);
  const inner = "92 d7 00 00 00 00 01 00 00 00 00 80 92 07 81 a1 61 a0";
  assert.equal(hex(got), `92 a1 74 c4 12 ${inner}`);
});

Deno.test("encodeAck() writes {ack: chunk}", () => {
  assert.equal(hex(encodeAck("abc")), "81 a3 61 63 6b a3 61 62 63");
});

Deno.test("decodeForwardMessage() reads Message mode with an EventTime and option", () => {
  const [v] = decodeAll(bytes("94 a1 74 d7 00 00 00 00 01 00 00 00 02 81 a1 61 a1 62 81 a4 73 69 7a 65 01"));
  const d = decodeForwardMessage(v)!;
  assert.equal(d.mode, "Message");
  assert.equal(d.tag, "t");
  assert.ok(isEventTime(d.entries[0][0]));
  assert.deepEqual({ ...(d.entries[0][0] as object) }, { sec: 1, nsec: 2 });
  assert.deepEqual(d.entries[0][1], { a: "b" });
  assert.deepEqual(d.option, { size: 1 });
});

Deno.test("decodeForwardMessage() reads Forward mode with integer times", () => {
  const [v] = decodeAll(bytes("92 a3 74 61 67 92 92 ce 65 53 f1 00 81 a1 6b a1 76 92 01 80"));
  const d = decodeForwardMessage(v)!;
  assert.equal(d.mode, "Forward");
  assert.deepEqual(d.entries, [[1700000000, { k: "v" }], [1, {}]]);
  assert.equal(d.option, undefined);
});

Deno.test("decodeForwardMessage() reads PackedForward marked compressed: text as uncompressed", () => {
  const d = decodeForwardMessage(["t", bytes("92 07 80"), { compressed: "text" }])!;
  assert.equal(d.mode, "PackedForward");
  assert.deepEqual(d.entries, [[7, {}]]);
  assert.throws(
    () => decodeForwardMessage(["t", bytes("92 07 80"), { compressed: "zstd" }]),
    /unknown compression "zstd"/,
  );
});

Deno.test("decodeForwardMessage() reads PackedForward from bin", () => {
  const inner = "92 d7 00 00 00 00 01 00 00 00 00 80 92 07 81 a1 61 a0";
  const [v] = decodeAll(bytes(`92 a1 74 c4 12 ${inner}`));
  const d = decodeForwardMessage(v)!;
  assert.equal(d.mode, "PackedForward");
  assert.equal(d.entries.length, 2);
  assert.equal(timeToMs(d.entries[0][0]), 1000);
  assert.deepEqual(d.entries[1], [7, { a: "" }]);
});

Deno.test("decodeForwardMessage() refuses PackedForward entries sent as str, by name", () => {
  const [v] = decodeAll(bytes("92 a1 74 a6 92 07 81 a1 61 a0"));
  assert.throws(
    () => decodeForwardMessage(v),
    /PackedForward: entries sent as str \(\d+ chars\) are not supported/,
  );
});

Deno.test("decodeForwardMessage() reads CompressedPackedForward made of two concatenated gzip members", () => {
  const a = gzipSync(bytes("92 01 81 a1 61 a1 31"));
  const b = gzipSync(bytes("92 02 81 a1 61 a1 32"));
  const gz = new Uint8Array([...a, ...b]);
  const opt = "81 aa 63 6f 6d 70 72 65 73 73 65 64 a4 67 7a 69 70";
  const [v] = decodeAll(bytes(`93 a1 74 c4 ${gz.length.toString(16)} ${hex(gz)} ${opt}`));
  const d = decodeForwardMessage(v)!;
  assert.equal(d.mode, "CompressedPackedForward");
  assert.deepEqual(d.entries, [[1, { a: "1" }], [2, { a: "2" }]]);
});

Deno.test("encodeCompressedPackedForward() round-trips through decodeForwardMessage()", () => {
  const entries: [number, { n: string }][] = Array.from({ length: 50 }, (_, i) => [i, { n: String(i) }]);
  const d = decodeForwardMessage(decodeAll(encodeCompressedPackedForward("z", entries, { chunk: "c" }))[0])!;
  assert.equal(d.mode, "CompressedPackedForward");
  assert.equal(d.option?.chunk, "c");
  assert.deepEqual(d.entries, entries);
});

Deno.test("decodeForwardMessage() treats nil as a heartbeat and rejects malformed messages by name", () => {
  assert.equal(decodeForwardMessage(null), undefined);
  assert.throws(() => decodeForwardMessage([1, []]), /tag must be a string, got 1/);
  assert.throws(() => decodeForwardMessage(["t", [[1]]]), /Forward entries\[0\]: expected \[time, record\]/);
  assert.throws(() => decodeForwardMessage(["t", [["x", {}]]]), ProtocolError);
  assert.throws(
    () => decodeForwardMessage(["t", new Uint8Array([1, 2]), { compressed: "gzip" }]),
    /cannot gunzip/,
  );
  assert.throws(() => decodeForwardMessage(["t"]), /expected \[tag, \.\.\.\]/);
});

Deno.test("ackOf() reads the chunk of an ack and nothing else", () => {
  assert.equal(ackOf(decodeAll(encodeAck("id=="))[0]), "id==");
  assert.equal(ackOf({ nack: "x" }), undefined);
  assert.equal(ackOf("ack"), undefined);
});

Deno.test("eventTime() rejects out-of-range parts and eventTimeFromMs() keeps milliseconds", () => {
  assert.throws(() => eventTime(-1), RangeError);
  assert.throws(() => eventTime(1, 1e9), /0\.\.999999999, got 1000000000/);
  const t = eventTimeFromMs(1_700_000_000_123);
  assert.deepEqual([t.sec, t.nsec], [1_700_000_000, 123_000_000]);
  assert.equal(timeToMs(t), 1_700_000_000_123);
});

Deno.test("messageLength() finds where each message ends and waits on every incomplete prefix", () => {
  const samples = [
    encodeMessage("t", eventTime(1, 2), { a: "b", n: -5, f: 1.5, big: 2 ** 40, z: null, t: true }),
    encodeForward("tag", [[1_700_000_000, { k: "v".repeat(300) }], [eventTime(3, 4), {
      x: "日本".repeat(20000),
    }]]),
    encodePackedForward("t", [[7, { a: "" }]], { chunk: "c", size: 1 }),
    encodeCompressedPackedForward("z", [[1, { n: "1" }]]),
    encodeAck("abc"),
    decodeAll(bytes("c0"))[0] === null ? bytes("c0") : bytes(""),
    encodeForward("m", [[1, Object.fromEntries(Array.from({ length: 70000 }, (_, i) => [`k${i}`, ""]))]]),
  ];
  for (const m of samples) {
    assert.equal(messageLength(m), m.length);
    for (const cut of [0, 1, 2, 5, Math.floor(m.length / 2), m.length - 1]) {
      if (cut < m.length) {
        assert.equal(messageLength(m.subarray(0, cut)), undefined, `prefix ${cut} of ${m.length}`);
      }
    }
    const two = new Uint8Array([...m, ...encodeAck("next")]);
    assert.equal(messageLength(two), m.length);
    assert.equal(messageLength(two, m.length), two.length - m.length);
    assert.equal(messageLength(two, 0, m.length - 1), undefined);
  }
  // EventTime as ext8 (C7 08 00), which the protocol allows besides fixext8.
  const ext8 = bytes("93 a1 74 c7 08 00 00 00 00 01 00 00 00 02 80");
  assert.equal(messageLength(ext8), ext8.length);
  assert.equal(messageLength(ext8.subarray(0, 5)), undefined);
  const d = decodeForwardMessage(decodeAll(ext8)[0])!;
  assert.deepEqual({ ...(d.entries[0][0] as object) }, { sec: 1, nsec: 2 });
  assert.throws(() => messageLength(bytes("92 c1")), /Invalid msgpack type byte 0xc1 at offset 1/);
});

Deno.test("messageScanner() resumes across chunks and follows a buffer that moved", () => {
  const m = encodeForward(
    "tag",
    Array.from({ length: 50 }, (_, i) => [i, { k: "v".repeat(i * 10) }] as [number, { k: string }]),
  );
  const s = messageScanner(0);
  let end = 0;
  let found: number | undefined;
  while (found === undefined) {
    end = Math.min(m.length, end + 7);
    found = s.scan(m, end);
  }
  assert.equal(found, m.length);
  // The same message at offset 100 of a larger buffer, scanned partly, then moved to offset 0.
  const big = new Uint8Array(100 + m.length);
  big.set(m, 100);
  const t = messageScanner(100);
  assert.equal(t.scan(big, 100 + 40), undefined);
  t.shift(-100);
  assert.equal(t.scan(m, m.length), m.length);
});
