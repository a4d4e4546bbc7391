// ctagent's side of the Fluentd forward protocol v1 as bytes: Forward mode messages with EventTime, chunk ids,
// and the acks that come back. (The server's side, its stream decoder, and the modes ctagent never sends, are
// the fake AMA's: test/forward_server.ts.)
import { Encoder, ExtensionCodec } from "@msgpack/msgpack";
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

function checkTag(tag: string): void {
  if (typeof tag !== "string" || tag === "") throw new TypeError(`Forward tag must be a non-empty string`);
}

/** Forward mode: `[tag, [[time, record], ...], option?]` (what AMA reads on its data sockets). */
export function encodeForward(tag: string, entries: readonly Entry[], option?: Option): Uint8Array {
  return forward(tag, entries, option, (w, record) => w.record(record));
}

/**
 * Forward mode from records held as JSON text (the outbox's form): the JSON of a flat string map is turned
 * into msgpack directly, without building the object; any other JSON goes through JSON.parse. Same bytes as
 * `encodeForward(tag, entries parsed)`.
 */
export function encodeForwardJson(
  tag: string,
  entries: readonly (readonly [time: Time, json: string])[],
  option?: Option,
): Uint8Array {
  return forward(tag, entries, option, (w, json) => {
    if (!w.jsonRecord(json)) w.record(JSON.parse(json));
  });
}

function forward<R>(
  tag: string,
  entries: readonly (readonly [Time, R])[],
  option: Option | undefined,
  record: (w: Writer, r: R) => void,
): Uint8Array {
  checkTag(tag);
  // The hot path of delivery: a direct writer, byte-identical to the generic encoder (pinned by tests).
  const w = writer(64 + entries.length * 512);
  const hasOption = !!option && Object.keys(option).length > 0;
  w.array(hasOption ? 3 : 2);
  w.str(tag);
  w.array(entries.length);
  for (const [time, r] of entries) {
    w.array(2);
    if (typeof time === "number" && Number.isInteger(time) && time >= 0) w.uint(time);
    else if (isEventTime(time)) w.eventTime(time);
    else w.raw(pack(time));
    record(w, r);
  }
  if (hasOption) w.raw(pack(option));
  return w.done();
}

type Writer = ReturnType<typeof writer>;

const utf8 = new TextEncoder();

/** UTF-8 of `s` into `buf` at `at` (room for 3 bytes a UTF-16 unit is there); returns the bytes written. */
function utf8Short(s: string, buf: Uint8Array, at: number): number {
  let p = at;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[p++] = c;
    } else if (c < 0x800) {
      buf[p++] = 0xc0 | (c >> 6);
      buf[p++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          buf[p++] = 0xf0 | (c >> 18);
          buf[p++] = 0x80 | ((c >> 12) & 0x3f);
          buf[p++] = 0x80 | ((c >> 6) & 0x3f);
          buf[p++] = 0x80 | (c & 0x3f);
          continue;
        }
      }
      // A lone surrogate becomes U+FFFD, as TextEncoder writes it.
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
      buf[p++] = 0xe0 | (c >> 12);
      buf[p++] = 0x80 | ((c >> 6) & 0x3f);
      buf[p++] = 0x80 | (c & 0x3f);
    }
  }
  return p - at;
}

/** A growing msgpack writer for the few shapes forward messages are made of; anything else via `pack`. */
function writer(initial: number) {
  let buf = new Uint8Array(initial);
  let view = new DataView(buf.buffer);
  let pos = 0;
  const ensure = (n: number) => {
    if (pos + n <= buf.length) return;
    let size = buf.length * 2;
    while (size < pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(buf.subarray(0, pos));
    buf = next;
    view = new DataView(buf.buffer);
  };
  const strHeaderSize = (n: number) => n < 32 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
  const writeStrHeader = (at: number, n: number) => {
    if (n < 32) buf[at] = 0xa0 | n;
    else if (n < 0x100) (buf[at] = 0xd9), (buf[at + 1] = n);
    else if (n < 0x10000) (buf[at] = 0xda), view.setUint16(at + 1, n);
    else (buf[at] = 0xdb), view.setUint32(at + 1, n);
  };
  const header = (n: number, fix: number, b16: number, b32: number) => {
    ensure(5);
    if (n < 16) buf[pos++] = fix | n;
    else if (n < 0x10000) (buf[pos] = b16), view.setUint16(pos + 1, n), (pos += 3);
    else (buf[pos] = b32), view.setUint32(pos + 1, n), (pos += 5);
  };
  const hex = (c: number) =>
    c >= 0x30 && c <= 0x39
      ? c - 0x30
      : c >= 0x61 && c <= 0x66
      ? c - 87
      : c >= 0x41 && c <= 0x46
      ? c - 55
      : -1;
  const unit = (json: string, at: number) => {
    let u = 0;
    for (let k = at; k < at + 4; k++) {
      const h = hex(json.charCodeAt(k));
      if (h < 0) return -1;
      u = u * 16 + h;
    }
    return u;
  };
  /**
   * Writes the JSON string starting at `from` (just after its opening quote) as a msgpack str; returns the
   * index after its closing quote, or -1 when it is not well formed.
   */
  const jsonStr = (json: string, from: number): number => {
    // The end and the UTF-16 length first, to size the header (exact for text without escapes or non-ASCII).
    let end = from;
    while (end < json.length) {
      const c = json.charCodeAt(end);
      if (c === 0x22) break;
      end += c === 0x5c ? 2 : 1;
    }
    if (end >= json.length) return -1;
    const guess = strHeaderSize(end - from);
    const at = pos + guess;
    const b = buf; // a local: the loop below is the hot spot of delivery
    let p = at;
    for (let i = from; i < end; i++) {
      let c = json.charCodeAt(i);
      if (c === 0x5c) {
        const e = json.charCodeAt(++i);
        if (e === 0x75 /* u */) {
          c = unit(json, i + 1);
          if (c < 0) return -1;
          i += 4;
          if (
            c >= 0xd800 && c <= 0xdbff && json.charCodeAt(i + 1) === 0x5c && json.charCodeAt(i + 2) === 0x75
          ) {
            const d = unit(json, i + 3);
            if (d >= 0xdc00 && d <= 0xdfff) {
              c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
              i += 6;
            }
          }
        } else {
          c = e === 0x6e
            ? 0x0a
            : e === 0x74
            ? 0x09
            : e === 0x72
            ? 0x0d
            : e === 0x62
            ? 0x08
            : e === 0x66
            ? 0x0c
            : e === 0x22 || e === 0x5c || e === 0x2f
            ? e
            : -1;
          if (c < 0) return -1;
        }
      } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
        const d = json.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
        }
      }
      if (c < 0x80) b[p++] = c;
      else if (c < 0x800) (b[p++] = 0xc0 | (c >> 6)), (b[p++] = 0x80 | (c & 0x3f));
      else if (c >= 0x10000) {
        b[p++] = 0xf0 | (c >> 18);
        b[p++] = 0x80 | ((c >> 12) & 0x3f);
        b[p++] = 0x80 | ((c >> 6) & 0x3f);
        b[p++] = 0x80 | (c & 0x3f);
      } else {
        if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // a lone surrogate, as TextEncoder writes it
        b[p++] = 0xe0 | (c >> 12);
        b[p++] = 0x80 | ((c >> 6) & 0x3f);
        b[p++] = 0x80 | (c & 0x3f);
      }
    }
    const written = p - at;
    const size = strHeaderSize(written);
    if (size !== guess) buf.copyWithin(pos + size, at, p);
    writeStrHeader(pos, written);
    pos += size + written;
    return end + 1;
  };
  const w = {
    array: (n: number) => header(n, 0x90, 0xdc, 0xdd),
    map: (n: number) => header(n, 0x80, 0xde, 0xdf),
    str(s: string) {
      // Written after a header sized for the ASCII length; moved in the rare case the UTF-8 length needs another.
      ensure(5 + s.length * 3);
      const guess = strHeaderSize(s.length);
      const start = pos + guess;
      // Short strings in JS: a TextEncoder call per string costs more than the loop (28 strings a record).
      const written = s.length > 128
        ? utf8.encodeInto(s, buf.subarray(start)).written
        : utf8Short(s, buf, start);
      const size = strHeaderSize(written);
      if (size !== guess) buf.copyWithin(pos + size, start, start + written);
      writeStrHeader(pos, written);
      pos += size + written;
    },
    uint(n: number) {
      ensure(9);
      if (n < 0x80) buf[pos++] = n;
      else if (n < 0x100) (buf[pos] = 0xcc), (buf[pos + 1] = n), (pos += 2);
      else if (n < 0x10000) (buf[pos] = 0xcd), view.setUint16(pos + 1, n), (pos += 3);
      else if (n < 0x1_0000_0000) (buf[pos] = 0xce), view.setUint32(pos + 1, n), (pos += 5);
      else w.raw(pack(n));
    },
    eventTime(t: EventTime) {
      ensure(10);
      buf[pos] = 0xd7;
      buf[pos + 1] = 0x00;
      view.setUint32(pos + 2, t.sec);
      view.setUint32(pos + 6, t.nsec);
      pos += 10;
    },
    record(r: EventRecord) {
      const keys = Object.keys(r);
      let n = 0;
      for (const k of keys) if (r[k] !== undefined) n++;
      w.map(n);
      for (const k of keys) {
        const v = r[k];
        if (v === undefined) continue;
        w.str(k);
        if (typeof v === "string") w.str(v);
        else w.raw(pack(v));
      }
    },
    /**
     * Transcodes the JSON text of a flat map of strings (as JSON.stringify writes it: no whitespace) to a
     * msgpack map. Returns false, having written nothing, for any other JSON.
     */
    jsonRecord(json: string): boolean {
      const start = pos;
      const n = json.length;
      if (n < 2 || json.charCodeAt(0) !== 0x7b /* { */) return false;
      ensure(3 + n * 3);
      pos += 3; // room for a map16 header; a fixmap header is moved into place at the end
      let count = 0;
      let i = 1;
      if (json.charCodeAt(1) !== 0x7d /* } */) {
        while (true) {
          if (json.charCodeAt(i) !== 0x22) return (pos = start), false;
          i = jsonStr(json, i + 1);
          if (i < 0 || json.charCodeAt(i) !== 0x3a /* : */ || json.charCodeAt(i + 1) !== 0x22) {
            return (pos = start), false;
          }
          i = jsonStr(json, i + 2);
          if (i < 0) return (pos = start), false;
          count++;
          const c = json.charCodeAt(i);
          if (c === 0x2c /* , */) i++;
          else if (c === 0x7d) break;
          else return (pos = start), false;
        }
        i++;
      } else i = 2;
      if (i !== n) return (pos = start), false;
      if (count < 16) {
        buf[start] = 0x80 | count;
        buf.copyWithin(start + 1, start + 3, pos);
        pos -= 2;
      } else if (count < 0x10000) {
        buf[start] = 0xde;
        view.setUint16(start + 1, count);
      } else return (pos = start), false;
      return true;
    },
    raw(bytes: Uint8Array) {
      ensure(bytes.length);
      buf.set(bytes, pos);
      pos += bytes.length;
    },
    done: () => buf.slice(0, pos),
  };
  return w;
}

/** The key of an ack, `"ack"` as a msgpack fixstr. */
const ACK_KEY = [0xa3, 0x61, 0x63, 0x6b];
/** Chunk ids are 24 characters (base64 of 16 bytes); other peers' are short too. A longer value is no ack. */
const MAX_CHUNK = 255;

/**
 * Finds the acks (`{"ack": "<chunk>"}`) in the bytes a forward receiver sends back, by their key and value,
 * whatever else is around them: bytes that are no msgpack, values that are no ack. A stream decoder stops at
 * the first bad byte, and every batch after it would be sent again; this never loses an ack the peer sent.
 * `push` returns the chunk ids completed by these bytes, in order; `ignored` counts the bytes that were no ack.
 */
export function ackScanner(): { push(bytes: Uint8Array): string[]; ignored(): number } {
  let buf = new Uint8Array(0);
  let ignored = 0;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  return {
    push(bytes) {
      const all = new Uint8Array(buf.length + bytes.length);
      all.set(buf);
      all.set(bytes, buf.length);
      const found: string[] = [];
      let matched = 0;
      let i = 0;
      let keep = all.length; // where an ack may have begun but not ended
      scan: while (i < all.length) {
        if (all[i] !== ACK_KEY[0]) {
          i++;
          continue;
        }
        for (let k = 1; k < ACK_KEY.length; k++) {
          if (i + k >= all.length) {
            keep = i;
            break scan;
          }
          if (all[i + k] !== ACK_KEY[k]) {
            i++;
            continue scan;
          }
        }
        // The value: a str of any header size (fixstr, str8, str16, str32).
        const v = i + ACK_KEY.length;
        if (v >= all.length) {
          keep = i;
          break;
        }
        const t = all[v];
        const head = t >= 0xa0 && t <= 0xbf ? 1 : t === 0xd9 ? 2 : t === 0xda ? 3 : t === 0xdb ? 5 : 0;
        if (!head) {
          i++;
          continue;
        }
        if (v + head > all.length) {
          keep = i;
          break;
        }
        const len = head === 1
          ? t & 0x1f
          : head === 2
          ? all[v + 1]
          : head === 3
          ? (all[v + 1] << 8) | all[v + 2]
          : ((all[v + 1] << 24) | (all[v + 2] << 16) | (all[v + 3] << 8) | all[v + 4]) >>> 0;
        if (len === 0 || len > MAX_CHUNK) {
          i++;
          continue;
        }
        const end = v + head + len;
        if (end > all.length) {
          keep = i;
          break;
        }
        try {
          found.push(decoder.decode(all.subarray(v + head, end)));
        } catch {
          i++;
          continue;
        }
        // The ack, and the map header before its key (a fixmap) when this read holds it.
        matched += end - i + (i > 0 && (all[i - 1] & 0xf0) === 0x80 ? 1 : 0);
        i = end;
      }
      // Bytes before a possible start are done with: what of them was no ack is counted.
      const done = Math.min(i, keep);
      ignored += Math.max(0, done - matched);
      buf = all.slice(done);
      return found;
    },
    ignored: () => ignored,
  };
}

/** A fresh chunk id: base64 of 128 random bits. */
export function newChunkId(): string {
  return randomBytes(16).toString("base64");
}
