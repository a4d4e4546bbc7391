// The Fluentd forward protocol's server side, for the fake AMA and tests: every message mode decoded (Message,
// Forward, PackedForward, CompressedPackedForward), acks written, and the modes ctagent itself never sends.
import { Decoder, Encoder } from "@msgpack/msgpack";
import { gunzipSync, gzipSync } from "node:zlib";
import {
  type Entry,
  type EventRecord,
  extensionCodec,
  isEventTime,
  type Option,
  ProtocolError,
  type Time,
} from "../agent/ama/codec.ts";

const encoder = new Encoder({ extensionCodec, ignoreUndefined: true });

/** A decoder with limits that fit a forward receiver (AMA's own limits: 10 MiB strings, 10 M items). */
export function newDecoder(): Decoder {
  return new Decoder({
    extensionCodec,
    maxStrLength: 10_485_760,
    maxBinLength: 256 * 1024 * 1024,
    maxArrayLength: 10_485_760,
    maxMapLength: 10_485_760,
  });
}
const pack = (v: unknown): Uint8Array => encoder.encode(v);

function checkTag(tag: string): void {
  if (typeof tag !== "string" || tag === "") throw new TypeError(`Forward tag must be a non-empty string`);
}

function withOption(parts: unknown[], option?: Option): unknown[] {
  if (option && Object.keys(option).length) parts.push(option);
  return parts;
}

/** Epoch milliseconds of a wire time (nanoseconds beyond ms are dropped). */
export function timeToMs(t: Time): number {
  return typeof t === "number" ? t * 1000 : t.sec * 1000 + Math.floor(t.nsec / 1_000_000);
}

export type Mode = "Message" | "Forward" | "PackedForward" | "CompressedPackedForward";

/** What a server reads from one forward message. */
export interface Decoded {
  mode: Mode;
  tag: string;
  entries: Entry[];
  option?: Option;
}

/** Message mode: `[tag, time, record, option?]`. */
export function encodeMessage(tag: string, time: Time, record: EventRecord, option?: Option): Uint8Array {
  checkTag(tag);
  return pack(withOption([tag, time, record], option));
}

/** The concatenated `[time, record]` msgpack stream of (Compressed)PackedForward. */
export function encodeEntryStream(entries: readonly Entry[]): Uint8Array {
  const parts = entries.map((e) => pack(e));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** PackedForward mode: `[tag, bin(<<[time, record]>>*), option?]`. */
export function encodePackedForward(tag: string, entries: readonly Entry[], option?: Option): Uint8Array {
  checkTag(tag);
  return pack(withOption([tag, encodeEntryStream(entries)], option));
}

/** CompressedPackedForward mode: `[tag, bin(gzip(<<[time, record]>>*)), {compressed: "gzip", ...}]`. */
export function encodeCompressedPackedForward(
  tag: string,
  entries: readonly Entry[],
  option?: Option,
): Uint8Array {
  checkTag(tag);
  const gz = new Uint8Array(gzipSync(encodeEntryStream(entries)));
  return pack([tag, gz, { ...option, compressed: "gzip" }]);
}

/** The server's answer to a message carrying `chunk`. */
export function encodeAck(chunk: string): Uint8Array {
  return pack({ ack: chunk });
}

function describe(v: unknown): string {
  if (v instanceof Uint8Array) return `bin(${v.byteLength})`;
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function checkTime(t: unknown, where: string): Time {
  if (isEventTime(t)) return t;
  if (typeof t === "number" && Number.isFinite(t)) return t;
  if (typeof t === "bigint") return Number(t);
  throw new ProtocolError(`${where}: expected an integer time or EventTime, got ${describe(t)}`);
}

function checkRecord(r: unknown, where: string): EventRecord {
  if (typeof r !== "object" || r === null || Array.isArray(r) || r instanceof Uint8Array) {
    throw new ProtocolError(`${where}: expected a record map, got ${describe(r)}`);
  }
  return r as EventRecord;
}

function checkOption(o: unknown, where: string): Option | undefined {
  if (o === undefined || o === null) return undefined;
  if (typeof o !== "object" || Array.isArray(o)) {
    throw new ProtocolError(`${where}: expected an option map, got ${describe(o)}`);
  }
  return o as Option;
}

function entryOf(e: unknown, where: string): Entry {
  if (!Array.isArray(e) || e.length < 2) {
    throw new ProtocolError(`${where}: expected [time, record], got ${describe(e)}`);
  }
  return [checkTime(e[0], `${where}[0]`), checkRecord(e[1], `${where}[1]`)];
}

function unpackEntries(bytes: Uint8Array, where: string): Entry[] {
  const out: Entry[] = [];
  let i = 0;
  try {
    for (const e of newDecoder().decodeMulti(bytes)) out.push(entryOf(e, `${where}[${i++}]`));
  } catch (e) {
    if (e instanceof ProtocolError) throw e;
    throw new ProtocolError(`${where}: cannot decode packed entries: ${(e as Error).message}`);
  }
  return out;
}

/**
 * Classifies one decoded top-level msgpack value as a forward message (the mode is read from the
 * 2nd element, as fluentd does). `null` (a heartbeat) gives undefined. Anything else throws ProtocolError.
 */
export function decodeForwardMessage(value: unknown): Decoded | undefined {
  if (value === null || value === undefined) return undefined;
  if (!Array.isArray(value) || value.length < 2) {
    throw new ProtocolError(`Forward message: expected [tag, ...], got ${describe(value)}`);
  }
  const tag = value[0];
  if (typeof tag !== "string") {
    throw new ProtocolError(`Forward message: tag must be a string, got ${describe(tag)}`);
  }
  const second = value[1];
  if (Array.isArray(second)) {
    const option = checkOption(value[2], "Forward option");
    return {
      mode: "Forward",
      tag,
      entries: second.map((e, i) => entryOf(e, `Forward entries[${i}]`)),
      option,
    };
  }
  if (typeof second === "string") {
    // A msgpack stream is never valid UTF-8 (array headers are continuation bytes), so a str payload
    // has already been mangled by the UTF-8 decode: say so instead of guessing.
    throw new ProtocolError(
      `PackedForward: entries sent as str (${second.length} chars) are not supported; send bin`,
    );
  }
  if (second instanceof Uint8Array) {
    const option = checkOption(value[2], "PackedForward option");
    let bytes = second;
    const compressed: unknown = option?.compressed;
    // fluentd reads "text" (what npm:fluent-logger sends for PackedForward) as uncompressed.
    if (compressed !== undefined && compressed !== "text") {
      if (compressed !== "gzip") {
        throw new ProtocolError(`CompressedPackedForward: unknown compression ${describe(compressed)}`);
      }
      try {
        // gunzipSync reads concatenated gzip members, as the protocol allows.
        bytes = new Uint8Array(gunzipSync(bytes));
      } catch (e) {
        throw new ProtocolError(`CompressedPackedForward: cannot gunzip: ${(e as Error).message}`);
      }
      return {
        mode: "CompressedPackedForward",
        tag,
        entries: unpackEntries(bytes, "CompressedPackedForward entries"),
        option,
      };
    }
    return { mode: "PackedForward", tag, entries: unpackEntries(bytes, "PackedForward entries"), option };
  }
  if (value.length >= 3) {
    const time = checkTime(second, "Message time");
    const record = checkRecord(value[2], "Message record");
    return {
      mode: "Message",
      tag,
      entries: [[time, record]],
      option: checkOption(value[3], "Message option"),
    };
  }
  throw new ProtocolError(`Forward message: cannot tell the mode of ${describe(value)}`);
}

/** Decodes every top-level msgpack value in `bytes` (a whole capture, for tests and tools). */
export function decodeAll(bytes: Uint8Array): unknown[] {
  return [...newDecoder().decodeMulti(bytes)];
}

/** The chunk id of an ack reply, or undefined when `value` is not one. */
export function ackOf(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const ack = (value as EventRecord).ack;
  return typeof ack === "string" ? ack : undefined;
}

type SizeKind = "bytes" | "items" | "pairs" | "ext" | "fixed";
/** Per type byte 0xc4..0xdf: [header bytes after the type byte, bytes of its size field, what the size counts]. */
const LENGTH_SPEC: ([number, number, SizeKind] | undefined)[] = (() => {
  const t: ([number, number, SizeKind] | undefined)[] = new Array(256);
  const set = (byte: number, v: [number, number, SizeKind]) => t[byte] = v;
  [[0xc4, 1], [0xc5, 2], [0xc6, 4], [0xd9, 1], [0xda, 2], [0xdb, 4]].forEach(([b, n]) =>
    set(b, [n, n, "bytes"])
  );
  [[0xc7, 1], [0xc8, 2], [0xc9, 4]].forEach(([b, n]) => set(b, [n + 1, n, "ext"]));
  [[0xca, 4], [0xcb, 8], [0xcc, 1], [0xcd, 2], [0xce, 4], [0xcf, 8], [0xd0, 1], [0xd1, 2], [0xd2, 4], [
    0xd3,
    8,
  ]]
    .forEach(([b, n]) => set(b, [n, 0, "fixed"]));
  [[0xd4, 2], [0xd5, 3], [0xd6, 5], [0xd7, 9], [0xd8, 17]].forEach(([b, n]) => set(b, [n, 0, "fixed"]));
  set(0xdc, [2, 2, "items"]);
  set(0xdd, [4, 4, "items"]);
  set(0xde, [2, 2, "pairs"]);
  set(0xdf, [4, 4, "pairs"]);
  return t;
})();

/**
 * The byte length of the complete msgpack value at `offset`, or undefined while it is incomplete. Walks the
 * headers only (string and binary payloads are skipped). `end` is where the received bytes end.
 */
export function messageLength(b: Uint8Array, offset = 0, end = b.length): number | undefined {
  const stop = messageScanner(offset).scan(b, end);
  return stop === undefined ? undefined : stop - offset;
}

/**
 * Finds where a msgpack value ends as its bytes arrive, resuming where it stopped: a receiver decodes each
 * message once, when whole, instead of re-decoding (or re-scanning) a large message at every chunk.
 */
export function messageScanner(offset = 0) {
  let pos = offset;
  let pending = 1;
  return {
    /** The offset just past the value when `b[..end]` holds all of it; undefined while it does not. */
    scan(b: Uint8Array, end: number): number | undefined {
      while (pending > 0) {
        if (pos >= end) return undefined;
        const t = b[pos];
        let head = 1;
        let body = 0;
        let items = 0;
        if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) { /* one byte */ }
        else if (t <= 0x8f) items = 2 * (t & 0x0f);
        else if (t <= 0x9f) items = t & 0x0f;
        else if (t <= 0xbf) body = t & 0x1f;
        else {
          const s = LENGTH_SPEC[t];
          if (!s) throw new ProtocolError(`Invalid msgpack type byte 0x${t.toString(16)} at offset ${pos}`);
          const [extra, sizeBytes, kind] = s;
          if (pos + 1 + extra > end) return undefined; // the header itself is not all here yet
          head = 1 + extra;
          let n = 0;
          for (let i = 1; i <= sizeBytes; i++) n = n * 256 + b[pos + i];
          if (kind === "bytes" || kind === "ext") body = n;
          else if (kind === "items") items = n;
          else if (kind === "pairs") items = 2 * n;
        }
        pos += head + body;
        pending += items - 1;
      }
      return pos <= end ? pos : undefined;
    },
    /** The buffer moved its bytes by `delta` (compaction): follow them. */
    shift(delta: number): void {
      pos += delta;
    },
  };
}

/**
 * The msgpack values a byte stream carries, each decoded once it is whole (messageScanner), so a large message
 * arriving in many chunks is not re-decoded from its start at every chunk. The fake AMA reads its forward messages
 * through it (the agent's sender finds its acks with ackScanner).
 */
export async function* messages(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<unknown> {
  const decoder = newDecoder();
  let buf = new Uint8Array(1 << 16);
  let start = 0;
  let used = 0;
  let scanner = messageScanner(0);
  for await (const chunk of chunks) {
    if (used + chunk.length > buf.length) {
      // Drop what was consumed; grow (doubling) only when the unconsumed rest needs it.
      const rest = used - start;
      if (rest + chunk.length > buf.length) {
        const next = new Uint8Array(Math.max(buf.length * 2, rest + chunk.length));
        next.set(buf.subarray(start, used));
        buf = next;
      } else buf.copyWithin(0, start, used);
      scanner.shift(-start);
      used = rest;
      start = 0;
    }
    buf.set(chunk, used);
    used += chunk.length;
    while (start < used) {
      const stop = scanner.scan(buf, used);
      if (stop === undefined) break;
      yield decoder.decode(buf.subarray(start, stop));
      start = stop;
      scanner = messageScanner(start);
    }
    if (start === used) {
      start = used = 0;
      scanner = messageScanner(0);
    }
  }
}
