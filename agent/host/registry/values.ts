// Registry value types and how their data is rendered into the ValueType / ValueData columns.
//
// ValueType is the Win32 name (REG_SZ, REG_DWORD, ...), as `reg query` prints it; an unknown type is
// REG_UNKNOWN_0x<hex>. ValueData is exact, with one rendering per type:
//   REG_SZ, REG_EXPAND_SZ, REG_LINK  the UTF-16LE text up to its first NUL (what Windows APIs and regedit show);
//                                    EXPAND_SZ is not expanded
//   REG_MULTI_SZ                     the strings joined with "\n" (the terminating empty string dropped)
//   REG_DWORD, REG_DWORD_BIG_ENDIAN, REG_QWORD   unsigned decimal
//   REG_BINARY, REG_NONE, resource types, unknown types   lowercase hex, two digits a byte, no separators
// Data that does not fit its type (a 3-byte DWORD, an odd-length string, a lone UTF-16 surrogate) is rendered
// as hex with the type name still saying what the key claims, so a change to it is still seen exactly.

export const REG_NONE = 0;
export const REG_SZ = 1;
export const REG_EXPAND_SZ = 2;
export const REG_BINARY = 3;
export const REG_DWORD = 4;
export const REG_DWORD_BIG_ENDIAN = 5;
export const REG_LINK = 6;
export const REG_MULTI_SZ = 7;
export const REG_RESOURCE_LIST = 8;
export const REG_FULL_RESOURCE_DESCRIPTOR = 9;
export const REG_RESOURCE_REQUIREMENTS_LIST = 10;
export const REG_QWORD = 11;

const NAMES: Record<number, string> = {
  [REG_NONE]: "REG_NONE",
  [REG_SZ]: "REG_SZ",
  [REG_EXPAND_SZ]: "REG_EXPAND_SZ",
  [REG_BINARY]: "REG_BINARY",
  [REG_DWORD]: "REG_DWORD",
  [REG_DWORD_BIG_ENDIAN]: "REG_DWORD_BIG_ENDIAN",
  [REG_LINK]: "REG_LINK",
  [REG_MULTI_SZ]: "REG_MULTI_SZ",
  [REG_RESOURCE_LIST]: "REG_RESOURCE_LIST",
  [REG_FULL_RESOURCE_DESCRIPTOR]: "REG_FULL_RESOURCE_DESCRIPTOR",
  [REG_RESOURCE_REQUIREMENTS_LIST]: "REG_RESOURCE_REQUIREMENTS_LIST",
  [REG_QWORD]: "REG_QWORD",
};

export function valueTypeName(type: number): string {
  return NAMES[type] ?? `REG_UNKNOWN_0x${(type >>> 0).toString(16)}`;
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

export function hex(data: Uint8Array): string {
  let out = "";
  for (let i = 0; i < data.length; i++) out += HEX[data[i]];
  return out;
}

/**
 * UTF-16LE code units as they are, a lone surrogate kept (a TextDecoder makes every one U+FFFD, so two
 * different damaged strings would read the same). An odd last byte is left out.
 */
function rawText(data: Uint8Array): string {
  const units = data.byteOffset % 2
    ? new Uint16Array(data.slice(0, data.length & ~1).buffer)
    : new Uint16Array(data.buffer, data.byteOffset, data.length >> 1);
  let out = "";
  for (let i = 0; i < units.length; i += 8192) {
    out += String.fromCharCode.apply(null, units.subarray(i, i + 8192) as unknown as number[]);
  }
  return out;
}

function upToNul(s: string): string {
  const nul = s.indexOf("\0");
  return nul < 0 ? s : s.slice(0, nul);
}

function multiParts(s: string): string[] {
  const parts = s.split("\0");
  while (parts.length && parts[parts.length - 1] === "") parts.pop();
  return parts;
}

/** REG_SZ-like data → its text up to the first NUL (a lone surrogate read as U+FFFD). */
export function decodeString(data: Uint8Array): string {
  return upToNul(rawText(data)).toWellFormed();
}

/** REG_MULTI_SZ data → its strings (empty strings between others kept; the terminator dropped). */
export function decodeMultiString(data: Uint8Array): string[] {
  return multiParts(rawText(data)).map((p) => p.toWellFormed());
}

/** The ValueType and ValueData columns for one value. */
export function renderValue(type: number, data: Uint8Array): { ValueType: string; ValueData: string } {
  const ValueType = valueTypeName(type);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const even = data.length % 2 === 0;
  switch (type) {
    case REG_SZ:
    case REG_EXPAND_SZ:
    case REG_LINK:
    case REG_MULTI_SZ: {
      // Text only when it is text: odd-length data or a lone surrogate shows as hex, so it stays exact.
      if (!even) return { ValueType, ValueData: hex(data) };
      const raw = rawText(data);
      const t = type === REG_MULTI_SZ ? multiParts(raw).join("\n") : upToNul(raw);
      return { ValueType, ValueData: t.isWellFormed() ? t : hex(data) };
    }
    case REG_DWORD:
      return { ValueType, ValueData: data.length === 4 ? String(view.getUint32(0, true)) : hex(data) };
    case REG_DWORD_BIG_ENDIAN:
      return { ValueType, ValueData: data.length === 4 ? String(view.getUint32(0, false)) : hex(data) };
    case REG_QWORD:
      return { ValueType, ValueData: data.length === 8 ? String(view.getBigUint64(0, true)) : hex(data) };
    default:
      return { ValueType, ValueData: hex(data) };
  }
}

/** A typed value's data as a number, for collectors reading DWORD settings (Start, SystemComponent, ...). */
export function valueNumber(type: number, data: Uint8Array): number | null {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (type === REG_DWORD && data.length === 4) return view.getUint32(0, true);
  if (type === REG_DWORD_BIG_ENDIAN && data.length === 4) return view.getUint32(0, false);
  if (type === REG_QWORD && data.length === 8) return Number(view.getBigUint64(0, true));
  if ((type === REG_SZ || type === REG_EXPAND_SZ) && even(data)) {
    const s = decodeString(data).trim();
    return /^(0x[0-9a-f]+|\d+)$/i.test(s) ? Number(s) : null;
  }
  return null;
}

function even(data: Uint8Array) {
  return data.length % 2 === 0;
}

/** A typed value's data as text, for collectors reading string settings (DisplayName, ImagePath, ...). */
export function valueText(type: number, data: Uint8Array): string | null {
  if (type === REG_SZ || type === REG_EXPAND_SZ || type === REG_LINK) {
    return even(data) ? decodeString(data) : null;
  }
  if (type === REG_MULTI_SZ) return even(data) ? decodeMultiString(data).join("\n") : null;
  const n = valueNumber(type, data);
  return n === null ? null : String(n);
}
