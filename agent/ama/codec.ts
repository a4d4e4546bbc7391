// The Fluentd forward protocol v1 as bytes: Message, Forward, PackedForward, CompressedPackedForward, EventTime, acks.
import { Decoder, Encoder, ExtensionCodec } from "@msgpack/msgpack";
import { gunzipSync, gzipSync } from "node:zlib";
import { randomBytes } from "node:crypto";

/** Fluentd EventTime (msgpack ext type 0): seconds and nanoseconds since the epoch. */
export interface EventTime {
  readonly sec: number;
  readonly nsec: number;
}

const EVENT_TIME = Symbol("EventTime");

/** An EventTime value the encoder writes as ext type 0 (fixext8 `D7 00`, u32be sec, u32be nsec). */
export function eventTime(sec: number, nsec = 0): EventTime {
  if (!Number.isInteger(sec) || sec < 0 || sec > 0xffff_ffff) {
    throw new RangeError(`EventTime seconds must be an integer in 0..2^32-1, got ${sec}`);
  }
  if (!Number.isInteger(nsec) || nsec < 0 || nsec > 999_999_999) {
    throw new RangeError(`EventTime nanoseconds must be an integer in 0..999999999, got ${nsec}`);
  }
  // The brand is not enumerable: an EventTime compares and prints as plain {sec, nsec}.
  return Object.freeze(Object.defineProperty({ sec, nsec }, EVENT_TIME, { value: true }));
}

export function isEventTime(v: unknown): v is EventTime {
  return typeof v === "object" && v !== null && (v as Record<symbol, unknown>)[EVENT_TIME] === true;
}

/** The EventTime of an epoch-milliseconds instant. */
export function eventTimeFromMs(ms: number): EventTime {
  const sec = Math.floor(ms / 1000);
  return eventTime(sec, Math.round((ms - sec * 1000) * 1_000_000));
}

/** A time on the wire: integer seconds or an EventTime. */
export type Time = number | EventTime;

/** Epoch milliseconds of a wire time (nanoseconds beyond ms are dropped). */
export function timeToMs(t: Time): number {
  return typeof t === "number" ? t * 1000 : t.sec * 1000 + Math.floor(t.nsec / 1_000_000);
}

export type EventRecord = { [key: string]: unknown };
export type Entry = [time: Time, record: EventRecord];

/** Options of a forward message (the 4th / 3rd element). */
export interface Option {
  /** Number of events in the message. */
  size?: number;
  /** base64 of a 128-bit id: the server must answer `{ack: chunk}`. */
  chunk?: string;
  /** "gzip" for CompressedPackedForward; "text" (npm:fluent-logger) means uncompressed. */
  compressed?: "gzip" | "text";
  [key: string]: unknown;
}

export type Mode = "Message" | "Forward" | "PackedForward" | "CompressedPackedForward";

/** What a server reads from one forward message. */
export interface Decoded {
  mode: Mode;
  tag: string;
  entries: Entry[];
  option?: Option;
}

export class ProtocolError extends Error {
  override name = "ProtocolError";
}

const codec = new ExtensionCodec();
codec.register({
  type: 0,
  encode: (v: unknown) => {
    if (!isEventTime(v)) return null;
    const b = new Uint8Array(8);
    const view = new DataView(b.buffer);
    view.setUint32(0, v.sec);
    view.setUint32(4, v.nsec);
    return b;
  },
  decode: (data: Uint8Array) => {
    if (data.byteLength !== 8) {
      throw new ProtocolError(`EventTime (ext type 0) must be 8 bytes, got ${data.byteLength}`);
    }
    const view = new DataView(data.buffer, data.byteOffset, 8);
    return eventTime(view.getUint32(0), view.getUint32(4));
  },
});

/** The extension codec that knows EventTime, for callers that decode msgpack themselves. */
export const extensionCodec = codec;

// One shared encoder: encodeSharedRef would hand out its buffer, so `encode` (a copy) is used throughout.
const encoder = new Encoder({ extensionCodec: codec, ignoreUndefined: true });
const pack = (v: unknown): Uint8Array => encoder.encode(v);

/** A decoder with limits that fit a forward receiver (AMA's own limits: 10 MiB strings, 10 M items). */
export function newDecoder(): Decoder {
  return new Decoder({
    extensionCodec: codec,
    maxStrLength: 10_485_760,
    maxBinLength: 256 * 1024 * 1024,
    maxArrayLength: 10_485_760,
    maxMapLength: 10_485_760,
  });
}

function checkTag(tag: string): void {
  if (typeof tag !== "string" || tag === "") throw new TypeError(`Forward tag must be a non-empty string`);
}

function withOption(parts: unknown[], option?: Option): unknown[] {
  if (option && Object.keys(option).length) parts.push(option);
  return parts;
}

/** Message mode: `[tag, time, record, option?]`. */
export function encodeMessage(tag: string, time: Time, record: EventRecord, option?: Option): Uint8Array {
  checkTag(tag);
  return pack(withOption([tag, time, record], option));
}

/** Forward mode: `[tag, [[time, record], ...], option?]` (what AMA reads on its data sockets). */
export function encodeForward(tag: string, entries: readonly Entry[], option?: Option): Uint8Array {
  checkTag(tag);
  return pack(withOption([tag, entries], option));
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

/** The chunk id of an ack reply, or undefined when `value` is not one. */
export function ackOf(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const ack = (value as EventRecord).ack;
  return typeof ack === "string" ? ack : undefined;
}

/** A fresh chunk id: base64 of 128 random bits. */
export function newChunkId(): string {
  return randomBytes(16).toString("base64");
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
