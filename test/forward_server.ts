// The Fluentd forward protocol's server side, for the fake AMA and tests: every message mode decoded (Message,
// Forward, PackedForward, CompressedPackedForward), acks written, and the modes ctagent itself never sends.
import { Encoder } from "@msgpack/msgpack";
import { gunzipSync, gzipSync } from "node:zlib";
import {
  type Entry,
  type EventRecord,
  extensionCodec,
  isEventTime,
  newDecoder,
  type Option,
  ProtocolError,
  type Time,
} from "../agent/ama/codec.ts";

const encoder = new Encoder({ extensionCodec, ignoreUndefined: true });
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
