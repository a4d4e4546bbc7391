import assert from "node:assert/strict";
import { decodeMultiString, renderValue, valueNumber, valueTypeName } from "./values.ts";

const utf16 = (s: string) => {
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    out[i * 2] = s.charCodeAt(i) & 0xff, out[i * 2 + 1] = s.charCodeAt(i) >> 8;
  }
  return out;
};

Deno.test("renderValue() renders each type's data exactly", () => {
  assert.deepEqual(renderValue(1, utf16("héllo ☃\0")), { ValueType: "REG_SZ", ValueData: "héllo ☃" });
  assert.deepEqual(renderValue(2, utf16("%SystemRoot%\\x\0")), {
    ValueType: "REG_EXPAND_SZ",
    ValueData: "%SystemRoot%\\x",
  });
  assert.deepEqual(renderValue(7, utf16("one\0\0three\0\0")), {
    ValueType: "REG_MULTI_SZ",
    ValueData: "one\n\nthree",
  });
  assert.deepEqual(renderValue(4, Uint8Array.of(0xfe, 0xff, 0xff, 0xff)), {
    ValueType: "REG_DWORD",
    ValueData: "4294967294",
  });
  assert.deepEqual(renderValue(5, Uint8Array.of(0x12, 0x34, 0x56, 0x78)), {
    ValueType: "REG_DWORD_BIG_ENDIAN",
    ValueData: String(0x12345678),
  });
  assert.deepEqual(renderValue(11, Uint8Array.of(0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01)), {
    ValueType: "REG_QWORD",
    ValueData: "81985529216486895",
  });
  assert.deepEqual(renderValue(3, Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 0, 1)), {
    ValueType: "REG_BINARY",
    ValueData: "deadbeef0001",
  });
  assert.deepEqual(renderValue(0, new Uint8Array()), { ValueType: "REG_NONE", ValueData: "" });
  assert.deepEqual(renderValue(6, utf16("\\Registry\\Machine\\X")), {
    ValueType: "REG_LINK",
    ValueData: "\\Registry\\Machine\\X",
  });
  assert.deepEqual(renderValue(8, Uint8Array.of(1, 2)), {
    ValueType: "REG_RESOURCE_LIST",
    ValueData: "0102",
  });
  assert.deepEqual(renderValue(10, Uint8Array.of(0xff)), {
    ValueType: "REG_RESOURCE_REQUIREMENTS_LIST",
    ValueData: "ff",
  });
});

Deno.test("renderValue() shows data that does not fit its type as hex, keeping the claimed type", () => {
  assert.deepEqual(renderValue(4, Uint8Array.of(1, 2, 3)), { ValueType: "REG_DWORD", ValueData: "010203" });
  assert.deepEqual(renderValue(1, Uint8Array.of(0x41, 0, 0x42)), {
    ValueType: "REG_SZ",
    ValueData: "410042",
  });
  assert.deepEqual(renderValue(0x20, Uint8Array.of(9)), { ValueType: "REG_UNKNOWN_0x20", ValueData: "09" });
  assert.equal(valueTypeName(0xffff0001), "REG_UNKNOWN_0xffff0001");
});

Deno.test("decodeMultiString() and valueNumber() read what collectors need", () => {
  assert.deepEqual(decodeMultiString(utf16("RPCSS\0http\0\0")), ["RPCSS", "http"]);
  assert.deepEqual(decodeMultiString(new Uint8Array()), []);
  assert.equal(valueNumber(4, Uint8Array.of(2, 0, 0, 0)), 2);
  assert.equal(valueNumber(1, utf16("0x10\0")), 16);
  assert.equal(valueNumber(1, utf16("ten\0")), null);
});

Deno.test("renderValue() shows a string with a lone UTF-16 surrogate as hex, so two such strings never compare equal", () => {
  // "a" + lone high surrogate + "b", and "a" + another lone high surrogate + "b": both would decode to "a\ufffdb".
  const one = Uint8Array.of(0x61, 0, 0x00, 0xd8, 0x62, 0, 0, 0);
  const two = Uint8Array.of(0x61, 0, 0x01, 0xd8, 0x62, 0, 0, 0);
  assert.deepEqual(renderValue(1, one), { ValueType: "REG_SZ", ValueData: "610000d862000000" });
  assert.deepEqual(renderValue(2, two), { ValueType: "REG_EXPAND_SZ", ValueData: "610001d862000000" });
  // A lone low surrogate, and one in a MULTI_SZ.
  assert.equal(renderValue(1, Uint8Array.of(0x00, 0xdc, 0, 0)).ValueData, "00dc0000");
  assert.equal(
    renderValue(7, Uint8Array.of(0x61, 0, 0, 0, 0x00, 0xdc, 0, 0, 0, 0)).ValueData,
    "6100000000dc00000000",
  );
  // A proper pair (U+1F600) is text; what follows the first NUL does not matter to the text.
  assert.equal(renderValue(1, Uint8Array.of(0x3d, 0xd8, 0x00, 0xde, 0, 0, 0x00, 0xd8)).ValueData, "😀");
});
