import assert from "node:assert/strict";
import { child, childText, parseXml } from "./xml.ts";

Deno.test("parseXml() reads elements, attributes, text with entities, CDATA, and drops namespace prefixes", () => {
  const root = parseXml(
    `\ufeff<?xml version="1.0" encoding="UTF-16"?>\n<!-- c -->\n<t:Task xmlns:t="urn:x" version='1.2'>` +
      `<A k="a&amp;b &#x41;&#66;">x &lt; y</A><B/><C><![CDATA[<raw> & ]]></C></t:Task>\n`,
  );
  assert.equal(root.name, "Task");
  assert.equal(root.attrs.version, "1.2");
  assert.deepEqual(child(root, "A")?.attrs, Object.assign(Object.create(null), { k: "a&b AB" }));
  assert.equal(childText(root, "A"), "x < y");
  assert.equal(childText(root, "B"), "");
  assert.equal(child(root, "C")?.text, "<raw> & ");
  assert.equal(childText(root, "D"), null);
});

Deno.test("parseXml() refuses what is not well-formed, naming the line", () => {
  for (
    const [xml, why] of [
      ["<a><b></a>", /line 1: unexpected end tag/],
      ["<a>\n<b>", /<b> is never closed/],
      ["<a>&nbsp;</a>", /unknown entity &nbsp;/],
      ["<a>&constructor;</a>", /a & that starts no reference/],
      ["<a>&toString;</a>", /unknown entity &toString;/],
      ["<a>a & b</a>", /a & that starts no reference/],
      ["<a x=1/>", /without a quoted value/],
      ["<a/><b/>", /a second root element/],
      ['<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>', /DOCTYPE with declarations/],
      ["text", /text outside the root element/],
      ["", /no element/],
      ["<a><!-- open", /a comment never ends/],
    ] as const
  ) {
    assert.throws(() => parseXml(xml), why, xml);
  }
});

Deno.test("parseXml() stops at a depth limit, and reads wide documents", () => {
  assert.throws(() => parseXml("<a>".repeat(100) + "</a>".repeat(100)), /nested deeper than 64/);
  const big = parseXml(`<r>${"<i a='1'>x &amp; y</i>".repeat(100_000)}</r>`);
  assert.equal(big.children.length, 100_000);
  assert.equal(big.children[99_999].text, "x & y");
});
